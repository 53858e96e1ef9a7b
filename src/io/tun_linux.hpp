// The Linux TUN device: an L3 interface whose packets we read and write as
// whole IP packets (IFF_TUN | IFF_NO_PI: no link header, no packet-info
// prefix), through one non-blocking, close-on-exec descriptor.
//
// What this does not do, on purpose: bring the link up, assign addresses or
// routes.  The configured `up` hook does that with TUNDEV set to name(), as
// the original daemon did, so administrators keep one place for it.  The
// MTU is set here, before the hook runs, because the data plane's buffer
// sizes depend on it.
//
// The device is not persistent: the kernel removes it when the descriptor
// closes.
//
// Offloads (open() with offload true): the device is created with
// IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), so
// every read starts with a 10-byte virtio_net_hdr and may carry a TCP
// super-packet of up to 64 KiB (core/segmentation.hpp splits it), and every
// write must start with one too (write() adds it).  When the kernel refuses
// either step the device falls back to plain packets: offload() says which.
#pragma once

#include "core/segmentation.hpp"
#include "io/unique_fd.hpp"

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.hpp"

namespace weft::io {

namespace tun_limits {
// IFNAMSIZ - 1: the kernel's name buffer holds 16 bytes with the NUL.
inline constexpr std::size_t max_name = 15;
// IPv4's minimum (RFC 791); IPv6 over the mesh needs 1280 but an IPv4-only
// mesh may go lower.
inline constexpr unsigned min_mtu = 68;
inline constexpr unsigned max_mtu = 65535;
}  // namespace tun_limits

// sizeof(struct virtio_net_hdr): what TUNSETVNETHDRSZ is set to.
inline constexpr std::size_t vnet_header_bytes = vnet_header_size;

// Why a name is not a usable interface name, or nullptr when it is:
// 1..15 bytes, not "." or "..", no '/', ':', '%' or whitespace.  '%' is
// refused too, though the kernel would expand "weft%d" itself: the name
// must be the one in the config, which the hooks and the control socket use.
const char* tun_name_problem(std::string_view name) noexcept;

class tun_device {
  public:
    // Opens /dev/net/tun, creates the TUN interface `name` (or attaches to a
    // persistent one left by `ip tuntap add`) and sets its MTU.  Errors are
    // one line naming the call and the errno text, e.g. "cannot open
    // /dev/net/tun: No such file or directory", "cannot create TUN weft0
    // (TUNSETIFF): Device or resource busy" (another process has it).
    static result<tun_device, std::string> open(const std::string& name, unsigned mtu, bool offload = false);

    tun_device(tun_device&&) noexcept = default;
    tun_device& operator=(tun_device&&) noexcept = default;
    tun_device(const tun_device&) = delete;
    tun_device& operator=(const tun_device&) = delete;
    ~tun_device() = default;

    // -1 after release() or a move.
    int fd() const noexcept { return fd_.get(); }
    const std::string& name() const noexcept { return name_; }
    unsigned mtu() const noexcept { return mtu_; }
    // Reads and writes carry a virtio_net_hdr, and TSO/checksum offloads are on.
    bool offload() const noexcept { return offload_; }
    // Offloads were asked for but the kernel refused them: which request
    // failed and its errno text (for the log).  Empty otherwise.
    const std::string& offload_refused() const noexcept { return offload_refused_; }

    // One packet per call.  Return the byte count, or -errno (-EAGAIN when
    // nothing is ready / the queue is full).  read() with a buffer smaller
    // than the packet gets it truncated: size buffers for mtu() (with
    // offload(): 10 + 65535 bytes, and the vnet header comes first).
    ssize_t read(std::span<std::uint8_t> buf) noexcept;
    // The same into two places: the packet's first head.size() bytes, the
    // rest (of a super-packet) into `rest`.
    ssize_t read_split(std::span<std::uint8_t> head, std::span<std::uint8_t> rest) noexcept;
    // One IP packet; with offload() a vnet header saying "no GSO, checksum
    // already verified" (the frame's tag authenticated it) goes in front.
    // Returns the packet's byte count (without the header).
    ssize_t write(std::span<const std::uint8_t> packet) noexcept;
    // With offload() only: `header` (10 bytes, e.g. a GSO super-packet's)
    // then `packet`.
    ssize_t write_with_header(std::span<const std::uint8_t> header, std::span<const std::uint8_t> packet) noexcept;

  private:
    tun_device(int fd, std::string name, unsigned mtu, bool offload) noexcept
        : fd_(fd), name_(std::move(name)), mtu_(mtu), offload_(offload) {}

    unique_fd fd_;
    std::string name_;
    unsigned mtu_ = 0;
    bool offload_ = false;
    std::string offload_refused_;
};

}  // namespace weft::io
