#include "probe.hpp"

#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include "crypto/random.hpp"
#include "io/unique_fd.hpp"
#include "wire/dns_probe.hpp"
#include "wire/icmp_echo.hpp"

namespace weft::nscheck {

namespace {

enum class kind { dns, icmp };

// One kind of probe to one server: its socket, what it sent, what it knows.
struct target {
    std::size_t server = 0;
    kind k = kind::dns;
    ip_family family = ip_family::v4;
    io::unique_fd fd;
    bool raw_v4 = false;  // a raw IPv4 socket delivers the IP header too
    unsigned sent = 0;
    clock::time_point next_event{};  // the next attempt, or giving up
    bool done = false;
    bool alive = false;
    std::string detail;
    std::vector<std::vector<std::uint8_t>> queries;  // DNS: every query sent so far
    icmp_echo::token token{};                        // ICMP: payload of every request
    std::uint16_t icmp_id = 0, seq_base = 0;
};

struct socket_address {
    sockaddr_storage storage{};
    socklen_t length = 0;
};

std::string errno_text(int e) {
    return std::strerror(e);
}

std::uint16_t random_u16() {
    std::array<std::uint8_t, 2> b{};
    crypto::random_bytes(b);
    return static_cast<std::uint16_t>(b[0] << 8 | b[1]);
}

const char* rcode_name(std::uint8_t r) noexcept {
    static constexpr const char* names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                            "NXDOMAIN", "NOTIMP",  "REFUSED"};
    return r < std::size(names) ? names[r] : "other RCODE";
}

// The socket address of a nameserver; an IPv6 scope is an interface name
// or a number.  Returns nullopt (and why, in `why`) if the scope is unknown.
std::optional<socket_address> address_of(const nameserver& ns, std::uint16_t port,
                                         std::string& why) {
    socket_address a;
    if (ns.address.family == ip_family::v4) {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        std::memcpy(&sin.sin_addr, ns.address.bytes.data(), 4);
        std::memcpy(&a.storage, &sin, sizeof sin);
        a.length = sizeof sin;
        return a;
    }
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    std::memcpy(&sin6.sin6_addr, ns.address.bytes.data(), 16);
    if (!ns.scope.empty()) {
        unsigned index = 0;
        const char* b = ns.scope.data();
        const char* e = b + ns.scope.size();
        auto [p, ec] = std::from_chars(b, e, index);
        if (ec != std::errc{} || p != e) index = ::if_nametoindex(ns.scope.c_str());
        if (index == 0) {
            why = "unknown interface " + ns.scope;
            return std::nullopt;
        }
        sin6.sin6_scope_id = index;
    }
    std::memcpy(&a.storage, &sin6, sizeof sin6);
    a.length = sizeof sin6;
    return a;
}

void finish(target& t, bool alive, std::string detail) {
    t.done = true;
    t.alive = alive;
    t.detail = std::move(detail);
    t.fd.reset();
}

// Opens and connects the socket: a connected UDP socket only receives from
// the server, and learns of an ICMP port unreachable as ECONNREFUSED.
void open_target(target& t, const nameserver& ns, const probe_settings& s) {
    std::string why;
    auto addr = address_of(ns, t.k == kind::dns ? s.port : 0, why);
    if (!addr) return finish(t, false, why);
    int domain = t.family == ip_family::v4 ? AF_INET : AF_INET6;
    if (t.k == kind::dns) {
        t.fd.reset(::socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    } else {
        int proto = t.family == ip_family::v4 ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
        // Unprivileged ping socket (net.ipv4.ping_group_range), else raw as root.
        t.fd.reset(::socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto));
        if (t.fd.get() < 0 && (errno == EACCES || errno == EPERM) && ::geteuid() == 0) {
            t.fd.reset(::socket(domain, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto));
            t.raw_v4 = t.family == ip_family::v4;
        }
        crypto::random_bytes(t.token);
        t.icmp_id = random_u16();
        t.seq_base = random_u16();
    }
    if (t.fd.get() < 0) return finish(t, false, "socket: " + errno_text(errno));
    if (::connect(t.fd.get(), reinterpret_cast<const sockaddr*>(&addr->storage), addr->length) != 0)
        return finish(t, false, "connect: " + errno_text(errno));
}

// An error on the socket (a previous attempt's ICMP error, or send failing)
// ends this attempt early: try again at once if attempts remain.
void attempt_failed(target& t, const probe_settings& s, int err, clock::time_point now) {
    t.detail = err == ECONNREFUSED ? "port unreachable" : errno_text(err);
    if (t.sent >= s.attempts) return finish(t, false, t.detail);
    t.next_event = now;
}

void send_attempt(target& t, const probe_settings& s, clock::time_point now) {
    std::vector<std::uint8_t> msg;
    if (t.k == kind::dns) {
        auto q = dns::build_query(random_u16(), s.query_name);
        WEFT_CHECK(q.has_value());  // the name was checked when parsing options
        msg = std::move(q).value();
        t.queries.push_back(msg);
    } else {
        msg = icmp_echo::build_request(t.family, t.icmp_id,
                                       static_cast<std::uint16_t>(t.seq_base + t.sent), t.token);
    }
    ++t.sent;
    t.next_event = now + s.timeout;
    for (;;) {
        ssize_t n = ::send(t.fd.get(), msg.data(), msg.size(), MSG_NOSIGNAL);
        if (n >= 0) return;
        if (errno == EINTR) continue;
        return attempt_failed(t, s, errno, now);
    }
}

// Is `data` a valid answer to something `t` sent?  Sets the reason in
// t.detail when not.
bool accept_reply(target& t, std::span<const std::uint8_t> data) {
    if (t.k == kind::dns) {
        std::optional<dns::reply_errc> last;
        for (const auto& q : t.queries) {
            auto r = dns::check_reply(q, data);
            if (r) {
                t.detail = std::string("answered (") + rcode_name(r->rcode) + ")";
                return true;
            }
            last = r.error();
        }
        t.detail =
            std::string("invalid reply (") + (last ? dns::to_string(*last) : "unexpected") + ")";
        return false;
    }
    if (t.raw_v4) {
        auto payload = icmp_echo::strip_ipv4_header(data);
        if (!payload) return false;
        data = *payload;
    }
    auto seq = icmp_echo::check_reply(t.family, data, t.token);
    // A raw socket sees every ICMP message from the server: ignore others.
    if (!seq || static_cast<std::uint16_t>(*seq - t.seq_base) >= t.sent) return false;
    t.detail = "answered ping";
    return true;
}

void drain(target& t, const probe_settings& s, std::vector<std::uint8_t>& buf,
           clock::time_point now) {
    while (!t.done) {
        ssize_t n = ::recv(t.fd.get(), buf.data(), buf.size(), MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;  // EWOULDBLOCK is the same on Linux
            attempt_failed(t, s, errno, now);
            return;
        }
        auto len = static_cast<std::size_t>(n);
        if (len > buf.size()) continue;  // cannot be a probe reply
        if (accept_reply(t, std::span<const std::uint8_t>(buf.data(), len)))
            finish(t, true, t.detail);
    }
}

std::string kind_name(kind k) {
    return k == kind::dns ? "dns" : "ping";
}

}  // namespace

std::vector<probe_outcome> probe_all(const std::vector<nameserver>& servers,
                                     const probe_settings& s, clock::time_point deadline) {
    std::vector<target> targets;
    std::vector<kind> kinds;
    if (s.method != probe_method::ping) kinds.push_back(kind::dns);
    if (s.method != probe_method::dns) kinds.push_back(kind::icmp);
    auto now = clock::now();
    for (std::size_t i = 0; i < servers.size(); ++i) {
        for (kind k : kinds) {
            target t;
            t.server = i;
            t.k = k;
            t.family = servers[i].address.family;
            t.next_event = now;
            open_target(t, servers[i], s);
            targets.push_back(std::move(t));
        }
    }

    std::vector<std::uint8_t> buf(65536);
    std::vector<pollfd> fds;
    std::vector<std::size_t> owner;
    for (;;) {
        now = clock::now();
        if (now >= deadline) {
            for (auto& t : targets)
                if (!t.done)
                    finish(t, false, t.detail.empty() ? "no answer before the deadline" : t.detail);
            break;
        }
        for (auto& t : targets) {
            if (t.done || now < t.next_event) continue;
            if (t.sent < s.attempts) {
                send_attempt(t, s, now);
            } else {
                finish(t, false, t.detail.empty() ? "no answer" : t.detail);
            }
        }
        // A server known to be alive needs no other probe.
        for (auto& t : targets) {
            if (t.done) continue;
            for (const auto& o : targets)
                if (o.server == t.server && o.alive) finish(t, false, "not needed");
        }

        fds.clear();
        owner.clear();
        auto wake = deadline;
        for (std::size_t i = 0; i < targets.size(); ++i) {
            const auto& t = targets[i];
            if (t.done) continue;
            fds.push_back(pollfd{t.fd.get(), POLLIN, 0});
            owner.push_back(i);
            wake = std::min(wake, t.next_event);
        }
        if (fds.empty()) break;
        auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake - now);
        int ms = static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, wait.count()));
        int r = ::poll(fds.data(), fds.size(), ms);
        if (r < 0) {
            if (errno == EINTR) continue;
            for (auto& t : targets)
                if (!t.done) finish(t, false, "poll: " + errno_text(errno));
            break;
        }
        now = clock::now();
        for (std::size_t j = 0; j < fds.size(); ++j)
            if (fds[j].revents != 0) drain(targets[owner[j]], s, buf, now);
    }

    std::vector<probe_outcome> out(servers.size());
    for (std::size_t i = 0; i < servers.size(); ++i) {
        std::string details;
        for (const auto& t : targets) {
            if (t.server != i) continue;
            if (t.alive) {
                out[i] = {true, kinds.size() > 1 ? kind_name(t.k) + " " + t.detail : t.detail};
                break;
            }
            if (t.detail == "not needed") continue;
            if (!details.empty()) details += "; ";
            details += kinds.size() > 1 ? kind_name(t.k) + ": " + t.detail : t.detail;
        }
        if (!out[i].alive) out[i].detail = details;
    }
    return out;
}

}  // namespace weft::nscheck
