#include "io/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>
#include <thread>

#include "base/utf8.hpp"

namespace weft::io {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

constexpr const char* shell = "/bin/sh";
// If close_range(2) is missing (Linux < 5.9), the child closes descriptors
// one by one up to RLIMIT_NOFILE, but no further than this.
constexpr rlim_t max_close_fallback = 65536;

class unique_fd {
  public:
    explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
    ~unique_fd() { reset(); }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_;
};

bool valid_env_name(std::string_view n) noexcept {
    if (n.empty() || (n.front() >= '0' && n.front() <= '9')) return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

// Between fork and exec only async-signal-safe calls: the parent may have
// other threads, whose locks (malloc's included) the child inherits held.
void write_message(const char* text) noexcept {
    const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
    static_cast<void>(ignored);
}

// The raw system call: glibc 2.36's <sys/pidfd.h> declares pidfd_open
// without C linkage (fixed in 2.37), and older glibcs lack the wrapper.
int open_pidfd(pid_t pid) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

[[noreturn]] void exec_child(int devnull, int out, const char* cwd, char* const argv[],
                             char* const envp[], int max_fd) noexcept {
    // Its own process group, so a timeout kill reaches its children too.
    ::setpgid(0, 0);
    // Ignored signals stay ignored across exec (a daemon ignores SIGPIPE);
    // a script must start with the defaults and nothing blocked.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);  // KILL, STOP: EINVAL
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // A daemon started with 0..2 closed may have got the pipe or /dev/null
    // there; moving both above 2 first makes the dup2s below always real
    // (dup2 onto itself would keep O_CLOEXEC).
    const int in = ::fcntl(devnull, F_DUPFD, 3);
    const int o = ::fcntl(out, F_DUPFD, 3);
    if (in < 0 || o < 0 || ::dup2(in, STDIN_FILENO) < 0 || ::dup2(o, STDOUT_FILENO) < 0 ||
        ::dup2(o, STDERR_FILENO) < 0)
        ::_exit(126);
    if (::chdir(cwd) != 0) {
        write_message("weftd: cannot enter the configuration directory\n");
        ::_exit(126);
    }
    if (::close_range(3, ~0U, 0) != 0)
        for (int fd = 3; fd < max_fd; ++fd) ::close(fd);
    ::execve(shell, argv, envp);
    write_message("weftd: cannot execute /bin/sh\n");
    ::_exit(127);
}

// Hook output may echo anything (even what a peer chose, through NODE);
// it must not forge log lines or terminal escapes: every control character
// (C0 but tab, DEL, and C1: U+009B is a CSI as ESC [ is) and every byte
// that is not part of well-formed UTF-8 (a raw 0x9b is a CSI to a terminal
// in an 8-bit mode) becomes '?'.
std::string make_printable(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string out;
    out.reserve(line.size());
    for (std::size_t i = 0; i < line.size();) {
        const utf8_char c = decode_utf8(line, i);
        if (c.length == 0 || (is_control_character(c.code_point) && c.code_point != '\t'))
            out += '?';
        else
            out += line.substr(i, c.length);
        i += c.length == 0 ? 1 : c.length;
    }
    return out;
}

void signal_group(pid_t pid, int sig) noexcept {
    if (::kill(-pid, sig) != 0) ::kill(pid, sig);
}

double seconds_since(clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
}

}  // namespace

struct hook_runner::child {
    enum class kill_stage { none, terminated, killed };

    child(asio::io_context& io, job jb) : j(std::move(jb)), exit_watch(io), output(io), timer(io) {}

    job j;
    pid_t pid = -1;
    asio::posix::stream_descriptor exit_watch;  // the pidfd: readable once the child exited
    asio::posix::stream_descriptor output;      // read end of the stdout/stderr pipe, O_NONBLOCK
    asio::steady_timer timer;
    clock::time_point started;
    clock::time_point deadline;  // of the current stage (not used once killed)
    bool stop_deadline = false;  // the first deadline is the stop sequence's, not the hook's own
    kill_stage stage = kill_stage::none;
    bool reaped = false;
    bool status_known = true;
    int status = 0;
    bool output_open = true;
    std::string partial;  // the incomplete last line
    std::size_t lines = 0;
    std::size_t dropped = 0;
};

hook_env interface_hook_env(std::string_view tundev) {
    return {{"TUNDEV", std::string(tundev)}};
}

hook_env subnet_hook_env(std::string_view tundev, const ip_prefix& subnet, std::string_view node,
                         std::uint32_t node_id) {
    return {
        {"TUNDEV", std::string(tundev)},
        {"SUBNET", to_string(subnet)},
        {"SUBADDR", to_string(subnet.address)},
        {"SUBCIDR", std::to_string(subnet.length)},
        {"SUBADDRTYPE", subnet.address.family == ip_family::v4 ? "INET" : "INET6"},
        {"NODE", std::string(node)},
        {"NODEID", std::to_string(node_id)},
    };
}

hook_runner::hook_runner(asio::io_context& io, logger& log, std::filesystem::path cwd,
                         std::chrono::seconds timeout)
    : io_(io), log_(log), cwd_(std::move(cwd)), timeout_(timeout) {}

hook_runner::~hook_runner() {
    if (current_ && !current_->reaped) {
        log_.warning("hook {}: still running at shutdown, sending SIGKILL", current_->j.name);
        signal_group(current_->pid, SIGKILL);
        // Blocks only until the kernel has delivered SIGKILL.
        while (::waitpid(current_->pid, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
    for (const job& j : queue_) log_.warning("hook {}: not run (shutting down)", j.name);
}

bool hook_runner::idle() const noexcept {
    return !current_ && queue_.empty();
}

bool hook_runner::valid_job(const job& j) {
    if (j.command.empty() || j.command.find('\0') != std::string::npos) {
        log_.error("hook {}: not run: the command is empty or holds a NUL byte", j.name);
        return false;
    }
    for (const auto& [name, value] : j.env) {
        if (!valid_env_name(name) || value.find('\0') != std::string::npos) {
            log_.error(
                "hook {}: not run: bad environment variable '{}' (a name other than "
                "[A-Za-z_][A-Za-z0-9_]*, or a NUL byte)",
                j.name, name);
            return false;
        }
    }
    return true;
}

void hook_runner::post_done(completion& done, bool ok) {
    if (done) asio::post(io_, [d = std::move(done), ok] { d(ok); });
}

void hook_runner::run(std::string hook_name, std::string command, hook_env env, completion done) {
    job j{next_id_++, std::move(hook_name), std::move(command), std::move(env),
          timeout_,   std::move(done)};
    if (!valid_job(j)) {
        post_done(j.done, false);
        return;
    }
    queue_.push_back(std::move(j));
    start_next();
}

void hook_runner::drop_queue_and_terminate() {
    if (!queue_.empty()) {
        // At start with a large node list these can be hundreds of
        // subnet-up hooks, for a device that is about to go.
        log_.notice("shutting down: {} queued hook{} dropped, not run", queue_.size(),
                    queue_.size() == 1 ? "" : "s");
        for (job& j : queue_) {
            log_.debug("hook {}: not run (shutting down)", j.name);
            post_done(j.done, false);
        }
        queue_.clear();
    }
    if (!current_) return;
    std::unique_ptr<child> c = std::move(current_);
    boost::system::error_code ignored;
    c->exit_watch.cancel(ignored);
    c->output.cancel(ignored);
    c->timer.cancel();
    if (c->stage == child::kill_stage::none && !try_reap(*c)) {
        log_.warning("hook {}: still running at shutdown, sending SIGTERM", c->j.name);
        signal_group(c->pid, SIGTERM);
        c->stage = child::kill_stage::terminated;
        c->deadline = clock::now() + kill_grace;
    }
    const bool ok = wait_blocking(*c);
    post_done(c->j.done, ok);
}

bool hook_runner::run_sync(std::vector<sync_hook> hooks, std::chrono::seconds timeout) {
    drop_queue_and_terminate();
    bool all_ok = true;
    std::optional<clock::time_point> deadline;  // set when the first one starts
    for (std::size_t i = 0; i < hooks.size(); ++i) {
        if (deadline && clock::now() >= *deadline) {
            log_.warning("shutting down: {} stop hook{} not run: the {} s for stop hooks are up",
                         hooks.size() - i, hooks.size() - i == 1 ? "" : "s", timeout.count());
            for (; i < hooks.size(); ++i) log_.debug("hook {}: not run (no time left)", hooks[i].name);
            return false;
        }
        job j{next_id_++, std::move(hooks[i].name), std::move(hooks[i].command), std::move(hooks[i].env),
              timeout, {}};
        std::unique_ptr<child> c = valid_job(j) ? spawn(j) : nullptr;
        if (!c) {
            all_ok = false;
            continue;
        }
        if (!deadline) {
            deadline = c->deadline;
        } else if (c->deadline > *deadline) {
            c->deadline = *deadline;
            c->stop_deadline = true;
        }
        all_ok = wait_blocking(*c) && all_ok;
    }
    return all_ok;
}

bool hook_runner::run_sync(std::string hook_name, std::string command, hook_env env,
                           std::chrono::seconds timeout) {
    std::vector<sync_hook> hooks;
    hooks.push_back({std::move(hook_name), std::move(command), std::move(env)});
    return run_sync(std::move(hooks), timeout);
}

void hook_runner::start_next() {
    while (!current_ && !queue_.empty()) {
        job j = std::move(queue_.front());
        queue_.pop_front();
        current_ = spawn(j);
        if (!current_) {
            post_done(j.done, false);
            continue;
        }
        watch_exit();
        watch_output();
        watch_deadline();
    }
}

std::unique_ptr<hook_runner::child> hook_runner::spawn(job& j) {
    // Everything the child uses is made here, before fork.
    std::vector<std::string> env_strings;
    env_strings.reserve(j.env.size() + 1);
    const bool path_given =
        std::any_of(j.env.begin(), j.env.end(), [](const auto& kv) { return kv.first == "PATH"; });
    if (!path_given) env_strings.push_back("PATH=" + std::string(hook_path));
    for (const auto& [name, value] : j.env)
        env_strings.emplace_back(name).append("=").append(value);
    std::vector<char*> envp;
    envp.reserve(env_strings.size() + 1);
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string arg0 = shell;
    std::string arg1 = "-c";
    std::string command = j.command;
    std::array<char*, 4> argv{arg0.data(), arg1.data(), command.data(), nullptr};
    const std::string cwd = cwd_.string();
    struct rlimit files {};
    int max_fd = 1024;
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0)
        max_fd = static_cast<int>(std::min(files.rlim_cur, max_close_fallback));

    auto fail = [&](const char* what) {
        log_.error("hook {}: not run: {}: {}", j.name, what, std::strerror(errno));
        return nullptr;
    };
    unique_fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (devnull.get() < 0) return fail("open /dev/null");
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) return fail("pipe");
    unique_fd read_end(fds[0]);
    unique_fd write_end(fds[1]);
    // Only our end is non-blocking: the script's writes should block on a
    // full pipe rather than fail.
    const int flags = ::fcntl(read_end.get(), F_GETFL);
    if (flags < 0 || ::fcntl(read_end.get(), F_SETFL, flags | O_NONBLOCK) != 0)
        return fail("fcntl");
    auto c = std::make_unique<child>(io_, job{});

    const pid_t pid = ::fork();
    if (pid < 0) return fail("fork");
    if (pid == 0)
        exec_child(devnull.get(), write_end.get(), cwd.c_str(), argv.data(), envp.data(), max_fd);

    // Also here: kill(-pid) must work even before the child ran setpgid.
    // Fails harmlessly (EACCES) when the child has exec'd already.
    ::setpgid(pid, pid);
    write_end.reset();
    c->pid = pid;
    c->started = clock::now();
    c->deadline = c->started + j.timeout;
    unique_fd pidfd(open_pidfd(pid));
    try {
        if (pidfd.get() < 0) throw std::system_error(errno, std::generic_category(), "pidfd_open");
        c->exit_watch.assign(pidfd.release());
        c->output.assign(read_end.release());
    } catch (const std::exception& e) {
        // Without a way to watch it the child cannot run unsupervised.
        log_.error("hook {}: not run: {}", j.name, e.what());
        ::kill(-pid, SIGKILL);
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        return nullptr;
    }
    log_.info("hook {}: started, pid {}", j.name, pid);
    log_.debug("hook {}: command: {}", j.name, j.command);
    c->j = std::move(j);
    return c;
}

void hook_runner::watch_exit() {
    current_->exit_watch.async_wait(
        asio::posix::descriptor_base::wait_read,
        [this, alive = std::weak_ptr<char>(alive_),
         id = current_->j.id](boost::system::error_code ec) {
            if (alive.expired() || ec || !current_ || current_->j.id != id) return;
            if (!try_reap(*current_)) return watch_exit();
            std::unique_ptr<child> c = std::move(current_);
            const bool ok = finish(*c);
            post_done(c->j.done, ok);
            c.reset();  // its pending waits end with operation_aborted
            start_next();
        });
}

void hook_runner::watch_output() {
    current_->output.async_wait(asio::posix::descriptor_base::wait_read,
                                [this, alive = std::weak_ptr<char>(alive_),
                                 id = current_->j.id](boost::system::error_code ec) {
                                    if (alive.expired() || ec || !current_ || current_->j.id != id)
                                        return;
                                    read_output(*current_, false);
                                    if (current_->output_open) watch_output();
                                });
}

void hook_runner::watch_deadline() {
    current_->timer.expires_at(current_->deadline);
    current_->timer.async_wait([this, alive = std::weak_ptr<char>(alive_),
                                id = current_->j.id](boost::system::error_code ec) {
        if (alive.expired() || ec || !current_ || current_->j.id != id) return;
        escalate(*current_);
        if (current_->stage != child::kill_stage::killed) watch_deadline();
    });
}

void hook_runner::read_output(child& c, bool final) {
    auto emit = [&] {
        if (c.lines < max_output_lines) {
            log_.info("hook {}: {}", c.j.name, make_printable(c.partial));
            ++c.lines;
        } else {
            ++c.dropped;
        }
        c.partial.clear();
    };
    std::array<char, 4096> buf{};
    // A background process of the hook's may keep writing into the pipe
    // after the hook itself exited: read a bounded amount per call (a full
    // pipe's worth) so that it cannot hold the loop.
    for (int reads = 0; c.output_open && reads < 16; ++reads) {
        const ssize_t n = ::read(c.output.native_handle(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;  // EWOULDBLOCK is the same on Linux
        if (n <= 0) {                         // end of file, or an error that will not go away
            c.output_open = false;
            break;
        }
        for (char ch : std::string_view(buf.data(), static_cast<std::size_t>(n))) {
            if (ch == '\n') {
                emit();
                continue;
            }
            if (c.partial.size() == max_line_bytes) emit();
            c.partial.push_back(ch);
        }
    }
    if (final && !c.partial.empty()) emit();
}

bool hook_runner::try_reap(child& c) {
    if (c.reaped) return true;
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(c.pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return false;
    c.reaped = true;
    if (r == c.pid)
        c.status = status;
    else
        c.status_known = false;  // ECHILD: SIGCHLD ignored, or reaped by other code
    return true;
}

void hook_runner::escalate(child& c) {
    switch (c.stage) {
        case child::kill_stage::none:
            if (c.stop_deadline)
                log_.warning("hook {}: still running after {:.1f} s when the time for stop hooks was up, "
                             "sending SIGTERM",
                             c.j.name, seconds_since(c.started));
            else
                log_.warning("hook {}: still running after {} s, sending SIGTERM", c.j.name,
                             c.j.timeout.count());
            signal_group(c.pid, SIGTERM);
            c.stage = child::kill_stage::terminated;
            c.deadline = clock::now() + kill_grace;
            break;
        case child::kill_stage::terminated:
            log_.warning("hook {}: still running {} s after SIGTERM, sending SIGKILL", c.j.name,
                         kill_grace.count());
            signal_group(c.pid, SIGKILL);
            c.stage = child::kill_stage::killed;
            break;
        case child::kill_stage::killed:
            break;
    }
}

bool hook_runner::finish(child& c) {
    // The child has exited: all it wrote is in the pipe now.  Whatever a
    // background process of its writes later is not waited for.
    read_output(c, true);
    if (c.dropped > 0)
        log_.warning("hook {}: {} more lines of output not logged", c.j.name, c.dropped);
    boost::system::error_code ignored;
    c.output.close(ignored);
    c.exit_watch.close(ignored);
    c.timer.cancel();

    const double took = seconds_since(c.started);
    if (!c.status_known) {
        log_.warning("hook {}: finished after {:.1f} s, exit status unknown (reaped elsewhere)",
                     c.j.name, took);
        return false;
    }
    if (WIFEXITED(c.status)) {
        const int code = WEXITSTATUS(c.status);
        if (code == 0) {
            log_.info("hook {}: done after {:.1f} s", c.j.name, took);
            return true;
        }
        log_.warning("hook {}: exited with status {} after {:.1f} s", c.j.name, code, took);
        return false;
    }
    if (WIFSIGNALED(c.status)) {
        const int sig = WTERMSIG(c.status);
        const char* abbrev = ::sigabbrev_np(sig);
        log_.warning("hook {}: killed by signal {} (SIG{}) after {:.1f} s", c.j.name, sig,
                     abbrev ? abbrev : "?", took);
        return false;
    }
    log_.warning("hook {}: ended with wait status {:#x}", c.j.name, c.status);
    return false;
}

bool hook_runner::wait_blocking(child& c) {
    while (!try_reap(c)) {
        int wait_ms = -1;  // once killed: until it is gone
        if (c.stage != child::kill_stage::killed) {
            const auto left =
                std::chrono::ceil<std::chrono::milliseconds>(c.deadline - clock::now()).count();
            if (left <= 0) {
                escalate(c);
                continue;
            }
            wait_ms = static_cast<int>(std::min<std::int64_t>(left, 60'000));
        }
        std::array<pollfd, 2> fds{{{c.exit_watch.native_handle(), POLLIN, 0},
                                   {c.output_open ? c.output.native_handle() : -1, POLLIN, 0}}};
        const int n = ::poll(fds.data(), fds.size(), wait_ms);
        if (n < 0 && errno != EINTR) {
            // Cannot happen with valid arguments; do not spin if it does.
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        if (n > 0 && fds[1].revents != 0) read_output(c, false);
    }
    return finish(c);
}

}  // namespace weft::io
