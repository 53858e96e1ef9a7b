#include "core/ip_packet.hpp"

#include <algorithm>

#include "base/endian.hpp"

namespace weft {

namespace {

namespace L = ip_layout;

ip_address address_at(std::span<const std::uint8_t> p, std::size_t offset, ip_family family) {
    ip_address a;
    a.family = family;
    std::copy_n(p.begin() + static_cast<std::ptrdiff_t>(offset), a.size(), a.bytes.begin());
    return a;
}

std::optional<ip_packet_info> parse_v4(std::span<const std::uint8_t> p) {
    if (p.size() < L::v4_min_header) return std::nullopt;
    std::size_t ihl = std::size_t{p[L::v4_off_version_ihl] & 0x0fu} * 4;
    std::size_t total = load_be16(p, L::v4_off_total_length);
    if (ihl < L::v4_min_header || total != p.size() || ihl > total) return std::nullopt;

    ip_packet_info info;
    info.family = ip_family::v4;
    info.src = address_at(p, L::v4_off_src, ip_family::v4);
    info.dst = address_at(p, L::v4_off_dst, ip_family::v4);
    info.protocol = p[L::v4_off_protocol];
    info.is_fragment_non_first =
        (load_be16(p, L::v4_off_flags_fragment) & L::v4_fragment_offset_mask) != 0;
    info.header_length = ihl;
    return info;
}

std::optional<ip_packet_info> parse_v6(std::span<const std::uint8_t> p) {
    if (p.size() < L::v6_header) return std::nullopt;
    if (std::size_t{load_be16(p, L::v6_off_payload_length)} + L::v6_header != p.size())
        return std::nullopt;

    ip_packet_info info;
    info.family = ip_family::v6;
    info.src = address_at(p, L::v6_off_src, ip_family::v6);
    info.dst = address_at(p, L::v6_off_dst, ip_family::v6);

    // Walk the extension headers to the upper-layer protocol.  Each one
    // starts with (next header, length); the length unit differs for AH.
    std::uint8_t next = p[L::v6_off_next_header];
    std::size_t offset = L::v6_header;
    for (unsigned walked = 0;; ++walked) {
        bool extension = next == L::proto_hop_by_hop || next == L::proto_v6_routing ||
                         next == L::proto_v6_fragment || next == L::proto_v6_dest_options ||
                         next == L::proto_ah;
        if (!extension) break;
        if (walked == L::v6_max_extension_headers) return std::nullopt;
        if (p.size() - offset < 8) return std::nullopt;  // every one is >= 8 bytes
        std::uint8_t after = p[offset];
        std::size_t length;
        if (next == L::proto_v6_fragment) {
            length = L::v6_fragment_header;
            bool non_first = (load_be16(p, offset + 2) & L::v6_fragment_offset_mask) != 0;
            if (non_first) {
                // What follows is the middle of someone's payload, not a
                // header: stop here.
                info.is_fragment_non_first = true;
                offset += length;
                next = after;
                break;
            }
        } else if (next == L::proto_ah) {
            length = (std::size_t{p[offset + 1]} + 2) * 4;  // RFC 4302: 32-bit words, minus 2
        } else {
            length = (std::size_t{p[offset + 1]} + 1) * 8;  // RFC 8200: 8-octet units, minus 1
        }
        if (p.size() - offset < length) return std::nullopt;
        offset += length;
        next = after;
    }
    info.protocol = next;
    info.header_length = offset;
    return info;
}

}  // namespace

[[gnu::hot]] std::optional<ip_packet_info> parse_ip_packet(std::span<const std::uint8_t> packet) noexcept {
    if (packet.empty()) return std::nullopt;
    switch (packet[0] >> 4) {
        case 4:
            return parse_v4(packet);
        case 6:
            return parse_v6(packet);
        default:
            return std::nullopt;
    }
}

}  // namespace weft
