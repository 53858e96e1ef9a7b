// weftd: the weft mesh VPN daemon.
//   weftd -c DIR [-f] [-p PIDFILE] [-d LEVEL] [--check-config]
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <iostream>

#include "app/config.hpp"
#include "app/daemon.hpp"

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
            throw std::runtime_error("another weftd holds " + path_ + (n > 0 ? " (pid " + std::string(buf, static_cast<std::size_t>(n)) + ")" : std::string()));
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
        while ((n = ::read(p[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<std::size_t>(n));
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

void report(int fd, const std::string& msg) {
    if (fd < 0) return;
    (void)!::write(fd, msg.data(), msg.size());
    ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
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
    int report_fd = -1;
    try {
        if (!foreground && daemonise(report_fd) == 0) return 0;  // the parent, after a good start
        std::optional<pidfile> pid;
        if (vm.count("pidfile")) {
            pid.emplace(vm["pidfile"].as<std::string>());
            pid->write_pid();
        }
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
