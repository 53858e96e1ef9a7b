// io/tun_linux: a real TUN device, in a forked child that first moves into
// a network namespace of its own (unshare(CLONE_NEWNET)), so nothing here
// can touch the host's interfaces; the namespace and the device vanish with
// the child.  The child reports through a pipe (empty text: success) and
// its exit status.  Needs root and /dev/net/tun; without them the device
// cases say so and return.
//
// The end-to-end check: packets a UDP socket sends towards the TUN's
// subnet come out of the TUN fd whole and parse; the ICMP "unreachable"
// answer core builds for them, written back into the TUN, is accepted by
// the kernel and reaches the sending socket as ENETUNREACH (IPv4 and
// IPv6: so the real kernel agrees with our checksums).
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/icmp.hpp"
#include "core/ip_packet.hpp"
#include "io/tun_linux.hpp"
#include "io/udp_socket.hpp"
#include "wire/ip.hpp"

namespace {

using weft::ip_address;
using weft::io::tun_device;
using weft::io::udp_endpoint;
using weft::io::udp_socket;

constexpr const char* tun_name = "wefttest0";
constexpr unsigned tun_mtu = 1400;

// The kernel ABI of struct in6_ifreq (linux/ipv6.h), which cannot be
// included beside glibc's netinet/in.h in every combination.
struct in6_ifreq_abi {
    in6_addr addr;
    std::uint32_t prefixlen;
    int ifindex;
};

std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

bool can_use_tun() {
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("skipped: needs root (a network namespace and a TUN device)");
        return false;
    }
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) {
        BOOST_TEST_MESSAGE("skipped: /dev/net/tun is missing");
        return false;
    }
    return true;
}

// Runs `body` in a forked child inside a new network namespace.  Returns
// what failed ("" for success).  Bounded: a child that hangs is killed.
std::string run_in_netns(const std::function<std::string()>& body) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return errno_text("pipe2");
    pid_t pid = ::fork();
    if (pid < 0) return errno_text("fork");
    if (pid == 0) {
        ::close(pipefd[0]);
        std::string failure;
        if (::unshare(CLONE_NEWNET) != 0)
            failure = errno_text("unshare(CLONE_NEWNET)");
        else
            failure = body();
        if (!failure.empty()) (void)!::write(pipefd[1], failure.data(), failure.size());
        // _exit: no Boost.Test or atexit work in the child.
        ::_exit(failure.empty() ? 0 : 1);
    }
    ::close(pipefd[1]);
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool timed_out = false;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{pipefd[0], POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        char buf[512];
        ssize_t n = ::read(pipefd[0], buf, sizeof buf);
        if (n <= 0) break;  // EOF: the child is done
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(pipefd[0]);
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) return "the child took longer than 30 s: " + text;
    if (!WIFEXITED(status)) return "the child died: " + text;
    if (WEXITSTATUS(status) != 0 && text.empty()) return "the child failed without a message";
    return text;
}

// Interface configuration through ioctls: no dependency on `ip` in PATH.
std::string set_up_interface(const std::string& name) {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return errno_text("socket");
    auto fail = [&](const std::string& what) {
        std::string e = errno_text(what);
        ::close(s);
        return e;
    };
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.data(), name.size());

    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(0xc613fa01);  // 198.19.250.1
    std::memcpy(&ifr.ifr_addr, &sin, sizeof sin);
    if (::ioctl(s, SIOCSIFADDR, &ifr) != 0) return fail("SIOCSIFADDR");
    sin.sin_addr.s_addr = htonl(0xffffff00);  // /24
    std::memcpy(&ifr.ifr_netmask, &sin, sizeof sin);
    if (::ioctl(s, SIOCSIFNETMASK, &ifr) != 0) return fail("SIOCSIFNETMASK");

    if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) return fail("SIOCGIFFLAGS");
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) return fail("SIOCSIFFLAGS");
    ::close(s);

    // 2001:db8:fa::1/64.  No duplicate address detection on a NOARP link.
    int s6 = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s6 < 0) return errno_text("socket(AF_INET6)");
    in6_ifreq_abi req{};
    auto a = weft::parse_ip("2001:db8:fa::1");
    std::memcpy(req.addr.s6_addr, a->bytes.data(), 16);
    req.prefixlen = 64;
    req.ifindex = static_cast<int>(::if_nametoindex(name.c_str()));
    int r = ::ioctl(s6, SIOCSIFADDR, &req);
    std::string e = r != 0 ? errno_text("SIOCSIFADDR (IPv6)") : std::string();
    ::close(s6);
    return e;
}

bool wait_fd(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

// Sends one datagram from `local` to `peer` (inside the TUN's subnet),
// finds it on the TUN, checks it, answers it with ICMP unreachable through
// the TUN and expects the socket to hear ENETUNREACH.
// With `split`, the packet is read with read_split() into a 20-byte head
// and the rest, then joined: the checks below see the same bytes only if
// each part landed where it belongs.
std::string round_trip(tun_device& tun, const char* local, const char* peer, int recverr_level,
                       int recverr_option, bool split) {
    auto local_addr = *weft::parse_ip(local);
    auto peer_addr = *weft::parse_ip(peer);
    auto sock = udp_socket::open(0, local_addr);
    // An IPv6 address becomes usable only when the kernel's address work
    // (run from a workqueue, even without DAD on this NOARP link) has
    // finished: bounded retry.
    const std::string not_yet = std::strerror(EADDRNOTAVAIL);
    for (int tries = 0; !sock && sock.error().find(not_yet) != std::string::npos && tries < 100;
         ++tries) {
        ::usleep(20'000);
        sock = udp_socket::open(0, local_addr);
    }
    if (!sock) return sock.error();
    int one = 1;
    if (::setsockopt(sock->fd(), recverr_level, recverr_option, &one, sizeof one) != 0)
        return errno_text("setsockopt RECVERR");

    const std::string text = "weft tun test";
    std::vector<std::uint8_t> msg(text.begin(), text.end());
    if (sock->send(msg, udp_endpoint{peer_addr, 9}) != static_cast<ssize_t>(msg.size()))
        return errno_text(std::string("send to ") + peer);

    // The link may also carry the kernel's own IPv6 chatter (MLD, router
    // solicitations): skip anything that is not our datagram.
    std::array<std::uint8_t, 2048> buf{};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
        if (std::chrono::steady_clock::now() > deadline)
            return std::string("no UDP packet to ") + peer + " came out of the TUN";
        if (!wait_fd(tun.fd(), 200)) continue;
        std::array<std::uint8_t, 20> head{};
        ssize_t n = split ? tun.read_split(head, std::span(buf).subspan(head.size())) : tun.read(buf);
        if (n == -EAGAIN) continue;
        if (split && n > 0) std::memcpy(buf.data(), head.data(), std::min(head.size(), static_cast<std::size_t>(n)));
        if (n < 0) return "read from TUN: " + std::string(std::strerror(static_cast<int>(-n)));
        std::span<const std::uint8_t> packet(buf.data(), static_cast<std::size_t>(n));
        auto info = weft::parse_ip_packet(packet);
        if (!info) return "a packet from the TUN does not parse (" + std::to_string(n) + " bytes)";
        if (info->protocol != weft::ip_layout::proto_udp || info->dst != peer_addr) continue;

        if (info->src != local_addr) return "wrong source " + weft::to_string(info->src);
        if (info->is_fragment_non_first) return "unexpected fragment";
        if (packet.size() != info->header_length + 8 + msg.size())
            return "wrong packet size " + std::to_string(n);
        auto udp = packet.subspan(info->header_length);
        unsigned sport = unsigned{udp[0]} << 8 | udp[1], dport = unsigned{udp[2]} << 8 | udp[3];
        if (sport != sock->local_port() || dport != 9) return "wrong UDP ports";
        if (!std::equal(msg.begin(), msg.end(), udp.begin() + 8)) return "wrong UDP payload";

        std::array<std::uint8_t, weft::icmp_unreachable_max_size> answer{};
        std::size_t len = weft::build_icmp_unreachable(*info, packet, answer);
        if (len == 0) return "no ICMP answer was built";
        ssize_t w = tun.write(std::span<const std::uint8_t>(answer.data(), len));
        if (w != static_cast<ssize_t>(len))
            return "write to TUN: " + std::string(std::strerror(static_cast<int>(-w)));
        break;
    }

    if (!wait_fd(sock->fd(), 3000)) return std::string("no error reached the socket for ") + peer;
    udp_endpoint from;
    ssize_t r = sock->recv(buf, from);
    if (r != -ENETUNREACH)
        return std::string("expected ENETUNREACH for ") + peer + ", got " + std::to_string(r);
    return {};
}

std::string tun_scenario() {
    bool have_v6 = ::access("/proc/sys/net/ipv6", F_OK) == 0;

    auto opened = tun_device::open(tun_name, tun_mtu);
    if (!opened) return "open: " + opened.error();
    tun_device tun = std::move(opened).value();
    if (tun.name() != tun_name || tun.mtu() != tun_mtu || tun.fd() < 0) return "wrong accessors";
    if ((::fcntl(tun.fd(), F_GETFL) & O_NONBLOCK) == 0) return "TUN fd is blocking";
    if ((::fcntl(tun.fd(), F_GETFD) & FD_CLOEXEC) == 0) return "TUN fd is not close-on-exec";

    // The MTU as the kernel reports it.
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return errno_text("socket");
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, tun_name, std::strlen(tun_name));
    int r = ::ioctl(s, SIOCGIFMTU, &ifr);
    ::close(s);
    if (r != 0) return errno_text("SIOCGIFMTU");
    if (ifr.ifr_mtu != static_cast<int>(tun_mtu))
        return "kernel MTU is " + std::to_string(ifr.ifr_mtu);

    // open() leaves the link down and unaddressed (the `up` hook's job):
    // nothing to read yet.
    std::array<std::uint8_t, 64> small{};
    if (ssize_t n = tun.read(small); n != -EAGAIN)
        return "read on a fresh TUN returned " + std::to_string(n) + ", not -EAGAIN";
    if (ssize_t n = tun.read_split(std::span(small).first(20), std::span(small).subspan(20)); n != -EAGAIN)
        return "read_split on a fresh TUN returned " + std::to_string(n) + ", not -EAGAIN";

    if (auto e = set_up_interface(tun_name); !e.empty()) return e;
    if (auto e = round_trip(tun, "198.19.250.1", "198.19.250.2", IPPROTO_IP, IP_RECVERR, true);
        !e.empty())
        return e;
    if (have_v6) {
        if (auto e =
                round_trip(tun, "2001:db8:fa::1", "2001:db8:fa::2", IPPROTO_IPV6, IPV6_RECVERR, false);
            !e.empty())
            return e;
    }

    // The device is ours while we hold it: a second open fails, and says why.
    auto again = tun_device::open(tun_name, tun_mtu);
    if (again) return "a second open of the same device succeeded";
    if (again.error().find("cannot create TUN wefttest0 (TUNSETIFF): ") != 0)
        return "unexpected message: " + again.error();

    // Moves hand the descriptor over; the moved-from object owns nothing.
    int fd = tun.fd();
    tun_device moved = std::move(tun);
    if (moved.fd() != fd || tun.fd() != -1) return "move did not transfer the fd";  // NOLINT

    // Offloads on a kernel that has them (every one CI runs on): on, and
    // no refusal to log.
    auto off = tun_device::open("wefttest1", tun_mtu, true);
    if (!off) return "offload open: " + off.error();
    if (!off->offload() || !off->offload_refused().empty())
        return "offloads refused: " + off->offload_refused();
    return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tun)

BOOST_AUTO_TEST_CASE(name_rules) {
    using weft::io::tun_name_problem;
    BOOST_TEST(tun_name_problem("weft0") == nullptr);
    BOOST_TEST(tun_name_problem("abcdefghijklmno") == nullptr);  // 15
    BOOST_TEST(tun_name_problem("") != nullptr);
    BOOST_TEST(tun_name_problem("abcdefghijklmnop") != nullptr);  // 16
    for (const char* bad : {".", "..", "a/b", "a:b", "a b", "a\tb", "weft%d"})
        BOOST_TEST(tun_name_problem(bad) != nullptr, bad);
    BOOST_TEST(tun_name_problem(std::string_view("a\0b", 3)) != nullptr);
}

BOOST_AUTO_TEST_CASE(invalid_names_and_mtus_refused_with_a_message) {
    // Checked before any syscall; still run in a namespace when we can, so
    // a broken check could not create a device on the host.
    auto check = []() -> std::string {
        struct bad_case {
            std::string name;
            unsigned mtu;
            const char* expect;
        };
        for (const auto& c :
             {bad_case{"", 1420, "empty"}, bad_case{"abcdefghijklmnop", 1420, "longer than 15"},
              bad_case{"weft/0", 1420, "contains"},
              bad_case{"weft0", 67, "MTU 67 is outside 68..65535"},
              bad_case{"weft0", 65536, "MTU 65536 is outside"}}) {
            auto t = tun_device::open(c.name, c.mtu);
            if (t) return "accepted \"" + c.name + "\" mtu " + std::to_string(c.mtu);
            if (t.error().find(c.expect) == std::string::npos)
                return "message \"" + t.error() + "\" lacks \"" + c.expect + "\"";
        }
        return {};
    };
    std::string failure = ::geteuid() == 0 ? run_in_netns(check) : check();
    BOOST_TEST(failure.empty(), failure);
}

BOOST_AUTO_TEST_CASE(device_in_a_private_namespace) {
    if (!can_use_tun()) return;
    std::string failure = run_in_netns(tun_scenario);
    BOOST_TEST(failure.empty(), failure);
}

BOOST_AUTO_TEST_SUITE_END()
