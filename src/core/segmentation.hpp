// Offloads between the TUN device and the data plane, without I/O.
//
// With IFF_VNET_HDR a TUN read starts with a virtio_net_hdr (10 bytes) and,
// once TSO is offered (TUNSETOFFLOAD), the kernel may hand over one TCP
// "super-packet" of up to 64 KiB that stands for many MTU-sized segments:
// its header says the segment payload size (gso_size) and that the TCP
// checksum is still to be computed (NEEDS_CSUM, "partial").  This file turns
// such a read into the ordinary IP packets a peer's kernel would have seen
// on the wire, one at a time, each with correct lengths, IPv4 id, TCP
// sequence number, flags and checksums:
//
//   auto plan = plan_segments(packet, header);    // checks, counts
//   for (i < plan->count) write_segment(packet, *plan, i, out);
//
// A packet without GSO but with NEEDS_CSUM gets its checksum completed in
// place by complete_checksum().  Nothing here allocates; every function is
// bounded by the packet's size and refuses what it does not understand
// (IPv6 extension headers, UDP segmentation, lengths that disagree).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/inet_checksum.hpp"  // checksum_add, checksum_fold
#include "base/result.hpp"

namespace weft {

// struct virtio_net_hdr (linux/virtio_net.h), in the host's byte order as
// TUN uses it on little-endian machines without TUNSETVNETBE.
inline constexpr std::size_t vnet_header_size = 10;

namespace vnet {
inline constexpr std::uint8_t flag_needs_csum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr std::uint8_t flag_data_valid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
inline constexpr std::uint8_t gso_none = 0;
inline constexpr std::uint8_t gso_tcpv4 = 1;
inline constexpr std::uint8_t gso_udp = 3;
inline constexpr std::uint8_t gso_tcpv6 = 4;
inline constexpr std::uint8_t gso_udp_l4 = 5;
inline constexpr std::uint8_t gso_ecn = 0x80;
}  // namespace vnet

struct vnet_header {
    std::uint8_t flags = 0;
    std::uint8_t gso_type = vnet::gso_none;
    std::uint16_t hdr_len = 0;
    std::uint16_t gso_size = 0;
    std::uint16_t csum_start = 0;
    std::uint16_t csum_offset = 0;
    friend bool operator==(const vnet_header&, const vnet_header&) = default;
};

vnet_header read_vnet_header(std::span<const std::uint8_t, vnet_header_size> in) noexcept;
void write_vnet_header(std::span<std::uint8_t, vnet_header_size> out, const vnet_header& h) noexcept;

enum class segment_error {
    unsupported_gso,   // a gso_type other than TCPv4/TCPv6 (UDP, unknown bits)
    bad_ip_header,     // version, header length, total/payload length, protocol
    bad_tcp_header,    // data offset, or header beyond the packet
    bad_gso_size,      // zero
    too_many_segments, // more than max_segments
    bad_checksum_spec, // csum_start/offset outside the packet
};
const char* to_string(segment_error e) noexcept;

// The most segments one super-packet may produce (64 KiB at gso_size 1).
inline constexpr std::size_t max_segments = 65536;

struct segment_plan {
    bool v6 = false;
    std::size_t ip_header_len = 0;   // 20..60 (IPv4) or 40 (IPv6)
    std::size_t header_len = 0;      // IP + TCP header, copied into every segment
    std::size_t payload_len = 0;     // TCP payload of the whole super-packet
    std::size_t segment_payload = 0; // gso_size
    std::size_t count = 0;           // segments, >= 1
    // Length of segment i (header_len + its payload).
    std::size_t segment_size(std::size_t i) const noexcept;
    std::size_t largest_segment() const noexcept { return header_len + segment_payload; }
};

// Checks a TSO super-packet (header.gso_type TCPv4 or TCPv6) and says how it
// splits.  The IP and TCP headers are read from the packet itself; the vnet
// header's hdr_len and csum fields are not trusted.
result<segment_plan, segment_error> plan_segments(std::span<const std::uint8_t> packet, const vnet_header& h) noexcept;

// Writes segment i of `packet` (0 <= i < plan.count) into `out`, which must
// hold plan.segment_size(i) bytes: returns that size, or 0 when `out` is too
// small or i out of range.  The first segment keeps CWR, the last keeps
// FIN and PSH; IPv4 ids count up from the packet's; checksums are complete.
std::size_t write_segment(std::span<const std::uint8_t> packet, const segment_plan& plan, std::size_t i,
                          std::span<std::uint8_t> out) noexcept;

// A packet without GSO whose header says NEEDS_CSUM: folds the ones'
// complement sum of packet[csum_start..] (the field holds the pseudo-header
// sum) into packet[csum_start + csum_offset].  False when the fields point
// outside the packet; without NEEDS_CSUM, does nothing and returns true.
bool complete_checksum(std::span<std::uint8_t> packet, const vnet_header& h) noexcept;


}  // namespace weft
