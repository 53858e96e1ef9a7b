#include "core/segmentation.hpp"

#include <algorithm>
#include <cstring>

namespace weft {

namespace {

std::uint16_t load16_host(const std::uint8_t* p) noexcept {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}
void store16_host(std::uint8_t* p, std::uint16_t v) noexcept { std::memcpy(p, &v, 2); }

std::uint16_t load16_be(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
void store16_be(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
std::uint32_t load32_be(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
void store32_be(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

constexpr std::uint8_t ip_proto_tcp = 6;
constexpr std::uint8_t tcp_fin = 0x01, tcp_psh = 0x08, tcp_cwr = 0x80;

// The folded checksum as stored: complemented, 0 written as 0xffff (both
// mean "no error" to a ones' complement check; Linux does the same).
std::uint16_t finish(std::uint64_t sum) noexcept {
    std::uint16_t c = static_cast<std::uint16_t>(~checksum_fold(sum));
    return c == 0 ? 0xffff : c;
}

}  // namespace

[[gnu::hot]] vnet_header read_vnet_header(std::span<const std::uint8_t, vnet_header_size> in) noexcept {
    vnet_header h;
    h.flags = in[0];
    h.gso_type = in[1];
    h.hdr_len = load16_host(&in[2]);
    h.gso_size = load16_host(&in[4]);
    h.csum_start = load16_host(&in[6]);
    h.csum_offset = load16_host(&in[8]);
    return h;
}

void write_vnet_header(std::span<std::uint8_t, vnet_header_size> out, const vnet_header& h) noexcept {
    out[0] = h.flags;
    out[1] = h.gso_type;
    store16_host(&out[2], h.hdr_len);
    store16_host(&out[4], h.gso_size);
    store16_host(&out[6], h.csum_start);
    store16_host(&out[8], h.csum_offset);
}

const char* to_string(segment_error e) noexcept {
    switch (e) {
        case segment_error::unsupported_gso: return "unsupported gso type";
        case segment_error::bad_ip_header: return "bad IP header";
        case segment_error::bad_tcp_header: return "bad TCP header";
        case segment_error::bad_gso_size: return "gso size is zero";
        case segment_error::too_many_segments: return "too many segments";
        case segment_error::bad_checksum_spec: return "checksum offsets outside the packet";
    }
    return "unknown";
}

std::size_t segment_plan::segment_size(std::size_t i) const noexcept {
    if (i >= count) return 0;
    const std::size_t done = i * segment_payload;
    return header_len + std::min(segment_payload, payload_len - done);
}

[[gnu::hot]] result<segment_plan, segment_error> plan_segments(std::span<const std::uint8_t> packet, const vnet_header& h) noexcept {
    const std::uint8_t type = h.gso_type & static_cast<std::uint8_t>(~vnet::gso_ecn);
    if (type != vnet::gso_tcpv4 && type != vnet::gso_tcpv6) return unexpected{segment_error::unsupported_gso};
    if (h.gso_size == 0) return unexpected{segment_error::bad_gso_size};
    segment_plan p;
    p.v6 = type == vnet::gso_tcpv6;
    const std::size_t size = packet.size();
    if (size > 65535 + 40) return unexpected{segment_error::bad_ip_header};
    if (!p.v6) {
        if (size < 20 || (packet[0] >> 4) != 4) return unexpected{segment_error::bad_ip_header};
        p.ip_header_len = std::size_t{packet[0] & 0x0fu} * 4;
        if (p.ip_header_len < 20 || p.ip_header_len > size) return unexpected{segment_error::bad_ip_header};
        if (load16_be(&packet[2]) != size) return unexpected{segment_error::bad_ip_header};
        if ((load16_be(&packet[6]) & 0x3fff) != 0) return unexpected{segment_error::bad_ip_header};  // MF or offset
        if (packet[9] != ip_proto_tcp) return unexpected{segment_error::bad_ip_header};
    } else {
        if (size < 40 || (packet[0] >> 4) != 6) return unexpected{segment_error::bad_ip_header};
        p.ip_header_len = 40;
        if (packet[6] != ip_proto_tcp) return unexpected{segment_error::bad_ip_header};  // no extension headers
        if (load16_be(&packet[4]) != size - 40) return unexpected{segment_error::bad_ip_header};
    }
    if (size < p.ip_header_len + 20) return unexpected{segment_error::bad_tcp_header};
    const std::size_t tcp_len = static_cast<std::size_t>(packet[p.ip_header_len + 12] >> 4) * 4;
    if (tcp_len < 20 || p.ip_header_len + tcp_len > size) return unexpected{segment_error::bad_tcp_header};
    p.header_len = p.ip_header_len + tcp_len;
    p.payload_len = size - p.header_len;
    p.segment_payload = h.gso_size;
    p.count = p.payload_len == 0 ? 1 : (p.payload_len + p.segment_payload - 1) / p.segment_payload;
    if (p.count > max_segments) return unexpected{segment_error::too_many_segments};
    return p;
}

[[gnu::hot]] std::size_t write_segment(std::span<const std::uint8_t> packet, const segment_plan& plan, std::size_t i,
                          std::span<std::uint8_t> out) noexcept {
    if (i >= plan.count || packet.size() != plan.header_len + plan.payload_len) return 0;
    const std::size_t seg = plan.segment_size(i);
    if (out.size() < seg) return 0;
    const std::size_t payload = seg - plan.header_len;
    const std::size_t from = plan.header_len + i * plan.segment_payload;
    std::memcpy(out.data(), packet.data(), plan.header_len);
    std::memcpy(out.data() + plan.header_len, packet.data() + from, payload);

    std::uint8_t* ip = out.data();
    std::uint8_t* tcp = ip + plan.ip_header_len;
    const std::size_t tcp_total = seg - plan.ip_header_len;
    std::uint64_t pseudo = 0;
    if (!plan.v6) {
        store16_be(ip + 2, static_cast<std::uint16_t>(seg));
        store16_be(ip + 4, static_cast<std::uint16_t>(load16_be(ip + 4) + i));
        store16_be(ip + 10, 0);
        store16_be(ip + 10, finish(checksum_add(0, std::span<const std::uint8_t>(ip, plan.ip_header_len))));
        pseudo = checksum_add(0, std::span<const std::uint8_t>(ip + 12, 8));
    } else {
        store16_be(ip + 4, static_cast<std::uint16_t>(tcp_total));
        pseudo = checksum_add(0, std::span<const std::uint8_t>(ip + 8, 32));
    }
    pseudo += ip_proto_tcp;
    pseudo += tcp_total;

    store32_be(tcp + 4, static_cast<std::uint32_t>(load32_be(tcp + 4) + i * plan.segment_payload));
    if (i + 1 < plan.count) tcp[13] &= static_cast<std::uint8_t>(~(tcp_fin | tcp_psh));
    if (i > 0) tcp[13] &= static_cast<std::uint8_t>(~tcp_cwr);
    store16_be(tcp + 16, 0);
    store16_be(tcp + 16, finish(checksum_add(pseudo, std::span<const std::uint8_t>(tcp, tcp_total))));
    return seg;
}

[[gnu::hot]] bool complete_checksum(std::span<std::uint8_t> packet, const vnet_header& h) noexcept {
    if ((h.flags & vnet::flag_needs_csum) == 0) return true;
    const std::size_t start = h.csum_start, field = std::size_t{h.csum_start} + h.csum_offset;
    if (start > packet.size() || field + 2 > packet.size()) return false;
    std::uint16_t c = finish(checksum_add(0, packet.subspan(start)));
    store16_be(packet.data() + field, c);
    return true;
}

}  // namespace weft
