// io/control_server: real Unix sockets in a temporary directory.  The server
// runs on an io_context thread; the tests are blocking clients, as weftctl
// is.  Covers the socket's mode and directory, the existing-path rules
// (stale, live, not a socket), answers and errors, and every bound: request
// size, read and write timeouts, the client cap; stop() removes only its own
// file; a non-root user cannot connect.
#include "io/control_server.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include "io/unique_fd.hpp"

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using weft::control_command;
using weft::control_request;
using weft::io::control_error;
using weft::io::control_limits;
using weft::io::control_server;
using weft::io::unique_fd;
using json = nlohmann::json;

struct temp_dir {
    fs::path path;
    temp_dir() {
        char tmpl[] = "/tmp/weft-ctl.XXXXXX";
        BOOST_TEST_REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

sockaddr_un address(const fs::path& p) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, p.c_str(), sizeof a.sun_path - 1);
    return a;
}

// A blocking client with a receive/send timeout.  Returns the fd or -errno.
int connect_to(const fs::path& p) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_TEST_REQUIRE(fd >= 0);
    timeval tv{3, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const auto a = address(p);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        const int e = errno;
        ::close(fd);
        return -e;
    }
    return fd;
}

void send_all(int fd, std::string_view s) {
    while (!s.empty()) {
        const ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
        BOOST_TEST_REQUIRE(n > 0);
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Everything until EOF (or a reset / the 3 s timeout, which ends the read too).
std::string read_all(int fd) {
    std::string out;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// A server on its own io thread; the handler records the last request.
struct fixture {
    temp_dir dir;
    fs::path sock = dir.path / "run" / "weft0.sock";
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
    weft::io::logger log{"stderr", weft::io::log_level::error};
    std::unique_ptr<control_server> server;
    std::thread thread;
    std::optional<control_request> last;

    control_server::handler handler() {
        return [this](const control_request& r) -> json {
            last = r;
            switch (r.command) {
                case control_command::status:
                    return json{{"node", "alpha"}};
                case control_command::push:
                    return json{{"version", 7}, {"peers", 2}};
                case control_command::renegotiate:
                    if (r.peer != "beta") throw control_error("no peer named " + r.peer);
                    return json{{"peer", r.peer}, {"requested", true}};
                case control_command::reload:
                    throw std::runtime_error("disk on fire");
                case control_command::bnl:
                    return json{
                        {"text",
                         std::string(2 << 20, 'x')}};  // 2 MiB: more than a socket buffer holds
            }
            return json();
        };
    }

    void start(control_limits limits = {}) {
        auto s = control_server::open(io, sock, log, handler(), limits);
        BOOST_TEST_REQUIRE(s.has_value(), (s ? std::string() : s.error()));
        server = std::move(*s);
        server->start();
        thread = std::thread([this] { io.run(); });
    }

    template <class F>
    auto on_io(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        asio::post(io, [&task] { task(); });
        return fut.get();
    }

    std::size_t clients() {
        return on_io([this] { return server->clients(); });
    }

    ~fixture() {
        if (thread.joinable()) {
            on_io([this] {
                server.reset();
                return 0;
            });
            work.reset();
            io.stop();
            thread.join();
        }
    }

    // One request line, the whole answer parsed.
    weft::control_reply ask(std::string_view line) {
        unique_fd fd(connect_to(sock));
        BOOST_TEST_REQUIRE(fd.get() >= 0);
        send_all(fd.get(), line);
        const std::string text = read_all(fd.get());
        BOOST_TEST(!text.empty());
        BOOST_TEST(text.back() == '\n');
        auto r = weft::parse_control_reply(text);
        BOOST_TEST_REQUIRE(r.has_value(), (r ? std::string() : r.error())
                                              << " in " << text.substr(0, 200));
        return std::move(*r);
    }
};

// A listening (or, after close, stale) socket made without the server.
unique_fd raw_listener(const fs::path& p) {
    unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const auto a = address(p);
    BOOST_TEST_REQUIRE(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
    BOOST_TEST_REQUIRE(::listen(fd.get(), 4) == 0);
    return fd;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(control_server_tests)

BOOST_FIXTURE_TEST_CASE(socket_is_0600_in_a_0755_directory, fixture) {
    const mode_t old = ::umask(0);  // the server must not rely on the caller's umask
    start();
    ::umask(old);
    struct stat sb {};
    BOOST_TEST_REQUIRE(::lstat(sock.c_str(), &sb) == 0);
    BOOST_TEST(S_ISSOCK(sb.st_mode));
    BOOST_TEST((sb.st_mode & 07777) == 0600u);
    BOOST_TEST_REQUIRE(::stat(sock.parent_path().c_str(), &sb) == 0);
    BOOST_TEST((sb.st_mode & 07777) == 0755u);
    BOOST_TEST(server->path() == sock);
}

BOOST_FIXTURE_TEST_CASE(answers_each_command, fixture) {
    start();
    auto r = ask("{\"command\":\"status\"}\n");
    BOOST_TEST(r.ok);
    BOOST_TEST(r.result == (json{{"node", "alpha"}}));
    BOOST_TEST_REQUIRE(last.has_value());  // the io thread has finished writing: no race
    BOOST_TEST(static_cast<int>(last->command) == static_cast<int>(control_command::status));

    r = ask("{\"command\":\"push\"}\n");
    BOOST_TEST(r.ok);
    BOOST_TEST(r.result["version"] == 7);

    r = ask("{\"command\":\"renegotiate\",\"peer\":\"beta\"}\n");
    BOOST_TEST(r.ok);
    BOOST_TEST(r.result["requested"] == true);
}

BOOST_FIXTURE_TEST_CASE(refusals_are_one_line_errors, fixture) {
    start();
    auto r = ask("{\"command\":\"renegotiate\",\"peer\":\"gamma\"}\n");
    BOOST_TEST(!r.ok);
    BOOST_TEST(r.error == "no peer named gamma");

    r = ask("{\"command\":\"reload\"}\n");
    BOOST_TEST(!r.ok);
    BOOST_TEST(r.error == "internal error: disk on fire");

    on_io([this] { last.reset(); return 0; });
    r = ask("{\"command\":\"frobnicate\"}\n");
    BOOST_TEST(!r.ok);
    BOOST_TEST(r.error == "bad request: unknown command 'frobnicate'");
    r = ask("{\"command\":\"status\",\"x\":\"1\"}\n");
    BOOST_TEST(r.error == "bad request: unknown key 'x'");
    BOOST_TEST(!last.has_value());  // the handler never saw them

    r = ask("{\"command\":\"status\"}\n{\"command\":\"push\"}\n");
    BOOST_TEST(!r.ok);
    BOOST_TEST(r.error == "data after the request line (one request per connection)");
}

BOOST_FIXTURE_TEST_CASE(request_framing_bounds, fixture) {
    start();
    // No newline, then the client's half-close.
    {
        unique_fd fd(connect_to(sock));
        send_all(fd.get(), "{\"command\":\"status\"}");
        ::shutdown(fd.get(), SHUT_WR);
        const auto r = weft::parse_control_reply(read_all(fd.get()));
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST(r->error == "request not terminated by a newline");
    }
    // Past the size cap without a newline: answered at 4096 bytes.
    {
        unique_fd fd(connect_to(sock));
        send_all(fd.get(), std::string(weft::control_request_max + 100, ' '));
        const auto r = weft::parse_control_reply(read_all(fd.get()));
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST(r->error == "request longer than 4096 bytes");
    }
    // A connect-and-close probe gets nothing and costs nothing.
    {
        unique_fd fd(connect_to(sock));
        ::shutdown(fd.get(), SHUT_WR);
        BOOST_TEST(read_all(fd.get()).empty());
    }
    BOOST_TEST(ask("{\"command\":\"status\"}\n").ok);  // still serving
}

BOOST_FIXTURE_TEST_CASE(silent_client_is_cut_off, fixture) {
    control_limits lim;
    lim.read_timeout = std::chrono::milliseconds(200);
    start(lim);
    unique_fd fd(connect_to(sock));
    const auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(read_all(fd.get()).empty());  // closed without an answer
    const auto waited = std::chrono::steady_clock::now() - t0;
    BOOST_TEST(waited >= std::chrono::milliseconds(150));
    BOOST_TEST(waited < std::chrono::milliseconds(2500));
    BOOST_TEST(clients() == 0u);
}

BOOST_FIXTURE_TEST_CASE(slow_reader_is_cut_off, fixture) {
    control_limits lim;
    lim.write_timeout = std::chrono::milliseconds(200);
    start(lim);
    unique_fd fd(connect_to(sock));
    send_all(fd.get(), "{\"command\":\"bnl\"}\n");
    // Reads nothing meanwhile: the answer fills the socket buffer, the write
    // stalls, and the server gives up on it.  (Building 2 MiB of JSON takes
    // a while in a debug build, hence a wait and not a fixed sleep.)
    for (int i = 0; i < 500 && clients() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_TEST_REQUIRE(clients() == 1u);  // accepted; it cannot finish while nobody reads
    for (int i = 0; i < 500 && clients() > 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_TEST(clients() == 0u);
    const std::string got = read_all(fd.get());
    BOOST_TEST(got.size() < (std::size_t{2} << 20));  // the answer was abandoned
    BOOST_TEST(ask("{\"command\":\"status\"}\n").ok);
}

BOOST_FIXTURE_TEST_CASE(client_cap, fixture) {
    control_limits lim;
    lim.max_clients = 2;
    start(lim);
    unique_fd a(connect_to(sock)), b(connect_to(sock));
    for (int i = 0; i < 100 && clients() < 2; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_TEST_REQUIRE(clients() == 2u);
    {
        unique_fd c(connect_to(sock));
        BOOST_TEST_REQUIRE(c.get() >= 0);
        const auto r = weft::parse_control_reply(read_all(c.get()));
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST(!r->ok);
        BOOST_TEST(r->error == "busy: too many control clients, try again");
    }
    a.reset();  // the slot frees once the server sees the close
    for (int i = 0; i < 100 && clients() > 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_TEST(ask("{\"command\":\"status\"}\n").ok);
}

BOOST_FIXTURE_TEST_CASE(stale_socket_is_replaced, fixture) {
    fs::create_directories(sock.parent_path());
    { unique_fd old = raw_listener(sock); }  // closed: the file stays, nothing listens
    BOOST_TEST(fs::exists(fs::symlink_status(sock)));
    start();
    BOOST_TEST(ask("{\"command\":\"status\"}\n").ok);
}

BOOST_FIXTURE_TEST_CASE(live_socket_is_refused, fixture) {
    fs::create_directories(sock.parent_path());
    unique_fd other = raw_listener(sock);
    auto s = control_server::open(io, sock, log, handler());
    BOOST_TEST_REQUIRE(!s.has_value());
    BOOST_TEST(s.error() == "another daemon is listening on " + sock.string());
    // A second server against a running one: the same.
    other.reset();
    start();
    auto second = control_server::open(io, sock, log, handler());
    BOOST_TEST_REQUIRE(!second.has_value());
    BOOST_TEST(second.error() == "another daemon is listening on " + sock.string());
    BOOST_TEST(ask("{\"command\":\"status\"}\n").ok);  // the first one is untouched
}

BOOST_FIXTURE_TEST_CASE(path_problems, fixture) {
    fs::create_directories(sock.parent_path());
    { std::ofstream(sock) << "not a socket"; }
    auto s = control_server::open(io, sock, log, handler());
    BOOST_TEST_REQUIRE(!s.has_value());
    BOOST_TEST(s.error() == sock.string() + " exists and is not a socket; refusing to replace it");
    BOOST_TEST(fs::is_regular_file(sock));

    s = control_server::open(io, dir.path / "a" / "b" / "x.sock", log, handler());
    BOOST_TEST_REQUIRE(!s.has_value());
    BOOST_TEST(s.error().find("cannot create directory " + (dir.path / "a" / "b").string()) == 0);

    { std::ofstream(dir.path / "file") << "x"; }
    s = control_server::open(io, dir.path / "file" / "x.sock", log, handler());
    BOOST_TEST_REQUIRE(!s.has_value());
    BOOST_TEST(s.error() == (dir.path / "file").string() + " is not a directory");

    s = control_server::open(io, dir.path / std::string(120, 'x'), log, handler());
    BOOST_TEST_REQUIRE(!s.has_value());
    BOOST_TEST(s.error().find("path longer than 107 bytes") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(stop_removes_only_its_own_file, fixture) {
    start();
    on_io([this] {
        server->stop();
        return 0;
    });
    BOOST_TEST(!fs::exists(fs::symlink_status(sock)));
    BOOST_TEST(connect_to(sock) == -ENOENT);

    // A later daemon's socket at the same path survives this one's stop().
    auto s = control_server::open(io, sock, log, handler());
    BOOST_TEST_REQUIRE(s.has_value());
    fs::remove(sock);
    { std::ofstream(sock) << "someone else's"; }
    on_io([&s] {
        (*s)->stop();
        s = weft::unexpected{std::string("gone")};
        return 0;
    });
    BOOST_TEST(fs::is_regular_file(sock));
}

// A directory another user may rename entries in could have our socket
// swapped for theirs; sticky directories (like /tmp) are safe.
BOOST_FIXTURE_TEST_CASE(a_directory_others_can_write_is_refused, fixture) {
    const fs::path run = sock.parent_path();
    fs::create_directories(run);
    auto refusal = [&](const std::string& mode, unsigned uid) {
        return "control socket directory " + run.string() + " (mode " + mode + ", owner uid " + std::to_string(uid) +
               ") lets another user replace the socket; use a directory only root or this daemon's user can write";
    };
    const unsigned me = ::geteuid();
    BOOST_TEST_REQUIRE(::chmod(run.c_str(), 0777) == 0);
    auto s = control_server::open(io, sock, log, handler());
    BOOST_TEST_REQUIRE(!s.has_value());
    BOOST_TEST(s.error() == refusal("0777", me));
    BOOST_TEST(!fs::exists(sock));
    BOOST_TEST_REQUIRE(::chmod(run.c_str(), 0775) == 0);
    s = control_server::open(io, sock, log, handler());
    BOOST_TEST_REQUIRE(!s.has_value());
    BOOST_TEST(s.error() == refusal("0775", me));
    BOOST_TEST_REQUIRE(::chmod(run.c_str(), 01777) == 0);
    {
        auto ok = control_server::open(io, sock, log, handler());
        BOOST_TEST_REQUIRE(ok.has_value(), (ok ? "" : ok.error()));
    }  // closed, its socket removed
    if (me != 0) {
        BOOST_TEST_MESSAGE("not root: the other owner's directory is not tried");
        return;
    }
    BOOST_TEST_REQUIRE(::chmod(run.c_str(), 0755) == 0);
    BOOST_TEST_REQUIRE(::chown(run.c_str(), 12345, 12345) == 0);
    s = control_server::open(io, sock, log, handler());
    BOOST_TEST_REQUIRE(!s.has_value());
    BOOST_TEST(s.error() == refusal("0755", 12345));
}

BOOST_FIXTURE_TEST_CASE(non_root_user_cannot_connect, fixture) {
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("not root: skipped");
        return;
    }
    BOOST_TEST_REQUIRE(::chmod(dir.path.c_str(), 0755) == 0);  // mkdtemp made it 0700
    start();
    // Every directory on the way is searchable (the child checks with
    // stat), so only the socket's mode stops the user.
    const pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(10);
        struct stat sb {};
        if (::stat(sock.c_str(), &sb) != 0) ::_exit(13);
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        const auto a = address(sock);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) ::_exit(11);
        ::_exit(errno == EACCES ? 0 : 12);
    }
    int wst = 0;
    BOOST_TEST_REQUIRE(::waitpid(pid, &wst, 0) == pid);
    BOOST_TEST(WIFEXITED(wst));
    BOOST_TEST(WEXITSTATUS(wst) == 0,
               "child exit " << WEXITSTATUS(wst)
                             << " (10 setuid, 11 connected, 12 other errno, 13 cannot stat)");
    BOOST_TEST(ask("{\"command\":\"status\"}\n").ok);

    // Someone loosens the socket's mode: the peer-credential check still
    // refuses the user, with a reason, and runs nothing.
    BOOST_TEST_REQUIRE(::chmod(sock.c_str(), 0666) == 0);
    on_io([this] { last.reset(); return 0; });
    const pid_t pid2 = ::fork();
    BOOST_TEST_REQUIRE(pid2 >= 0);
    if (pid2 == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(10);
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        const auto a = address(sock);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) ::_exit(11);
        const timeval tv{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        const char req[] = "{\"command\":\"push\"}\n";
        // The server may refuse and close before the request is written:
        // EPIPE then (not SIGPIPE, which would kill this child), and the
        // refusal is still there to read.
        if (::send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof req - 1) && errno != EPIPE)
            ::_exit(12);
        std::string got;
        char buf[512];
        for (ssize_t n; got.size() < 4096 && (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
        ::_exit(got == "{\"error\":\"permission denied\",\"ok\":false}\n" ? 0 : 13);
    }
    wst = 0;
    BOOST_TEST_REQUIRE(::waitpid(pid2, &wst, 0) == pid2);
    BOOST_TEST(WIFEXITED(wst));
    BOOST_TEST(WEXITSTATUS(wst) == 0, "child exit " << WEXITSTATUS(wst)
                                                    << " (10 setuid, 11 cannot connect, 12 write, 13 other answer)");
    BOOST_TEST(!on_io([this] { return last.has_value(); }));  // the handler never ran
}

BOOST_AUTO_TEST_SUITE_END()
