#include "wire/ip.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace weft {

bool ip_address::is_unspecified() const noexcept {
    for (std::size_t i = 0; i < size(); ++i)
        if (bytes[i] != 0) return false;
    return true;
}

bool ip_address::is_multicast() const noexcept {
    return family == ip_family::v4 ? (bytes[0] & 0xf0) == 0xe0 : bytes[0] == 0xff;
}

ip_address ip_address::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
    ip_address r;
    r.family = ip_family::v4;
    r.bytes[0] = a, r.bytes[1] = b, r.bytes[2] = c, r.bytes[3] = d;
    return r;
}

bool ip_prefix::contains(const ip_address& a) const noexcept {
    if (a.family != address.family) return false;
    unsigned full = length / 8u, rest = length % 8u;
    for (unsigned i = 0; i < full; ++i)
        if (a.bytes[i] != address.bytes[i]) return false;
    if (rest == 0) return true;
    auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (a.bytes[full] & mask) == address.bytes[full];
}

ip_address ip_prefix::last() const noexcept {
    ip_address r = address;
    for (unsigned bit = length; bit < r.bit_width(); ++bit)
        r.bytes[bit / 8] = static_cast<std::uint8_t>(r.bytes[bit / 8] | (0x80 >> (bit % 8)));
    return r;
}

std::optional<ip_address> parse_ipv4(std::string_view text) {
    // inet_pton(AF_INET) is already strict (exactly four decimal parts), but
    // accepts leading zeros on some libcs; check the shape ourselves.
    if (text.empty() || text.size() > 15) return std::nullopt;
    ip_address r;
    r.family = ip_family::v4;
    std::size_t part = 0, pos = 0;
    while (part < 4) {
        std::size_t end = text.find('.', pos);
        if (part == 3) end = text.size();
        if (end == std::string_view::npos || end == pos || end - pos > 3) return std::nullopt;
        std::string_view num = text.substr(pos, end - pos);
        if (num.size() > 1 && num[0] == '0') return std::nullopt;
        unsigned v = 0;
        auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
        if (ec != std::errc{} || p != num.data() + num.size() || v > 255) return std::nullopt;
        r.bytes[part] = static_cast<std::uint8_t>(v);
        ++part;
        pos = end + 1;
    }
    return r;
}

std::optional<ip_address> parse_ipv6(std::string_view text) {
    if (text.empty() || text.size() > 45 || text.find(':') == std::string_view::npos)
        return std::nullopt;
    for (char c : text) {
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.';
        if (!ok) return std::nullopt;
    }
    char buf[46];
    text.copy(buf, text.size());
    buf[text.size()] = '\0';
    ip_address r;
    r.family = ip_family::v6;
    if (inet_pton(AF_INET6, buf, r.bytes.data()) != 1) return std::nullopt;
    return r;
}

std::optional<ip_address> parse_ip(std::string_view text) {
    if (text.find(':') != std::string_view::npos) return parse_ipv6(text);
    return parse_ipv4(text);
}

prefix_parse parse_prefix(std::string_view text) {
    prefix_parse out;
    auto slash = text.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) return out;
    auto addr = parse_ip(text.substr(0, slash));
    if (!addr) {
        out.error = prefix_error::bad_address;
        return out;
    }
    std::string_view len_text = text.substr(slash + 1);
    unsigned len = 0;
    if (len_text.size() > 3 || (len_text.size() > 1 && len_text[0] == '0')) {
        out.error = prefix_error::bad_length;
        return out;
    }
    auto [p, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (ec != std::errc{} || p != len_text.data() + len_text.size() || len > addr->bit_width()) {
        out.error = prefix_error::bad_length;
        return out;
    }
    ip_prefix pfx{*addr, static_cast<std::uint8_t>(len)};
    ip_prefix masked = pfx;
    for (unsigned bit = len; bit < addr->bit_width(); ++bit)
        masked.address.bytes[bit / 8] =
            static_cast<std::uint8_t>(masked.address.bytes[bit / 8] & ~(0x80u >> (bit % 8)));
    if (masked.address != pfx.address) {
        out.error = prefix_error::host_bits_set;
        return out;
    }
    out.prefix = pfx;
    return out;
}

std::string to_string(const ip_address& a) {
    char buf[INET6_ADDRSTRLEN];
    const char* s = inet_ntop(a.family == ip_family::v4 ? AF_INET : AF_INET6, a.bytes.data(), buf,
                              sizeof buf);
    return s ? std::string(s) : std::string("?");
}

std::string to_string(const ip_prefix& p) {
    return to_string(p.address) + "/" + std::to_string(p.length);
}

const char* to_string(prefix_error e) noexcept {
    switch (e) {
        case prefix_error::syntax: return "expected ADDRESS/LENGTH";
        case prefix_error::bad_address: return "not a valid IPv4 or IPv6 address";
        case prefix_error::bad_length: return "prefix length out of range";
        case prefix_error::host_bits_set: return "host bits set (not a network address)";
    }
    return "?";
}

}  // namespace weft
