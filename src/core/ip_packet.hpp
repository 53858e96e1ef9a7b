// The few facts the data plane needs from an inner IP packet (one read from
// the TUN, or one a peer sent us after it authenticated): family, addresses,
// upper-layer protocol, whether it is a non-first fragment.  Pure: no I/O.
//
// Checksum policy: the IPv4 header checksum is NOT verified.  Outbound, the
// packet comes from our own kernel, which computed it; inbound, it was inside
// an AEAD frame from an authenticated peer, so it is exactly what that peer
// sealed (the receiving kernel verifies the IPv4 header checksum; with
// offloads on, TCP/UDP checksums are marked valid, see HOWTO "Performance").
// Checking here would cost every packet a pass over the header for no
// decision of ours.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "wire/ip.hpp"

namespace weft {

namespace ip_layout {
// IPv4 (RFC 791).
inline constexpr std::size_t v4_min_header = 20;
inline constexpr std::size_t v4_off_version_ihl = 0;
inline constexpr std::size_t v4_off_tos = 1;
inline constexpr std::size_t v4_off_total_length = 2;
inline constexpr std::size_t v4_off_id = 4;
inline constexpr std::size_t v4_off_flags_fragment = 6;
inline constexpr std::size_t v4_off_ttl = 8;
inline constexpr std::size_t v4_off_protocol = 9;
inline constexpr std::size_t v4_off_checksum = 10;
inline constexpr std::size_t v4_off_src = 12;
inline constexpr std::size_t v4_off_dst = 16;
inline constexpr std::uint16_t v4_flag_df = 0x4000;
inline constexpr std::uint16_t v4_flag_mf = 0x2000;
inline constexpr std::uint16_t v4_fragment_offset_mask = 0x1fff;

// IPv6 (RFC 8200).
inline constexpr std::size_t v6_header = 40;
inline constexpr std::size_t v6_off_payload_length = 4;
inline constexpr std::size_t v6_off_next_header = 6;
inline constexpr std::size_t v6_off_hop_limit = 7;
inline constexpr std::size_t v6_off_src = 8;
inline constexpr std::size_t v6_off_dst = 24;
inline constexpr std::size_t v6_fragment_header = 8;
inline constexpr std::uint16_t v6_fragment_offset_mask = 0xfff8;
// More extension headers than this in one packet: refused (a chain that
// long is an attack on parsers, not traffic).
inline constexpr unsigned v6_max_extension_headers = 8;

// Protocol numbers (IANA), shared by IPv4's protocol and IPv6's next header.
inline constexpr std::uint8_t proto_hop_by_hop = 0;
inline constexpr std::uint8_t proto_icmp = 1;
inline constexpr std::uint8_t proto_tcp = 6;
inline constexpr std::uint8_t proto_udp = 17;
inline constexpr std::uint8_t proto_v6_routing = 43;
inline constexpr std::uint8_t proto_v6_fragment = 44;
inline constexpr std::uint8_t proto_esp = 50;
inline constexpr std::uint8_t proto_ah = 51;
inline constexpr std::uint8_t proto_icmpv6 = 58;
inline constexpr std::uint8_t proto_v6_none = 59;
inline constexpr std::uint8_t proto_v6_dest_options = 60;
}  // namespace ip_layout

struct ip_packet_info {
    ip_family family = ip_family::v4;
    ip_address src, dst;
    // IPv4: the protocol field.  IPv6: the upper-layer protocol found by
    // walking the extension headers (hop-by-hop, routing, fragment,
    // destination options, AH); for a non-first fragment the walk stops at
    // the fragment header, and this is that header's next-header value.
    std::uint8_t protocol = 0;
    // The payload does not start the upper-layer header: a fragment with a
    // non-zero offset.  Its protocol header is in another packet.
    bool is_fragment_non_first = false;
    // Bytes before the upper-layer header: IPv4 IHL*4; IPv6 40 plus the
    // extension headers walked.  Always <= the packet's size.
    std::size_t header_length = 0;
};

// Parses an IPv4 or IPv6 packet that fills `packet` exactly.  Strict:
//   IPv4: version 4, IHL >= 5, IHL*4 <= total length, total length == size;
//   IPv6: version 6, payload length + 40 == size (so jumbograms are
//         refused), an extension-header chain that ends inside the packet.
// Returns nullopt for anything else.  Never reads outside `packet`.
std::optional<ip_packet_info> parse_ip_packet(std::span<const std::uint8_t> packet) noexcept;

}  // namespace weft
