#include "io/udp_socket.hpp"

#include <netinet/udp.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "base/check.hpp"

namespace weft::io {

namespace {

std::string errno_text(int err) {
    return std::generic_category().message(err);
}

constexpr std::array<std::uint8_t, 12> v4_mapped_prefix = {0, 0, 0, 0, 0,    0,
                                                           0, 0, 0, 0, 0xff, 0xff};

bool is_v4_mapped(const ip_address& a) {
    return a.family == ip_family::v6 &&
           std::equal(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), a.bytes.begin());
}

ip_address unmapped(const ip_address& a) {
    return ip_address::v4(a.bytes[12], a.bytes[13], a.bytes[14], a.bytes[15]);
}

sockaddr* as_sockaddr(sockaddr_storage& ss) {
    return reinterpret_cast<sockaddr*>(&ss);
}

// Best effort: the kernel default is a working, if smaller, buffer.
void set_buffer(int fd, int force_option, int option, int bytes) {
    if (::setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) == 0) return;
    (void)::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
}

struct fd_guard {
    int fd = -1;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
    int release() noexcept {
        int f = fd;
        fd = -1;
        return f;
    }
};

}  // namespace

std::string to_string(const udp_endpoint& e) {
    std::string port = std::to_string(e.port);
    if (e.addr.family == ip_family::v6) return "[" + to_string(e.addr) + "]:" + port;
    return to_string(e.addr) + ":" + port;
}

[[gnu::hot]] socklen_t to_sockaddr(const udp_endpoint& e, bool v6_socket, sockaddr_storage& out) noexcept {
    if (e.addr.family == ip_family::v4 && !v6_socket) {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(e.port);
        std::memcpy(&sin.sin_addr, e.addr.bytes.data(), 4);
        std::memcpy(&out, &sin, sizeof sin);
        return sizeof sin;
    }
    if (!v6_socket) return 0;
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(e.port);
    if (e.addr.family == ip_family::v4) {
        std::memcpy(sin6.sin6_addr.s6_addr, v4_mapped_prefix.data(), v4_mapped_prefix.size());
        std::memcpy(sin6.sin6_addr.s6_addr + 12, e.addr.bytes.data(), 4);
    } else {
        std::memcpy(sin6.sin6_addr.s6_addr, e.addr.bytes.data(), 16);
    }
    std::memcpy(&out, &sin6, sizeof sin6);
    return sizeof sin6;
}

[[gnu::hot]] std::optional<udp_endpoint> from_sockaddr(const sockaddr_storage& in, socklen_t len) noexcept {
    udp_endpoint e;
    if (in.ss_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
        sockaddr_in sin{};
        std::memcpy(&sin, &in, sizeof sin);
        e.addr.family = ip_family::v4;
        std::memcpy(e.addr.bytes.data(), &sin.sin_addr, 4);
        e.port = ntohs(sin.sin_port);
        return e;
    }
    if (in.ss_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        sockaddr_in6 sin6{};
        std::memcpy(&sin6, &in, sizeof sin6);
        e.addr.family = ip_family::v6;
        std::memcpy(e.addr.bytes.data(), sin6.sin6_addr.s6_addr, 16);
        if (is_v4_mapped(e.addr)) e.addr = unmapped(e.addr);
        e.port = ntohs(sin6.sin6_port);
        return e;
    }
    return std::nullopt;
}

result<udp_socket, std::string> udp_socket::open(std::uint16_t port,
                                                 std::optional<ip_address> bind_address,
                                                 int buffer_bytes) {
    // A mapped bind address means its IPv4 address: bind that on an IPv4
    // socket rather than an IPv6 socket that only hears IPv4.
    if (bind_address && is_v4_mapped(*bind_address)) bind_address = unmapped(*bind_address);

    bool v6 = !bind_address || bind_address->family == ip_family::v6;
    fd_guard s{::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (s.fd < 0 && v6 && !bind_address && errno == EAFNOSUPPORT) {
        // A kernel without IPv6 (ipv6.disable=1): IPv4 alone still works.
        v6 = false;
        s.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (s.fd < 0) return unexpected{"cannot create UDP socket: " + errno_text(errno)};

    udp_endpoint local;
    if (bind_address) {
        local.addr = *bind_address;
    } else {
        local.addr.family = v6 ? ip_family::v6 : ip_family::v4;
    }
    local.port = port;

    int zero = 0;
    if (v6 && local.addr.is_unspecified()) {
        // Distributions set net.ipv6.bindv6only differently: say it.
        if (::setsockopt(s.fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0)
            return unexpected{"setsockopt IPV6_V6ONLY: " + errno_text(errno)};
    }
    // ICMP errors must not turn into socket errors on the receive loop.  Off
    // by default; made explicit.  Failure changes nothing, so it is ignored.
    (void)::setsockopt(s.fd, IPPROTO_IP, IP_RECVERR, &zero, sizeof zero);
    if (v6) (void)::setsockopt(s.fd, IPPROTO_IPV6, IPV6_RECVERR, &zero, sizeof zero);
    if (buffer_bytes > 0) {
        set_buffer(s.fd, SO_RCVBUFFORCE, SO_RCVBUF, buffer_bytes);
        set_buffer(s.fd, SO_SNDBUFFORCE, SO_SNDBUF, buffer_bytes);
    }

    sockaddr_storage ss{};
    socklen_t len = to_sockaddr(local, v6, ss);
    WEFT_CHECK(len != 0);  // the socket's family was chosen from the address
    if (::bind(s.fd, as_sockaddr(ss), len) != 0)
        return unexpected{"cannot bind UDP " + to_string(local) + ": " + errno_text(errno)};

    sockaddr_storage bound{};
    socklen_t bound_len = sizeof bound;
    if (::getsockname(s.fd, as_sockaddr(bound), &bound_len) != 0)
        return unexpected{"getsockname on UDP socket: " + errno_text(errno)};
    auto actual = from_sockaddr(bound, bound_len);
    if (!actual) return unexpected{std::string("getsockname on UDP socket: unexpected family")};
    return udp_socket(s.release(), v6, actual->port);
}

// One datagram (or one GRO run) with its sender into `msg`, which may carry
// a control buffer for ancillary data (recv_gro).
[[gnu::hot]] ssize_t udp_socket::recv_msg(std::span<std::uint8_t> buf, udp_endpoint& from, msghdr& msg) noexcept {
    sockaddr_storage ss{};
    iovec iov{buf.data(), buf.size()};
    msg.msg_name = &ss;
    msg.msg_namelen = sizeof ss;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n;
    do {
        n = ::recvmsg(fd_.get(), &msg, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (msg.msg_flags & MSG_TRUNC) return -EMSGSIZE;
    auto peer = from_sockaddr(ss, msg.msg_namelen);
    if (!peer) return -EAFNOSUPPORT;
    from = *peer;
    return n;
}

ssize_t udp_socket::recv(std::span<std::uint8_t> buf, udp_endpoint& from) noexcept {
    msghdr msg{};
    return recv_msg(buf, from, msg);
}

[[gnu::hot]] ssize_t udp_socket::send(std::span<const std::uint8_t> data, const udp_endpoint& to) noexcept {
    sockaddr_storage ss{};
    socklen_t len = to_sockaddr(to, v6_, ss);
    if (len == 0) return -EAFNOSUPPORT;
    ssize_t n;
    do {
        n = ::sendto(fd_.get(), data.data(), data.size(), 0, as_sockaddr(ss), len);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

bool udp_socket::probe_gso() noexcept {
    int zero = 0;
    return ::setsockopt(fd_.get(), SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
}

bool udp_socket::enable_gro() noexcept {
    int one = 1;
    return ::setsockopt(fd_.get(), SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
}

[[gnu::hot]] ssize_t udp_socket::send_gso(std::span<const std::uint8_t> data, std::size_t segment, const udp_endpoint& to) noexcept {
    sockaddr_storage ss{};
    socklen_t len = to_sockaddr(to, v6_, ss);
    if (len == 0) return -EAFNOSUPPORT;
    if (segment == 0 || segment > 0xffff) return -EINVAL;
    iovec iov{const_cast<std::uint8_t*>(data.data()), data.size()};
    alignas(cmsghdr) std::uint8_t control[CMSG_SPACE(sizeof(std::uint16_t))] = {};
    msghdr msg{};
    msg.msg_name = &ss;
    msg.msg_namelen = len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (segment < data.size()) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
        const std::uint16_t seg = static_cast<std::uint16_t>(segment);
        std::memcpy(CMSG_DATA(c), &seg, sizeof seg);
    }
    ssize_t n;
    do {
        n = ::sendmsg(fd_.get(), &msg, 0);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

[[gnu::hot]] ssize_t udp_socket::recv_gro(std::span<std::uint8_t> buf, udp_endpoint& from, std::size_t& segment) noexcept {
    alignas(cmsghdr) std::uint8_t control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = recv_msg(buf, from, msg);
    if (n < 0) return n;
    segment = static_cast<std::size_t>(n);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int seg = 0;
            std::memcpy(&seg, CMSG_DATA(c), sizeof seg);
            if (seg > 0 && static_cast<std::size_t>(seg) < segment) segment = static_cast<std::size_t>(seg);
        }
    }
    return n;
}

[[gnu::hot]] int udp_socket::recv_batch_impl(std::span<udp_message> msgs, std::span<mmsghdr> headers,
                                std::span<iovec> iov, std::span<sockaddr_storage> addrs) noexcept {
    std::size_t count = msgs.size();
    WEFT_CHECK(headers.size() >= count && iov.size() >= count && addrs.size() >= count);
    for (std::size_t i = 0; i < count; ++i) {
        iov[i] = iovec{msgs[i].buffer.data(), msgs[i].buffer.size()};
        msghdr& h = headers[i].msg_hdr;
        h = msghdr{};
        h.msg_name = &addrs[i];
        h.msg_namelen = sizeof addrs[i];
        h.msg_iov = &iov[i];
        h.msg_iovlen = 1;
        headers[i].msg_len = 0;
    }
    int n;
    do {
        n = ::recvmmsg(fd_.get(), headers.data(), static_cast<unsigned>(count), 0, nullptr);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
        udp_message& m = msgs[i];
        m.size = headers[i].msg_len;
        m.truncated = (headers[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        auto peer = from_sockaddr(addrs[i], headers[i].msg_hdr.msg_namelen);
        m.peer = peer ? *peer : udp_endpoint{};
    }
    return n;
}

[[gnu::hot]] int udp_socket::send_batch_impl(std::span<udp_message> msgs, std::span<mmsghdr> headers,
                                std::span<iovec> iov, std::span<sockaddr_storage> addrs) noexcept {
    std::size_t count = msgs.size();
    WEFT_CHECK(headers.size() >= count && iov.size() >= count && addrs.size() >= count);
    for (std::size_t i = 0; i < count; ++i) {
        const udp_message& m = msgs[i];
        WEFT_CHECK(m.size <= m.buffer.size());
        socklen_t len = to_sockaddr(m.peer, v6_, addrs[i]);
        if (len == 0) {
            // Send what precedes it; the caller meets this one first next time.
            if (i == 0) return -EAFNOSUPPORT;
            count = i;
            break;
        }
        iov[i] = iovec{m.buffer.data(), m.size};
        msghdr& h = headers[i].msg_hdr;
        h = msghdr{};
        h.msg_name = &addrs[i];
        h.msg_namelen = len;
        h.msg_iov = &iov[i];
        h.msg_iovlen = 1;
        headers[i].msg_len = 0;
    }
    int n;
    do {
        n = ::sendmmsg(fd_.get(), headers.data(), static_cast<unsigned>(count), 0);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

}  // namespace weft::io
