// io/udp_socket: real sockets on 127.0.0.1 and ::1.  Single and batch
// exchanges in both families, the dual-stack socket's normalisation of
// IPv4-mapped senders, truncation, and ICMP-induced errors (ECONNREFUSED)
// arriving as values.
#include "io/udp_socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "wire/ip.hpp"

namespace {

using weft::ip_address;
using weft::ip_family;
using weft::io::udp_batch;
using weft::io::udp_endpoint;
using weft::io::udp_socket;
using bytes = std::vector<std::uint8_t>;

ip_address addr(const char* text) {
    auto a = weft::parse_ip(text);
    BOOST_TEST_REQUIRE(a.has_value());
    return *a;
}

udp_socket open_socket(std::optional<ip_address> bind = std::nullopt) {
    auto s = udp_socket::open(0, bind);
    BOOST_TEST_REQUIRE(s.has_value(), (s ? std::string() : s.error()));
    return std::move(s).value();
}

// Waits (bounded) until the socket has a datagram or an error to report.
bool wait_readable(const udp_socket& s, int timeout_ms = 2000) {
    pollfd p{s.fd(), POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

bytes payload(std::uint8_t tag, std::size_t n) {
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(tag + i);
    return b;
}

// A port with (very likely) no socket: bound, then closed again.
std::uint16_t closed_port(std::optional<ip_address> bind) {
    auto s = open_socket(bind);
    return s.local_port();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(udp)

BOOST_AUTO_TEST_CASE(endpoint_text) {
    BOOST_TEST(weft::io::to_string(udp_endpoint{addr("198.18.0.1"), 3406}) == "198.18.0.1:3406");
    BOOST_TEST(weft::io::to_string(udp_endpoint{addr("2001:db8::1"), 80}) == "[2001:db8::1]:80");
    BOOST_TEST((udp_endpoint{addr("198.18.0.1"), 1} == udp_endpoint{addr("198.18.0.1"), 1}));
    BOOST_TEST((udp_endpoint{addr("198.18.0.1"), 1} != udp_endpoint{addr("198.18.0.1"), 2}));
    BOOST_TEST((udp_endpoint{addr("198.18.0.1"), 1} != udp_endpoint{addr("198.18.0.2"), 1}));
}

BOOST_AUTO_TEST_CASE(sockaddr_conversions) {
    using weft::io::from_sockaddr;
    using weft::io::to_sockaddr;
    sockaddr_storage ss{};

    // IPv4 on an IPv4 socket: a plain sockaddr_in.
    udp_endpoint v4{addr("198.18.3.4"), 3406};
    socklen_t len = to_sockaddr(v4, false, ss);
    BOOST_TEST(len == sizeof(sockaddr_in));
    BOOST_TEST(ss.ss_family == AF_INET);
    auto back = from_sockaddr(ss, len);
    BOOST_TEST_REQUIRE(back.has_value());
    BOOST_TEST((*back == v4));

    // IPv4 on an IPv6 socket: mapped, and mapped comes back as IPv4.
    len = to_sockaddr(v4, true, ss);
    BOOST_TEST(len == sizeof(sockaddr_in6));
    BOOST_TEST(ss.ss_family == AF_INET6);
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &ss, sizeof sin6);
    const std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 3, 4};
    BOOST_TEST(std::memcmp(sin6.sin6_addr.s6_addr, mapped, 16) == 0);
    BOOST_TEST(ntohs(sin6.sin6_port) == 3406);
    back = from_sockaddr(ss, len);
    BOOST_TEST_REQUIRE(back.has_value());
    BOOST_TEST((back->addr.family == ip_family::v4));
    BOOST_TEST((*back == v4));

    // IPv6 stays IPv6, and cannot go out of an IPv4 socket.
    udp_endpoint v6{addr("2001:db8::7"), 9};
    len = to_sockaddr(v6, true, ss);
    back = from_sockaddr(ss, len);
    BOOST_TEST_REQUIRE(back.has_value());
    BOOST_TEST((*back == v6));
    BOOST_TEST(to_sockaddr(v6, false, ss) == 0u);

    // A length too short for the family, or another family: refused.
    to_sockaddr(v4, false, ss);
    BOOST_TEST(!from_sockaddr(ss, sizeof(sockaddr_in) - 1).has_value());
    ss.ss_family = AF_UNIX;
    BOOST_TEST(!from_sockaddr(ss, sizeof ss).has_value());
}

BOOST_AUTO_TEST_CASE(open_properties) {
    auto s = open_socket();
    BOOST_TEST(s.is_v6());  // dual-stack by default
    BOOST_TEST(s.local_port() != 0);
    int flags = ::fcntl(s.fd(), F_GETFL);
    BOOST_TEST((flags & O_NONBLOCK) != 0);
    BOOST_TEST((::fcntl(s.fd(), F_GETFD) & FD_CLOEXEC) != 0);
    int v6only = 1;
    socklen_t len = sizeof v6only;
    BOOST_TEST(::getsockopt(s.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) == 0);
    BOOST_TEST(v6only == 0);

    // The buffer: forced past rmem_max when allowed, else capped by it; the
    // kernel reports double what it was given either way.
    long rmem_max = 0;
    std::ifstream("/proc/sys/net/core/rmem_max") >> rmem_max;
    int rcv = 0;
    len = sizeof rcv;
    BOOST_TEST(::getsockopt(s.fd(), SOL_SOCKET, SO_RCVBUF, &rcv, &len) == 0);
    BOOST_TEST_MESSAGE("SO_RCVBUF " << rcv << ", rmem_max " << rmem_max);
    if (rmem_max > 0)
        BOOST_TEST(rcv >= 2 * std::min<long>(weft::io::udp_default_buffer_bytes, rmem_max));

    auto v4 = open_socket(addr("127.0.0.1"));
    BOOST_TEST(!v4.is_v6());

    // The same port twice: the error names the call and the errno text.
    auto again = udp_socket::open(s.local_port());
    BOOST_TEST_REQUIRE(!again.has_value());
    BOOST_TEST(again.error().find("cannot bind UDP [::]:") == 0u, again.error());
    BOOST_TEST(again.error().find(std::strerror(EADDRINUSE)) != std::string::npos, again.error());
}

BOOST_AUTO_TEST_CASE(move_transfers_ownership) {
    auto a = open_socket(addr("127.0.0.1"));
    int fd = a.fd();
    udp_socket b = std::move(a);
    BOOST_TEST(a.fd() == -1);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    BOOST_TEST(b.fd() == fd);
    auto c = open_socket(addr("127.0.0.1"));
    c = std::move(b);
    BOOST_TEST(c.fd() == fd);
    BOOST_TEST(::fcntl(fd, F_GETFD) != -1);
}

BOOST_AUTO_TEST_CASE(empty_socket_says_eagain) {
    auto s = open_socket();
    bytes buf(64);
    udp_endpoint from;
    BOOST_TEST(s.recv(buf, from) == -EAGAIN);
    udp_batch<4> batch;
    for (auto& m : batch.messages()) m.buffer = buf;
    BOOST_TEST(s.recv_batch(batch) == -EAGAIN);
}

BOOST_AUTO_TEST_CASE(ipv4_exchange_and_mapped_normalisation) {
    auto v4 = open_socket(addr("127.0.0.1"));
    auto dual = open_socket();
    auto msg = payload(1, 100);
    BOOST_TEST(v4.send(msg, udp_endpoint{addr("127.0.0.1"), dual.local_port()}) == 100);

    BOOST_TEST_REQUIRE(wait_readable(dual));
    bytes buf(2048);
    udp_endpoint from;
    BOOST_TEST(dual.recv(buf, from) == 100);
    BOOST_TEST(bytes(buf.begin(), buf.begin() + 100) == msg);
    // Arrived as ::ffff:127.0.0.1 on the IPv6 socket; reported as IPv4.
    BOOST_TEST((from.addr.family == ip_family::v4));
    BOOST_TEST((from == udp_endpoint{addr("127.0.0.1"), v4.local_port()}));

    // And the dual-stack socket answers an IPv4 endpoint (sent as mapped).
    auto reply = payload(2, 7);
    BOOST_TEST(dual.send(reply, from) == 7);
    BOOST_TEST_REQUIRE(wait_readable(v4));
    BOOST_TEST(v4.recv(buf, from) == 7);
    BOOST_TEST((from == udp_endpoint{addr("127.0.0.1"), dual.local_port()}));
}

BOOST_AUTO_TEST_CASE(ipv6_exchange) {
    auto v6 = open_socket(addr("::1"));
    auto dual = open_socket();
    BOOST_TEST(v6.is_v6());
    auto msg = payload(3, 1400);
    BOOST_TEST(v6.send(msg, udp_endpoint{addr("::1"), dual.local_port()}) == 1400);
    BOOST_TEST_REQUIRE(wait_readable(dual));
    bytes buf(2048);
    udp_endpoint from;
    BOOST_TEST(dual.recv(buf, from) == 1400);
    BOOST_TEST(bytes(buf.begin(), buf.begin() + 1400) == msg);
    BOOST_TEST((from == udp_endpoint{addr("::1"), v6.local_port()}));

    // An IPv4 socket cannot reach an IPv6 endpoint: a value, not a throw.
    auto v4 = open_socket(addr("127.0.0.1"));
    BOOST_TEST(v4.send(msg, from) == -EAFNOSUPPORT);
}

BOOST_AUTO_TEST_CASE(truncated_datagram_is_reported) {
    auto a = open_socket(addr("127.0.0.1"));
    auto b = open_socket(addr("127.0.0.1"));
    udp_endpoint to{addr("127.0.0.1"), b.local_port()};
    auto msg = payload(4, 100);
    BOOST_TEST(a.send(msg, to) == 100);
    BOOST_TEST(a.send(msg, to) == 100);
    BOOST_TEST_REQUIRE(wait_readable(b));
    bytes small(10);
    udp_endpoint from;
    BOOST_TEST(b.recv(small, from) == -EMSGSIZE);

    udp_batch<2> batch;
    batch[0].buffer = small;
    bytes big(200);
    batch[1].buffer = big;
    BOOST_TEST_REQUIRE(wait_readable(b));
    BOOST_TEST(b.recv_batch(batch) == 1);
    BOOST_TEST(batch[0].truncated);
    BOOST_TEST(batch[0].size == 10u);
}

BOOST_AUTO_TEST_CASE(batch_exchange_both_families) {
    auto dual = open_socket();
    auto v4 = open_socket(addr("127.0.0.1"));
    auto v6 = open_socket(addr("::1"));

    // One send_batch from the dual-stack socket to an IPv4 and an IPv6 peer.
    constexpr std::size_t n = 6;
    std::vector<bytes> msgs;
    udp_batch<8> out;
    for (std::size_t i = 0; i < n; ++i) {
        msgs.push_back(payload(static_cast<std::uint8_t>(10 * i), 50 + i));
        out[i].buffer = msgs.back();
        out[i].size = msgs.back().size();
        out[i].peer = i % 2 ? udp_endpoint{addr("::1"), v6.local_port()}
                            : udp_endpoint{addr("127.0.0.1"), v4.local_port()};
    }
    int sent = 0;
    while (sent < static_cast<int>(n)) {
        int r = dual.send_batch(out, static_cast<std::size_t>(sent), n);
        BOOST_TEST_REQUIRE(r > 0, "send_batch: " << r);
        sent += r;
    }

    // Each peer drains its three with recv_batch.
    for (auto* s : {&v4, &v6}) {
        std::vector<bytes> bufs(8, bytes(2048));
        udp_batch<8> in;
        for (std::size_t i = 0; i < 8; ++i) in[i].buffer = bufs[i];
        std::vector<bytes> got;
        while (got.size() < n / 2) {
            BOOST_TEST_REQUIRE(wait_readable(*s));
            int r = s->recv_batch(in);
            BOOST_TEST_REQUIRE(r > 0, "recv_batch: " << r);
            for (int i = 0; i < r; ++i) {
                auto& m = in[static_cast<std::size_t>(i)];
                BOOST_TEST(!m.truncated);
                BOOST_TEST(m.peer.port == dual.local_port());
                BOOST_TEST((m.peer.addr.family == (s == &v4 ? ip_family::v4 : ip_family::v6)));
                got.emplace_back(m.buffer.begin(),
                                 m.buffer.begin() + static_cast<std::ptrdiff_t>(m.size));
            }
        }
        BOOST_TEST(got.size() == n / 2);
        std::size_t first = s == &v4 ? 0 : 1;
        for (std::size_t k = 0; k < got.size(); ++k) BOOST_TEST(got[k] == msgs[first + 2 * k]);
    }
}

BOOST_AUTO_TEST_CASE(send_batch_stops_before_an_unsendable_destination) {
    auto v4 = open_socket(addr("127.0.0.1"));
    auto peer = open_socket(addr("127.0.0.1"));
    auto msg = payload(5, 20);
    udp_batch<3> out;
    for (std::size_t i = 0; i < 3; ++i) {
        out[i].buffer = msg;
        out[i].size = msg.size();
        out[i].peer = udp_endpoint{addr("127.0.0.1"), peer.local_port()};
    }
    out[1].peer = udp_endpoint{addr("::1"), peer.local_port()};
    BOOST_TEST(v4.send_batch(out, 0, 3) == 1);
    BOOST_TEST(v4.send_batch(out, 1, 3) == -EAFNOSUPPORT);
    BOOST_TEST(v4.send_batch(out, 2, 3) == 1);
    BOOST_TEST(v4.send_batch(out, 2, 99) == 1);  // end clamped to N
    BOOST_TEST(v4.send_batch(out, 3, 3) == 0);
}

// ICMP port unreachable is only reported to an unconnected socket when
// IP_RECVERR is on; the daemon keeps it off, so turn it on here to make the
// kernel hand us ECONNREFUSED, and check it is a value and the socket
// keeps working.
BOOST_AUTO_TEST_CASE(connection_refused_is_a_value) {
    struct family_case {
        const char* loopback;
        int level, option;
    };
    for (auto fc : {family_case{"127.0.0.1", IPPROTO_IP, IP_RECVERR},
                    family_case{"::1", IPPROTO_IPV6, IPV6_RECVERR}}) {
        BOOST_TEST_CONTEXT(fc.loopback) {
            auto s = open_socket(addr(fc.loopback));
            int one = 1;
            BOOST_TEST_REQUIRE(::setsockopt(s.fd(), fc.level, fc.option, &one, sizeof one) == 0);
            udp_endpoint nobody{addr(fc.loopback), closed_port(addr(fc.loopback))};
            auto msg = payload(6, 16);
            BOOST_TEST(s.send(msg, nobody) == 16);

            BOOST_TEST_REQUIRE(wait_readable(s));  // POLLERR is reported too
            bytes buf(64);
            udp_endpoint from;
            BOOST_TEST(s.recv(buf, from) == -ECONNREFUSED);

            // Still usable afterwards.
            auto peer = open_socket(addr(fc.loopback));
            BOOST_TEST(s.send(msg, udp_endpoint{addr(fc.loopback), peer.local_port()}) == 16);
            BOOST_TEST_REQUIRE(wait_readable(peer));
            BOOST_TEST(peer.recv(buf, from) == 16);
            BOOST_TEST((from == udp_endpoint{addr(fc.loopback), s.local_port()}));
        }
    }
}

// UDP_SEGMENT out, UDP_GRO in, over loopback: the bytes arrive whole, cut
// where the sender said (each piece one datagram: 1000, 1000, 1000, 300),
// whether the kernel hands them over coalesced or one by one; a socket
// without GRO gets four plain datagrams.
BOOST_AUTO_TEST_CASE(gso_send_and_gro_receive) {
    auto tx = open_socket(addr("127.0.0.1"));
    auto gro = open_socket(addr("127.0.0.1"));
    auto plain = open_socket(addr("127.0.0.1"));
    if (!tx.probe_gso() || !gro.enable_gro()) {
        BOOST_TEST_MESSAGE("kernel without UDP GSO/GRO: skipped");
        return;
    }
    const bytes data = payload(9, 3300);
    BOOST_TEST(tx.send_gso(data, 1000, udp_endpoint{addr("127.0.0.1"), gro.local_port()}) == 3300);
    BOOST_TEST(tx.send_gso(data, 1000, udp_endpoint{addr("127.0.0.1"), plain.local_port()}) == 3300);
    BOOST_TEST(tx.send_gso(data, 0, udp_endpoint{addr("127.0.0.1"), plain.local_port()}) == -EINVAL);

    bytes got, buf(65536);
    std::vector<std::size_t> pieces;
    while (got.size() < data.size()) {
        BOOST_TEST_REQUIRE(wait_readable(gro));
        udp_endpoint from;
        std::size_t segment = 0;
        ssize_t n = gro.recv_gro(buf, from, segment);
        BOOST_TEST_REQUIRE(n > 0);
        BOOST_TEST((from == udp_endpoint{addr("127.0.0.1"), tx.local_port()}));
        for (std::size_t off = 0; off < static_cast<std::size_t>(n); off += segment)
            pieces.push_back(std::min(segment, static_cast<std::size_t>(n) - off));
        got.insert(got.end(), buf.begin(), buf.begin() + n);
    }
    BOOST_TEST(got == data);
    BOOST_TEST(pieces == (std::vector<std::size_t>{1000, 1000, 1000, 300}), boost::test_tools::per_element());

    std::vector<std::size_t> sizes;
    for (int i = 0; i < 4; ++i) {
        BOOST_TEST_REQUIRE(wait_readable(plain));
        udp_endpoint from;
        ssize_t n = plain.recv(buf, from);
        BOOST_TEST_REQUIRE(n > 0);
        sizes.push_back(static_cast<std::size_t>(n));
    }
    BOOST_TEST(sizes == (std::vector<std::size_t>{1000, 1000, 1000, 300}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
