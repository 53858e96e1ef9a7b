// The receive side's counterpart of segmentation: consecutive, in-order
// TCP segments of one flow, as they come out of the data plane one by one,
// joined into one super-packet that a TUN device with IFF_VNET_HDR takes in
// one write (virtio_net_hdr with gso_type TCPv4/TCPv6, checksum partial).
// The kernel's TCP stack then handles one 64 KiB packet instead of dozens.
//
//   if (!c.add(packet)) { write(c.flush()); if (!c.add(packet)) write packet alone; }
//   ... end of a batch: write(c.flush())
//
// Joined only: TCP over IPv4 (no fragments) or IPv6 (no extension headers),
// with payload, flags ACK or ACK+PSH, every header byte equal to the first
// segment's but the lengths, IPv4 id and checksums, the TCP sequence number
// continuing exactly, each payload as long as the first (a shorter one, or
// PSH, ends the run), at most max_run segments and 65535 bytes.  Everything
// else is refused and goes to the TUN device as it is.  No allocation after
// construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/segmentation.hpp"

namespace weft {

class tcp_coalescer {
public:
    static constexpr std::size_t max_bytes = 65535;
    static constexpr std::size_t max_run = 64;

    tcp_coalescer();

    // Takes `packet` into the pending run (copied): true.  False when it
    // cannot join (or start) one; nothing changes then.
    bool add(std::span<const std::uint8_t> packet) noexcept;
    bool empty() const noexcept { return count_ == 0; }
    std::size_t segments() const noexcept { return count_; }

    struct output {
        std::span<const std::uint8_t> header;  // vnet_header_size bytes
        std::span<const std::uint8_t> packet;  // empty when nothing was pending
    };
    // The pending run as one packet, and resets.  One segment comes out as
    // it went in (gso_type none, DATA_VALID); more as a super-packet whose
    // TCP checksum field holds the pseudo-header sum (NEEDS_CSUM).  Valid
    // until the next add().
    output flush() noexcept;

private:
    std::vector<std::uint8_t> buf_;  // the run: first segment's headers, then all payloads
    std::uint8_t header_[vnet_header_size] = {};
    std::size_t count_ = 0, size_ = 0, ip_len_ = 0, header_len_ = 0, segment_ = 0;
    std::uint32_t next_seq_ = 0;
    bool v6_ = false, closed_ = false, psh_ = false;
};

}  // namespace weft
