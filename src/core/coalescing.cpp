#include "core/coalescing.hpp"

#include <cstring>
#include <optional>

namespace weft {

namespace {

constexpr std::uint8_t tcp_ack = 0x10, tcp_psh = 0x08;

std::uint16_t load16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
void store16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
std::uint32_t load32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

struct tcp_facts {
    bool v6 = false;
    std::size_t ip_len = 0, header_len = 0, payload = 0;
    std::uint32_t seq = 0;
    std::uint8_t flags = 0;
};

// A TCP segment that may join a run, or nullopt.
std::optional<tcp_facts> inspect(std::span<const std::uint8_t> p) noexcept {
    tcp_facts t;
    const std::size_t size = p.size();
    if (size < 40) return std::nullopt;
    if ((p[0] >> 4) == 4) {
        t.ip_len = static_cast<std::size_t>(p[0] & 0x0f) * 4;
        if (t.ip_len < 20 || load16(&p[2]) != size || (load16(&p[6]) & 0x3fff) != 0 || p[9] != 6)
            return std::nullopt;
    } else if ((p[0] >> 4) == 6) {
        t.v6 = true;
        t.ip_len = 40;
        if (p[6] != 6 || load16(&p[4]) != size - 40) return std::nullopt;
    } else {
        return std::nullopt;
    }
    if (size < t.ip_len + 20) return std::nullopt;
    const std::size_t tcp_len = static_cast<std::size_t>(p[t.ip_len + 12] >> 4) * 4;
    if (tcp_len < 20 || t.ip_len + tcp_len >= size) return std::nullopt;  // needs payload
    t.flags = p[t.ip_len + 13];
    if ((t.flags & static_cast<std::uint8_t>(~tcp_psh)) != tcp_ack) return std::nullopt;
    t.header_len = t.ip_len + tcp_len;
    t.payload = size - t.header_len;
    t.seq = load32(&p[t.ip_len + 4]);
    return t;
}

}  // namespace

tcp_coalescer::tcp_coalescer() : buf_(max_bytes) {}

[[gnu::hot]] bool tcp_coalescer::add(std::span<const std::uint8_t> packet) noexcept {
    auto t = inspect(packet);
    if (!t || packet.size() > max_bytes) return false;
    if (count_ == 0) {
        std::memcpy(buf_.data(), packet.data(), packet.size());
        size_ = packet.size();
        v6_ = t->v6;
        ip_len_ = t->ip_len;
        header_len_ = t->header_len;
        segment_ = t->payload;
        next_seq_ = t->seq + static_cast<std::uint32_t>(t->payload);
        psh_ = closed_ = (t->flags & tcp_psh) != 0;
        count_ = 1;
        return true;
    }
    if (closed_ || count_ >= max_run || t->v6 != v6_ || t->ip_len != ip_len_ || t->header_len != header_len_ ||
        t->seq != next_seq_ || t->payload > segment_ || size_ + t->payload > max_bytes)
        return false;
    // Every header byte as in the first segment, but the ones that differ
    // between segments of one TSO packet.
    const std::uint8_t* a = buf_.data();
    const std::uint8_t* b = packet.data();
    for (std::size_t i = 0; i < header_len_; ++i) {
        if (a[i] == b[i]) continue;
        if (!v6_ && (i == 2 || i == 3 || i == 4 || i == 5 || i == 10 || i == 11)) continue;
        if (v6_ && (i == 4 || i == 5)) continue;
        if (i >= ip_len_) {
            const std::size_t j = i - ip_len_;
            if ((j >= 4 && j <= 7) || j == 16 || j == 17) continue;
            if (j == 13 && ((a[i] ^ b[i]) & static_cast<std::uint8_t>(~tcp_psh)) == 0) continue;
        }
        return false;
    }
    std::memcpy(buf_.data() + size_, packet.data() + header_len_, t->payload);
    size_ += t->payload;
    ++count_;
    next_seq_ += static_cast<std::uint32_t>(t->payload);
    if ((t->flags & tcp_psh) != 0) psh_ = closed_ = true;
    if (t->payload < segment_) closed_ = true;
    return true;
}

[[gnu::hot]] tcp_coalescer::output tcp_coalescer::flush() noexcept {
    vnet_header h;
    output out;
    out.header = std::span<const std::uint8_t>(header_, vnet_header_size);
    if (count_ == 0) {
        write_vnet_header(header_, h);
        return out;
    }
    std::uint8_t* p = buf_.data();
    if (count_ == 1) {
        h.flags = vnet::flag_data_valid;
    } else {
        std::uint64_t pseudo;
        if (!v6_) {
            store16(p + 2, static_cast<std::uint16_t>(size_));
            store16(p + 10, 0);
            store16(p + 10, static_cast<std::uint16_t>(~checksum_fold(checksum_add(0, std::span<const std::uint8_t>(p, ip_len_)))));
            pseudo = checksum_add(0, std::span<const std::uint8_t>(p + 12, 8));
        } else {
            store16(p + 4, static_cast<std::uint16_t>(size_ - 40));
            pseudo = checksum_add(0, std::span<const std::uint8_t>(p + 8, 32));
        }
        pseudo += 6 + (size_ - ip_len_);
        if (psh_) p[ip_len_ + 13] |= tcp_psh;
        // CHECKSUM_PARTIAL: the field holds the pseudo-header sum, not
        // complemented; the kernel (or the next hop's segmentation) adds the rest.
        store16(p + ip_len_ + 16, checksum_fold(pseudo));
        h.flags = vnet::flag_needs_csum;
        h.gso_type = v6_ ? vnet::gso_tcpv6 : vnet::gso_tcpv4;
        h.hdr_len = static_cast<std::uint16_t>(header_len_);
        h.gso_size = static_cast<std::uint16_t>(segment_);
        h.csum_start = static_cast<std::uint16_t>(ip_len_);
        h.csum_offset = 16;
    }
    write_vnet_header(header_, h);
    out.packet = std::span<const std::uint8_t>(p, size_);
    count_ = 0;
    closed_ = psh_ = false;
    return out;
}

}  // namespace weft
