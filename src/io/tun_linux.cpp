#include "io/tun_linux.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace weft::io {

namespace {

std::string errno_text(int err) {
    return std::generic_category().message(err);
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

ifreq request_for(const std::string& name) {
    ifreq ifr{};
    // tun_name_problem() bounded the length, so the NUL always fits.
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    return ifr;
}

// SIOCSIFMTU is an interface ioctl: any socket carries it.  AF_INET first;
// AF_INET6 for a kernel built without IPv4.
std::string set_mtu(const std::string& name, unsigned mtu) {
    fd_guard s{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    if (s.fd < 0) s.fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s.fd < 0) return "cannot create a socket to set the MTU: " + errno_text(errno);
    ifreq ifr = request_for(name);
    ifr.ifr_mtu = static_cast<int>(mtu);
    if (::ioctl(s.fd, SIOCSIFMTU, &ifr) != 0)
        return "cannot set MTU " + std::to_string(mtu) + " on " + name +
               " (SIOCSIFMTU): " + errno_text(errno);
    return {};
}

}  // namespace

const char* tun_name_problem(std::string_view name) noexcept {
    if (name.empty()) return "interface name is empty";
    if (name.size() > tun_limits::max_name) return "interface name is longer than 15 bytes";
    if (name == "." || name == "..") return "interface name cannot be \".\" or \"..\"";
    for (char c : name) {
        if (c == '/' || c == ':' || c == '%' || c == ' ' || (c >= '\t' && c <= '\r') || c == '\0')
            return "interface name contains '/', ':', '%', a NUL or whitespace";
    }
    return nullptr;
}

result<tun_device, std::string> tun_device::open(const std::string& name, unsigned mtu, bool offload) {
    if (const char* problem = tun_name_problem(name))
        return unexpected{std::string(problem) + ": \"" + name + "\""};
    if (mtu < tun_limits::min_mtu || mtu > tun_limits::max_mtu)
        return unexpected{"MTU " + std::to_string(mtu) + " is outside " +
                          std::to_string(tun_limits::min_mtu) + ".." +
                          std::to_string(tun_limits::max_mtu)};

    fd_guard dev{::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)};
    if (dev.fd < 0) return unexpected{"cannot open /dev/net/tun: " + errno_text(errno)};

    ifreq ifr = request_for(name);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
    if (::ioctl(dev.fd, TUNSETIFF, &ifr) != 0) {
        const int err = errno;
        if (!offload) return unexpected{"cannot create TUN " + name + " (TUNSETIFF): " + errno_text(err)};
        // A kernel (or a persistent device) without vnet headers: plain packets.
        auto plain = open(name, mtu, false);
        if (plain) plain->offload_refused_ = "TUNSETIFF with IFF_VNET_HDR: " + errno_text(err);
        return plain;
    }
    if (offload) {
        int hdr = static_cast<int>(vnet_header_bytes);
        unsigned flags = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
        const char* step = nullptr;
        if (::ioctl(dev.fd, TUNSETVNETHDRSZ, &hdr) != 0)
            step = "TUNSETVNETHDRSZ";
        else if (::ioctl(dev.fd, TUNSETOFFLOAD, flags) != 0)
            step = "TUNSETOFFLOAD";
        if (step) {
            // The device has vnet headers but no offloads: start again
            // without either (a fresh descriptor; this one is closed).
            const int err = errno;
            ::close(dev.release());
            auto plain = open(name, mtu, false);
            if (plain) plain->offload_refused_ = std::string(step) + ": " + errno_text(err);
            return plain;
        }
    }

    if (std::string err = set_mtu(name, mtu); !err.empty()) return unexpected{std::move(err)};
    return tun_device(dev.release(), name, mtu, offload);
}

[[gnu::hot]] ssize_t tun_device::read(std::span<std::uint8_t> buf) noexcept {
    for (;;) {
        ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

[[gnu::hot]] ssize_t tun_device::read_split(std::span<std::uint8_t> head, std::span<std::uint8_t> rest) noexcept {
    iovec iov[2] = {{head.data(), head.size()}, {rest.data(), rest.size()}};
    for (;;) {
        ssize_t n = ::readv(fd_.get(), iov, 2);
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

[[gnu::hot]] ssize_t tun_device::write(std::span<const std::uint8_t> packet) noexcept {
    if (offload_) {
        // flags DATA_VALID, gso_type NONE, the rest zero.
        static constexpr std::uint8_t header[vnet_header_bytes] = {vnet::flag_data_valid, vnet::gso_none};
        return write_with_header(header, packet);
    }
    for (;;) {
        ssize_t n = ::write(fd_.get(), packet.data(), packet.size());
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

[[gnu::hot]] ssize_t tun_device::write_with_header(std::span<const std::uint8_t> header,
                                      std::span<const std::uint8_t> packet) noexcept {
    iovec iov[2] = {{const_cast<std::uint8_t*>(header.data()), header.size()},
                    {const_cast<std::uint8_t*>(packet.data()), packet.size()}};
    for (;;) {
        ssize_t n = ::writev(fd_.get(), iov, 2);
        if (n >= 0) return n >= static_cast<ssize_t>(header.size()) ? n - static_cast<ssize_t>(header.size()) : 0;
        if (errno != EINTR) return -errno;
    }
}

}  // namespace weft::io
