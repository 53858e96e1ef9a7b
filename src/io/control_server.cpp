#include "io/control_server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <list>

#include "io/unique_fd.hpp"

namespace weft::io {

namespace asio = boost::asio;
using asio::awaitable;
using local = asio::local::stream_protocol;
using clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::string errno_text(int e) {
    return std::strerror(e);
}

void set_cloexec(int fd) noexcept {
    // Hooks are forked from this process: the control socket must not leak
    // into them.
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

// One connected weftctl.  The watchdog closes it once `deadline` passes;
// the serving coroutine moves the deadline from reading to writing.
struct client {
    explicit client(local::socket s) : sock(std::move(s)), timer(sock.get_executor()) {}
    local::socket sock;
    asio::steady_timer timer;
    clock::time_point deadline;
    bool closed = false;
    bool timed_out = false;

    void close() noexcept {
        if (closed) return;
        closed = true;
        boost::system::error_code ec;
        sock.shutdown(local::socket::shutdown_both, ec);
        sock.close(ec);
        timer.cancel();
    }
};

// What answers on an existing socket path: 0 nothing (stale), 1 a listener,
// or an errno from connect().
int probe(const std::string& path) {
    unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return errno;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return 1;
    if (errno == EAGAIN || errno == EINPROGRESS) return 1;  // listening, backlog full
    if (errno == ECONNREFUSED) return 0;
    return errno;
}

}  // namespace

struct control_server::state {
    state(asio::io_context& i, logger& l, handler hd, control_limits lim)
        : io(i), acceptor(i), log(l), h(std::move(hd)), limits(lim) {}
    asio::io_context& io;
    local::acceptor acceptor;
    logger& log;  // used only while !stopping (the server is alive then)
    handler h;
    control_limits limits;
    bool stopping = false;
    std::list<std::weak_ptr<client>> clients;

    std::size_t prune() {
        clients.remove_if([](const std::weak_ptr<client>& w) {
            auto c = w.lock();
            return !c || c->closed;
        });
        return clients.size();
    }
};

namespace {

using state_ptr = std::shared_ptr<control_server::state>;

void spawn(const state_ptr& st, awaitable<void> task) {
    asio::co_spawn(st->io, std::move(task), [st](std::exception_ptr e) {
        if (!e || st->stopping) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            st->log.error("control: internal error: {}", ex.what());
        }
    });
}

awaitable<void> watchdog(std::shared_ptr<client> c) {
    while (!c->closed) {
        c->timer.expires_at(c->deadline);
        co_await c->timer.async_wait(use_tuple);
        if (c->closed) co_return;
        if (clock::now() >= c->deadline) {
            c->timed_out = true;
            c->close();
        }
    }
}

// Only the daemon's own user (root) may talk to it.  The socket's mode
// already says so; this holds even if someone loosens the mode.
bool peer_allowed(local::socket& sock) noexcept {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(sock.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
    return cred.uid == 0 || cred.uid == ::geteuid();
}

std::string answer(const state_ptr& st, const control_request& req) {
    st->log.debug("control: {}{}{}", to_string(req.command), req.peer.empty() ? "" : " ", req.peer);
    try {
        std::string out = serialise_reply_ok(st->h(req));
        if (out.size() + 1 > control_reply_max) {
            st->log.error("control: answer to {} too large ({} bytes)", to_string(req.command),
                          out.size());
            return serialise_reply_error("answer too large");
        }
        return out;
    } catch (const control_error& e) {
        return serialise_reply_error(e.what());
    } catch (const std::exception& e) {
        st->log.error("control: {} failed: {}", to_string(req.command), e.what());
        return serialise_reply_error(std::string("internal error: ") + e.what());
    }
}

awaitable<void> serve(state_ptr st, std::shared_ptr<client> c) {
    std::string reply;
    if (!peer_allowed(c->sock)) {
        reply = serialise_reply_error("permission denied");
    } else {
        std::string buf;
        c->deadline = clock::now() + st->limits.read_timeout;
        auto [ec, n] = co_await asio::async_read_until(
            c->sock, asio::dynamic_buffer(buf, control_request_max), '\n', use_tuple);
        if (st->stopping || c->closed) {
            if (c->timed_out && !st->stopping)
                st->log.debug("control: client sent no request in time");
            c->close();
            co_return;
        }
        if (ec == asio::error::not_found) {
            reply = serialise_reply_error("request longer than " +
                                          std::to_string(control_request_max) + " bytes");
        } else if (ec == asio::error::eof && buf.empty()) {
            c->close();  // a probe (connect and close): nothing to answer
            co_return;
        } else if (ec == asio::error::eof) {
            reply = serialise_reply_error("request not terminated by a newline");
        } else if (ec) {
            c->close();
            co_return;
        } else if (n != buf.size()) {
            reply =
                serialise_reply_error("data after the request line (one request per connection)");
        } else {
            auto req = parse_control_request(std::span<const std::uint8_t>(
                reinterpret_cast<const std::uint8_t*>(buf.data()), buf.size()));
            if (!req) {
                st->log.debug("control: bad request: {}", req.error());
                reply = serialise_reply_error("bad request: " + req.error());
            } else {
                reply = answer(st, *req);
                if (st->stopping || c->closed) co_return;  // the handler stopped the server
            }
        }
    }
    reply += '\n';
    c->deadline = clock::now() + st->limits.write_timeout;
    c->timer.cancel();  // the watchdog re-arms for the new deadline, which may be earlier
    auto [ec, n] = co_await asio::async_write(c->sock, asio::buffer(reply), use_tuple);
    (void)n;
    if (ec && !st->stopping)
        st->log.debug("control: answer not delivered: {}", c->timed_out ? "timeout" : ec.message());
    c->close();
}

awaitable<void> accept_loop(state_ptr st) {
    while (!st->stopping) {
        auto [ec, sock] = co_await st->acceptor.async_accept(use_tuple);
        if (st->stopping || ec == asio::error::operation_aborted) co_return;
        if (ec) {
            // EMFILE and friends: pause instead of spinning.
            st->log.warning("control: accept failed: {}", ec.message());
            asio::steady_timer pause(st->io, std::chrono::milliseconds(100));
            co_await pause.async_wait(use_tuple);
            continue;
        }
        set_cloexec(sock.native_handle());
        if (st->prune() >= st->limits.max_clients) {
            // Best effort, never blocking: the socket buffer takes a line this short.
            boost::system::error_code wec;
            sock.non_blocking(true, wec);
            const std::string busy =
                serialise_reply_error("busy: too many control clients, try again") + "\n";
            sock.write_some(asio::buffer(busy), wec);
            sock.close(wec);
            st->log.notice("control: refused a client: {} already connected",
                           st->limits.max_clients);
            continue;
        }
        auto c = std::make_shared<client>(std::move(sock));
        c->deadline = clock::now() + st->limits.read_timeout;
        st->clients.push_back(c);
        spawn(st, watchdog(c));
        spawn(st, serve(st, c));
    }
}

}  // namespace

control_server::control_server(std::shared_ptr<state> st, std::filesystem::path path, dev_t dev,
                               ino_t ino)
    : st_(std::move(st)), path_(std::move(path)), dev_(dev), ino_(ino) {}

control_server::~control_server() {
    stop();
}

result<std::unique_ptr<control_server>, std::string> control_server::open(
    asio::io_context& io, std::filesystem::path path, logger& log, handler h,
    control_limits limits) {
    using R = result<std::unique_ptr<control_server>, std::string>;
    const std::string text = path.string();
    if (text.empty()) return unexpected{std::string("control socket: empty path")};
    if (text.size() >= sizeof(sockaddr_un{}.sun_path))
        return unexpected{"control socket " + text + ": path longer than " +
                          std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes"};
    if (limits.max_clients == 0) return unexpected{std::string("control socket: max_clients is 0")};

    // The directory: created if missing (only the last component).
    std::filesystem::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    struct stat sb {};
    if (::stat(dir.c_str(), &sb) != 0) {
        if (errno != ENOENT)
            return unexpected{"cannot use directory " + dir.string() + ": " + errno_text(errno)};
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
            return unexpected{"cannot create directory " + dir.string() + ": " + errno_text(errno)};
        // The umask may have narrowed it; 0755 lets weftctl find the socket,
        // which itself stays 0600.
        if (::chmod(dir.c_str(), 0755) != 0)
            return unexpected{"cannot set the mode of " + dir.string() + ": " + errno_text(errno)};
    } else if (!S_ISDIR(sb.st_mode)) {
        return unexpected{dir.string() + " is not a directory"};
    } else if ((sb.st_uid != 0 && sb.st_uid != ::geteuid()) ||
               ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (sb.st_mode & S_ISVTX) == 0)) {
        // Whoever may rename entries in the directory could move our socket
        // away and put a listener of their own in its place, whose answers
        // root's weftctl would believe.  A sticky directory (/tmp) lets
        // nobody else rename our socket.
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(sb.st_mode & 07777));
        return unexpected{"control socket directory " + dir.string() + " (mode " + mode + ", owner uid " +
                          std::to_string(sb.st_uid) +
                          ") lets another user replace the socket; use a directory only root or this "
                          "daemon's user can write"};
    }

    // Something already at the path.
    if (::lstat(text.c_str(), &sb) == 0) {
        if (!S_ISSOCK(sb.st_mode))
            return unexpected{text + " exists and is not a socket; refusing to replace it"};
        const int p = probe(text);
        if (p == 1) return unexpected{"another daemon is listening on " + text};
        if (p != 0)
            return unexpected{"cannot check the existing socket " + text + ": " + errno_text(p)};
        if (::unlink(text.c_str()) != 0 && errno != ENOENT)
            return unexpected{"cannot remove the stale socket " + text + ": " + errno_text(errno)};
        log.info("control: replaced the stale socket {}", text);
    } else if (errno != ENOENT) {
        return unexpected{"cannot use " + text + ": " + errno_text(errno)};
    }

    auto st = std::make_shared<state>(io, log, std::move(h), limits);
    boost::system::error_code ec;
    st->acceptor.open(local(), ec);
    if (ec) return unexpected{"control socket " + text + ": " + ec.message()};
    set_cloexec(st->acceptor.native_handle());
    // Mode 0600 from the moment the file exists: the umask, not a later chmod.
    const mode_t old_mask = ::umask(0177);
    st->acceptor.bind(local::endpoint(text), ec);
    ::umask(old_mask);
    if (ec == asio::error::address_in_use)
        return unexpected{"another daemon is listening on " + text};
    if (ec) return unexpected{"cannot bind the control socket " + text + ": " + ec.message()};
    if (::lstat(text.c_str(), &sb) != 0) {
        const int e = errno;
        return unexpected{"control socket " + text + " vanished after bind: " + errno_text(e)};
    }
    auto remove_ours = [&] { ::unlink(text.c_str()); };
    if ((sb.st_mode & 07777) != 0600) {
        remove_ours();
        return unexpected{"control socket " + text + " was not created with mode 0600"};
    }
    st->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        remove_ours();
        return unexpected{"cannot listen on the control socket " + text + ": " + ec.message()};
    }
    return R(std::unique_ptr<control_server>(
        new control_server(std::move(st), std::move(path), sb.st_dev, sb.st_ino)));
}

void control_server::start() {
    spawn(st_, accept_loop(st_));
}

void control_server::stop() {
    if (stopped_) return;
    stopped_ = true;
    st_->stopping = true;
    boost::system::error_code ec;
    st_->acceptor.close(ec);
    for (auto& w : st_->clients)
        if (auto c = w.lock()) c->close();
    st_->clients.clear();
    struct stat sb {};
    if (::lstat(path_.c_str(), &sb) == 0 && sb.st_dev == dev_ && sb.st_ino == ino_)
        ::unlink(path_.c_str());
}

std::size_t control_server::clients() const noexcept {
    std::size_t n = 0;
    for (const auto& w : st_->clients)
        if (auto c = w.lock(); c && !c->closed) ++n;
    return n;
}

}  // namespace weft::io
