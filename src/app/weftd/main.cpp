// weftd: the weft mesh VPN daemon.
//   weftd -c DIR [-f] [-p PIDFILE] [-d LEVEL] [--check-config]
//
// As a service (scripts/init.d/weft, scripts/systemd/weft@.service):
// without -f it daemonises (double fork, setsid, chdir("/"), umask 027, the
// standard descriptors on /dev/null) and the first process exits only once
// start-up succeeded, with status 1 and the reason on stderr if it did not.
// Two daemons on one configuration are refused: the pidfile (-p) and the
// configuration directory are flock()ed for the daemon's life.
// Under systemd (-f, Type=notify) it sends READY=1 to $NOTIFY_SOCKET once
// started and STOPPING=1 as soon as it starts stopping (before the down
// hook and the state saves, which may take a while); the protocol is one datagram, so no
// library is needed.  The start and stop lines themselves are the daemon's
// ("weftd VERSION started: node ..., interface ...", "weftd stopped").
// On CPUs where OpenSSL 3.0 would seal packets with slower code, it first
// re-executes itself once with OPENSSL_ia32cap set (app/openssl_cpu.hpp).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "app/config.hpp"
#include "app/daemon.hpp"
#include "app/openssl_cpu.hpp"

namespace po = boost::program_options;

namespace {

// Holds the pidfile locked for the daemon's life: a second daemon on the
// same pidfile is refused instead of fighting over the interface.
class pidfile {
public:
    explicit pidfile(std::string path) : path_(std::move(path)) {
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd_ < 0) throw std::runtime_error("cannot open pidfile " + path_ + ": " + std::strerror(errno));
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            char buf[32] = {};
            ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
            ::close(fd_);
            fd_ = -1;
            std::string pid(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
            while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
            throw std::runtime_error("another weftd holds " + path_ +
                                     (pid.empty() ? std::string() : " (pid " + pid + ")"));
        }
    }
    void write_pid() {
        std::string pid = std::to_string(::getpid()) + "\n";
        if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
            throw std::runtime_error("cannot write pidfile " + path_);
    }
    ~pidfile() {
        if (fd_ >= 0) {
            ::unlink(path_.c_str());
            ::close(fd_);
        }
    }

private:
    std::string path_;
    int fd_ = -1;
};

// Holds an exclusive flock on the configuration directory for the daemon's
// life, so a second weftd on the same configuration is refused whatever its
// pidfile (or none, under systemd) before it touches the interface, the
// port, the state or the node list.
class config_lock {
public:
    explicit config_lock(const std::filesystem::path& dir) {
        fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd_ < 0) throw std::runtime_error("cannot open " + dir.string() + ": " + std::strerror(errno));
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            ::close(fd_);
            fd_ = -1;
            if (err == EWOULDBLOCK) throw std::runtime_error("another weftd is running on " + dir.string());
            throw std::runtime_error("cannot lock " + dir.string() + ": " + std::strerror(err));
        }
    }
    ~config_lock() {
        if (fd_ >= 0) ::close(fd_);
    }
    config_lock(const config_lock&) = delete;
    config_lock& operator=(const config_lock&) = delete;

private:
    int fd_ = -1;
};

// Classic double fork: the daemon is no session leader, so it can never
// acquire a controlling terminal.  The parent returns only once the child
// reports that start-up succeeded (or why it failed), so init scripts see
// the real exit status.
int daemonise(int& report_fd) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
    if (pid > 0) {
        ::close(p[1]);
        std::string msg;
        char buf[512];
        ssize_t n;
        while ((n = ::read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
            if (n > 0) msg.append(buf, static_cast<std::size_t>(n));
        ::close(p[0]);
        // Reap the intermediate child (it exits right after the second fork).
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        if (msg == "ok") return 0;
        std::cerr << "weftd: " << (msg.empty() ? "daemon died during start-up" : msg) << '\n';
        std::_Exit(1);
    }
    ::close(p[0]);
    if (::setsid() < 0) std::_Exit(1);
    pid = ::fork();
    if (pid < 0) std::_Exit(1);
    if (pid > 0) std::_Exit(0);
    if (::chdir("/") != 0) std::_Exit(1);
    ::umask(027);
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
        if (null > 2) ::close(null);
    }
    report_fd = p[1];
    return 1;
}

// systemd's readiness protocol: one datagram of "VAR=value" lines to the
// AF_UNIX socket named by $NOTIFY_SOCKET (a path, or '@' for an abstract
// name).  Unset or unusable: nothing is sent (not running under systemd, or
// not as Type=notify).  Returns whether the datagram was sent.
bool notify_systemd(std::string_view state) noexcept {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || (path[0] != '/' && path[0] != '@')) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::size_t len = std::strlen(path);
    if (len < 2 || len >= sizeof addr.sun_path) return false;
    std::memcpy(addr.sun_path, path, len);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    const ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                               reinterpret_cast<const sockaddr*>(&addr), addr_len);
    ::close(fd);
    return n == static_cast<ssize_t>(state.size());
}

void report(int fd, const std::string& msg) {
    if (fd < 0) return;
    (void)!::write(fd, msg.data(), msg.size());
    ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
    // First of all, while nothing is open yet: OpenSSL's CPU features
    // (app/openssl_cpu.hpp).  May re-execute weftd once.
    weft::run_under_tuned_openssl(argv);
    po::options_description opts("options");
    opts.add_options()
        ("config,c", po::value<std::string>(), "configuration directory holding weft.conf")
        ("foreground,f", "stay in the foreground (do not daemonise)")
        ("pidfile,p", po::value<std::string>(), "write the daemon's pid here (locked while running)")
        ("debug,d", po::value<std::string>(), "log level: debug, info, notice, warning, error")
        ("check-config", "validate configuration, certificates and the node list, then exit")
        ("version", "print the version")
        ("help,h", "this help");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, opts), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "weftd: " << e.what() << " (see weftd --help)\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << "usage: weftd -c DIR [-f] [-p PIDFILE] [-d LEVEL] [--check-config]\n\n" << opts
                  << "\nsignals: TERM/INT stop cleanly, HUP and USR1 reload the node list,\n"
                     "         USR2 logs a status line per peer with every counter\n";
        return 0;
    }
    if (vm.count("version")) {
        std::cout << "weftd (weft) " WEFT_VERSION "\n";
        return 0;
    }
    if (!vm.count("config")) {
        std::cerr << "weftd: -c DIR is required (see weftd --help)\n";
        return 2;
    }
    auto cfg = weft::load_config(vm["config"].as<std::string>());
    if (!cfg) {
        std::cerr << "weftd: " << cfg.error() << '\n';
        return 1;
    }
    weft::weft_config config = std::move(cfg).value();
    if (vm.count("debug")) {
        auto level = weft::io::parse_log_level(vm["debug"].as<std::string>());
        if (!level) {
            std::cerr << "weftd: -d: unknown log level '" << vm["debug"].as<std::string>() << "'\n";
            return 2;
        }
        config = weft::with_log_level(std::move(config), *level);
    }
    if (vm.count("check-config")) {
        try {
            std::cout << weft::app::check_config(config) << "configuration OK\n";
            return 0;
        } catch (const std::exception& e) {
            std::cerr << "weftd: " << e.what() << '\n';
            return 1;
        }
    }
    bool foreground = vm.count("foreground") > 0;
    if (!foreground && config.log_target == "stderr")
        std::cerr << "weftd: warning: log = stderr, but a daemon's stderr is /dev/null:"
                     " use -f, syslog or a file\n";
    int report_fd = -1;
    try {
        // The daemon runs in "/": a relative pidfile means the caller's directory.
        std::optional<std::string> pid_path;
        if (vm.count("pidfile"))
            pid_path = std::filesystem::absolute(vm["pidfile"].as<std::string>()).lexically_normal().string();
        if (!foreground && daemonise(report_fd) == 0) return 0;  // the parent, after a good start
        std::optional<pidfile> pid;
        if (pid_path) pid.emplace(*pid_path);  // first: its holder's pid is the better message
        config_lock lock(config.dir);
        if (pid) pid->write_pid();
        weft::io::logger log(config.log_target, config.log_level);
        weft::app::daemon d(config, log);
        try {
            d.start();
        } catch (const std::exception& e) {
            log.error("cannot start: {}", e.what());
            throw;
        }
        report(report_fd, "ok");
        report_fd = -1;
        notify_systemd("READY=1\nSTATUS=running: node " + config.name + ", interface " + config.interface +
                       "\nMAINPID=" + std::to_string(::getpid()) + "\n");
        d.on_stopping = [] { notify_systemd("STOPPING=1\n"); };
        return d.run();
    } catch (const std::exception& e) {
        if (report_fd >= 0) {
            report(report_fd, e.what());
            return 1;
        }
        std::cerr << "weftd: " << e.what() << '\n';
        return 1;
    }
}
