#include "core/icmp.hpp"

#include <algorithm>
#include <cstring>

#include "base/endian.hpp"
#include "base/inet_checksum.hpp"

namespace weft {

namespace {

namespace L = ip_layout;
namespace I = icmp_layout;

bool is_icmp_error(const ip_packet_info& info, std::span<const std::uint8_t> packet,
                   bool& unreadable) {
    unreadable = false;
    bool icmp = info.family == ip_family::v4 ? info.protocol == L::proto_icmp
                                             : info.protocol == L::proto_icmpv6;
    if (!icmp) return false;
    if (info.header_length >= packet.size()) {
        unreadable = true;
        return false;
    }
    std::uint8_t type = packet[info.header_length];
    if (info.family == ip_family::v6) return type < 128;  // RFC 4443 2.1
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

// Does this source address name exactly one host we could answer?
bool is_answerable_source(const ip_address& a) {
    if (a.is_unspecified() || a.is_multicast()) return false;
    if (a.family == ip_family::v4) {
        std::uint8_t first = a.bytes[0];
        if (first == 0 || first == 127 || first >= 240) return false;
        return true;
    }
    ip_address loopback;
    loopback.family = ip_family::v6;
    loopback.bytes[15] = 1;
    return a != loopback;
}

bool is_answerable_destination(const ip_address& a) {
    if (a.is_unspecified() || a.is_multicast()) return false;
    if (a.family == ip_family::v4)
        return !(a.bytes[0] == 255 && a.bytes[1] == 255 && a.bytes[2] == 255 && a.bytes[3] == 255);
    return true;
}

void put_address(std::span<std::uint8_t> out, std::size_t offset, const ip_address& a) {
    std::memcpy(out.data() + offset, a.bytes.data(), a.size());
}

std::size_t build_v4(const ip_packet_info& info, std::span<const std::uint8_t> packet,
                     std::span<std::uint8_t> out, std::size_t quote) {
    std::size_t ip_len = L::v4_min_header;
    std::size_t total = ip_len + I::header + quote;
    std::fill_n(out.begin(), ip_len + I::header, std::uint8_t{0});

    out[L::v4_off_version_ihl] = 0x45;
    out[L::v4_off_tos] = I::v4_answer_tos;
    store_be<std::uint16_t>(out, L::v4_off_total_length, static_cast<std::uint16_t>(total));
    store_be<std::uint16_t>(out, L::v4_off_flags_fragment, L::v4_flag_df);
    out[L::v4_off_ttl] = I::answer_ttl;
    out[L::v4_off_protocol] = L::proto_icmp;
    put_address(out, L::v4_off_src, info.dst);
    put_address(out, L::v4_off_dst, info.src);
    store_be<std::uint16_t>(out, L::v4_off_checksum, internet_checksum(out.first(ip_len)));

    auto icmp = out.subspan(ip_len, I::header + quote);
    icmp[I::off_type] = I::v4_type_dest_unreachable;
    icmp[I::off_code] = I::v4_code_net_unreachable;
    std::memcpy(icmp.data() + I::header, packet.data(), quote);
    store_be<std::uint16_t>(icmp, I::off_checksum, internet_checksum(icmp));
    return total;
}

std::size_t build_v6(const ip_packet_info& info, std::span<const std::uint8_t> packet,
                     std::span<std::uint8_t> out, std::size_t quote) {
    std::size_t ip_len = L::v6_header;
    std::size_t payload = I::header + quote;
    std::fill_n(out.begin(), ip_len + I::header, std::uint8_t{0});

    out[0] = 0x60;  // version 6, traffic class and flow label 0
    store_be<std::uint16_t>(out, L::v6_off_payload_length, static_cast<std::uint16_t>(payload));
    out[L::v6_off_next_header] = L::proto_icmpv6;
    out[L::v6_off_hop_limit] = I::answer_ttl;
    put_address(out, L::v6_off_src, info.dst);
    put_address(out, L::v6_off_dst, info.src);

    auto icmp = out.subspan(ip_len, payload);
    icmp[I::off_type] = I::v6_type_dest_unreachable;
    icmp[I::off_code] = I::v6_code_no_route;
    std::memcpy(icmp.data() + I::header, packet.data(), quote);
    // RFC 8200 8.1 pseudo-header: source, destination, upper-layer length
    // (32 bits), three zero bytes and the next header.
    std::uint64_t sum = checksum_add(0, std::span<const std::uint8_t>(out).subspan(L::v6_off_src, 32));
    sum += (payload >> 16) + (payload & 0xffff) + L::proto_icmpv6;
    sum = checksum_add(sum, icmp);
    store_be<std::uint16_t>(icmp, I::off_checksum, static_cast<std::uint16_t>(~checksum_fold(sum)));
    return ip_len + payload;
}

}  // namespace

std::size_t build_icmp_unreachable(const ip_packet_info& info, std::span<const std::uint8_t> packet,
                                   std::span<std::uint8_t> out) noexcept {
    if (info.is_fragment_non_first) return 0;
    if (info.src.family != info.family || info.dst.family != info.family) return 0;
    if (!is_answerable_source(info.src) || !is_answerable_destination(info.dst)) return 0;
    bool unreadable = false;
    if (is_icmp_error(info, packet, unreadable) || unreadable) return 0;

    bool v4 = info.family == ip_family::v4;
    std::size_t headers = (v4 ? L::v4_min_header : L::v6_header) + I::header;
    std::size_t limit = std::min(v4 ? I::v4_answer_max : I::v6_answer_max, out.size());
    std::size_t minimum_quote = std::min(packet.size(), info.header_length + 8);
    if (limit < headers + minimum_quote) return 0;
    std::size_t quote = std::min(packet.size(), limit - headers);
    return v4 ? build_v4(info, packet, out, quote) : build_v6(info, packet, out, quote);
}

std::size_t build_icmp_unreachable(std::span<const std::uint8_t> packet,
                                   std::span<std::uint8_t> out) noexcept {
    auto info = parse_ip_packet(packet);
    if (!info) return 0;
    return build_icmp_unreachable(*info, packet, out);
}

}  // namespace weft
