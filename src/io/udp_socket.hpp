// The data plane's UDP socket: one non-blocking, close-on-exec socket that
// by default takes both families ([::]:port with IPV6_V6ONLY off), plain
// sendto/recvfrom for one datagram and sendmmsg/recvmmsg for batches.
//
// Error policy (the packet path): nothing here throws or allocates after
// open(); calls return -errno.  -EAGAIN is the ordinary "nothing ready".
// -ECONNREFUSED (and the other ICMP-induced errors) are values the caller
// ignores: a peer's closed port must never end a receive loop.  With
// IP_RECVERR off and the socket unconnected, Linux does not report them at
// all; they can still appear if someone turns it on through fd().
//
// Addresses: udp_endpoint holds plain IPv4 or IPv6, never an IPv4-mapped
// IPv6 address (::ffff:a.b.c.d).  A mapped sender on the dual-stack socket
// comes back as IPv4, and an IPv4 destination is sent as mapped when the
// socket is IPv6, so the rest of weft compares endpoints with one form
// (peers' BNL endpoints, roaming).  Link-local IPv6 peers are not
// supported: there is no scope id.
#pragma once

#include "io/unique_fd.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/result.hpp"
#include "wire/ip.hpp"

namespace weft::io {

struct udp_endpoint {
    ip_address addr;
    std::uint16_t port = 0;

    friend auto operator<=>(const udp_endpoint&, const udp_endpoint&) = default;
};

// "198.18.0.1:3406", "[2001:db8::1]:3406".
std::string to_string(const udp_endpoint& e);

// Fills `out` for sendto/bind.  An IPv4 endpoint is written as an
// IPv4-mapped sockaddr_in6 when `v6_socket`; an IPv6 endpoint on an IPv4
// socket cannot be expressed: returns 0.  Otherwise returns the length.
socklen_t to_sockaddr(const udp_endpoint& e, bool v6_socket, sockaddr_storage& out) noexcept;

// The endpoint in a kernel address, with IPv4-mapped IPv6 normalised to
// IPv4; nullopt for another family or a too-short length.
std::optional<udp_endpoint> from_sockaddr(const sockaddr_storage& in, socklen_t len) noexcept;

// One datagram of a batch.  recv_batch: `buffer` is where it goes (set by
// the caller, its size the capacity); `size`, `peer` and `truncated` are
// filled.  send_batch: the bytes are buffer.first(size), sent to `peer`.
struct udp_message {
    std::span<std::uint8_t> buffer;
    std::size_t size = 0;
    udp_endpoint peer;
    bool truncated = false;  // the datagram was larger than `buffer`; dropped
};

// Storage for batch calls of up to N datagrams: the messages plus the
// kernel's structures for them.  Caller-owned and reused (one per loop), so
// batch calls never allocate.
template <std::size_t N>
class udp_batch {
  public:
    static_assert(N > 0 && N <= 1024, "UIO_MAXIOV bounds one sendmmsg/recvmmsg");
    static constexpr std::size_t capacity = N;

    std::span<udp_message> messages() noexcept { return msgs_; }
    udp_message& operator[](std::size_t i) noexcept { return msgs_[i]; }

  private:
    friend class udp_socket;
    std::array<udp_message, N> msgs_{};
    std::array<mmsghdr, N> headers_{};
    std::array<iovec, N> iov_{};
    std::array<sockaddr_storage, N> addrs_{};
};

// Kernel buffer size asked for by default (the kernel doubles it for its
// bookkeeping): a few milliseconds of traffic at gigabit rates, so a burst
// is not dropped while the loop is busy.
inline constexpr int udp_default_buffer_bytes = 4 << 20;

class udp_socket {
  public:
    // Binds `port` (0: the kernel picks; see local_port()).  Without
    // bind_address: one dual-stack socket on [::]:port, or 0.0.0.0:port when
    // the kernel has no IPv6.  With one: a socket of its family bound to it
    // ("::" gives the dual-stack socket too).  SO_RCVBUF/SO_SNDBUF are set
    // to buffer_bytes (SO_*BUFFORCE first, which lets root pass
    // net.core.rmem_max; a refusal is silent: the kernel default stays);
    // 0 leaves the kernel's default.  Errors: one line naming the call and
    // the errno text.
    static result<udp_socket, std::string> open(
        std::uint16_t port, std::optional<ip_address> bind_address = std::nullopt,
        int buffer_bytes = udp_default_buffer_bytes);

    udp_socket(udp_socket&&) noexcept = default;
    udp_socket& operator=(udp_socket&&) noexcept = default;
    udp_socket(const udp_socket&) = delete;
    udp_socket& operator=(const udp_socket&) = delete;
    ~udp_socket() = default;

    int fd() const noexcept { return fd_.get(); }
    // Whether the socket is AF_INET6 (dual-stack unless bound to an address).
    bool is_v6() const noexcept { return v6_; }
    std::uint16_t local_port() const noexcept { return port_; }

    // One datagram: its size, or -errno.  A datagram larger than `buf` is
    // consumed and reported as -EMSGSIZE.
    ssize_t recv(std::span<std::uint8_t> buf, udp_endpoint& from) noexcept;
    // Bytes sent, or -errno; -EAFNOSUPPORT for an IPv6 destination on an
    // IPv4 socket.
    ssize_t send(std::span<const std::uint8_t> data, const udp_endpoint& to) noexcept;

    // --- segmentation offloads (Linux 4.18+ / 5.0+)
    // UDP_SEGMENT is usable on this socket (probed with setsockopt).
    bool probe_gso() noexcept;
    // Turns UDP_GRO on: recv_gro() may then return several datagrams of one
    // sender in one buffer.  False when the kernel refuses.
    bool enable_gro() noexcept;
    // `data` is datagrams of `segment` bytes each (the last may be shorter),
    // all to `to`, sent with one sendmsg and UDP_SEGMENT.  Bytes sent or
    // -errno (-EIO/-EINVAL: the path cannot segment; send them one by one).
    ssize_t send_gso(std::span<const std::uint8_t> data, std::size_t segment, const udp_endpoint& to) noexcept;
    // Like recv(), and `segment` is the size of each coalesced datagram
    // (the last may be shorter), or the whole size when not coalesced.
    ssize_t recv_gro(std::span<std::uint8_t> buf, udp_endpoint& from, std::size_t& segment) noexcept;

    // Receives up to N datagrams into batch[0..]: how many arrived (> 0), or
    // -errno (-EAGAIN when none was waiting).
    template <std::size_t N>
    int recv_batch(udp_batch<N>& batch) noexcept {
        return recv_batch_impl(batch.msgs_, batch.headers_, batch.iov_, batch.addrs_);
    }
    // Sends batch[begin..end) (end clamped to N): how many the kernel took,
    // counted from `begin` (the caller keeps the rest for later), or -errno
    // when batch[begin] itself failed; callers drop that one and go on with
    // the next.  An IPv6 destination on an IPv4 socket fails with
    // -EAFNOSUPPORT like send().
    template <std::size_t N>
    int send_batch(udp_batch<N>& batch, std::size_t begin, std::size_t end) noexcept {
        if (end > N) end = N;
        if (begin >= end) return 0;
        return send_batch_impl(std::span<udp_message>(batch.msgs_).subspan(begin, end - begin),
                               batch.headers_, batch.iov_, batch.addrs_);
    }

  private:
    udp_socket(int fd, bool v6, std::uint16_t port) noexcept : fd_(fd), v6_(v6), port_(port) {}

    ssize_t recv_msg(std::span<std::uint8_t> buf, udp_endpoint& from, msghdr& msg) noexcept;
    int recv_batch_impl(std::span<udp_message> msgs, std::span<mmsghdr> headers,
                        std::span<iovec> iov, std::span<sockaddr_storage> addrs) noexcept;
    int send_batch_impl(std::span<udp_message> msgs, std::span<mmsghdr> headers,
                        std::span<iovec> iov, std::span<sockaddr_storage> addrs) noexcept;

    unique_fd fd_;
    bool v6_ = true;
    std::uint16_t port_ = 0;
};

}  // namespace weft::io
