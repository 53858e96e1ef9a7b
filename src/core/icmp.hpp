// The answer to a packet that has no route through the mesh: an ICMP
// "destination unreachable" written back to the TUN, so the sending
// application fails at once (ENETUNREACH) instead of timing out.  Pure: no
// I/O, no allocation; the caller owns both buffers.
//
// Decisions:
// - Source address of the answer: the unrouted packet's destination.  weftd
//   owns no address of its own on the TUN (the `up` hook assigns them, core
//   never learns them), and an answer from one of the host's own addresses
//   arriving on the TUN is a martian the kernel drops; the original
//   destination is, by construction, routed into the TUN, so the answer also
//   passes strict reverse-path filtering.  The kernel matches the error to
//   the sending socket through the quoted header, not the outer source.
// - Quote: IPv4 as much of the original as keeps the answer within 576
//   bytes (RFC 1812 4.3.2.3; more than RFC 792's header + 8 bytes, so
//   tunnels and diagnostics see more of their packet; Linux does the same);
//   IPv6 as much as keeps it within 1280 bytes (RFC 4443 2.4 (c)).
// - IPv4 header of the answer: TOS 0xc0 (precedence "internetwork control",
//   RFC 1812 4.3.2.5), DF set with identification 0 (an atomic datagram,
//   RFC 6864), TTL 64, no options.  IPv6: traffic class and flow label 0,
//   hop limit 64.
// - The original packet's IPv4 header checksum is not verified (see
//   ip_packet.hpp); the answer's checksums are always correct.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/ip_packet.hpp"

namespace weft {

namespace icmp_layout {
inline constexpr std::size_t header = 8;  // type, code, checksum, 4 unused
inline constexpr std::size_t off_type = 0;
inline constexpr std::size_t off_code = 1;
inline constexpr std::size_t off_checksum = 2;
inline constexpr std::uint8_t v4_type_dest_unreachable = 3;
inline constexpr std::uint8_t v4_code_net_unreachable = 0;
inline constexpr std::uint8_t v6_type_dest_unreachable = 1;
inline constexpr std::uint8_t v6_code_no_route = 0;
inline constexpr std::size_t v4_answer_max = 576;
inline constexpr std::size_t v6_answer_max = 1280;
inline constexpr std::uint8_t answer_ttl = 64;
inline constexpr std::uint8_t v4_answer_tos = 0xc0;
}  // namespace icmp_layout

// A caller buffer of this size always holds the full answer.
inline constexpr std::size_t icmp_unreachable_max_size = icmp_layout::v6_answer_max;

// Writes into `out` the ICMP "destination unreachable" answer (ICMPv4 type 3
// code 0 "net unreachable", ICMPv6 type 1 code 0 "no route") to `packet`,
// which `info` describes (from parse_ip_packet over the same bytes).
// Returns the answer's length, or 0 when no answer must be sent:
//   - the packet is an ICMP error (ICMPv4 types 3, 4, 5, 11, 12; ICMPv6
//     types < 128), or an ICMP packet too short to tell;
//   - a fragment other than the first;
//   - its source does not name one host: unspecified, multicast, loopback;
//     for IPv4 also 0.0.0.0/8 and 240.0.0.0/4 (which holds the limited
//     broadcast 255.255.255.255; a subnet's broadcast address cannot be
//     known here);
//   - its destination is multicast, unspecified, or 255.255.255.255
//     (RFC 1812 4.3.2.7, RFC 4443 2.4 (e));
//   - `out` cannot hold the answer with at least the original IP header
//     (extension headers included) and 8 bytes more (or all of the original
//     when shorter).  A smaller `out` than the maximum only shortens the
//     quote.
// `out` must not overlap `packet`.
std::size_t build_icmp_unreachable(const ip_packet_info& info, std::span<const std::uint8_t> packet,
                                   std::span<std::uint8_t> out) noexcept;

// The same, parsing `packet` first; 0 when it does not parse.
std::size_t build_icmp_unreachable(std::span<const std::uint8_t> packet,
                                   std::span<std::uint8_t> out) noexcept;

}  // namespace weft
