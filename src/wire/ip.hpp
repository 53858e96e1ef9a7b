// IP addresses and prefixes as value types, with strict text codecs.
// No I/O: inet_pton/inet_ntop are pure libc conversions.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace weft {

enum class ip_family : std::uint8_t { v4 = 4, v6 = 6 };

struct ip_address {
    ip_family family = ip_family::v4;
    // Network byte order; an IPv4 address uses bytes 0..3, the rest are zero.
    std::array<std::uint8_t, 16> bytes{};

    std::size_t size() const noexcept { return family == ip_family::v4 ? 4 : 16; }
    unsigned bit_width() const noexcept { return family == ip_family::v4 ? 32u : 128u; }
    bool is_unspecified() const noexcept;
    bool is_multicast() const noexcept;

    static ip_address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept;

    friend auto operator<=>(const ip_address&, const ip_address&) = default;
    // Equality without a call to memcmp (which the defaulted one makes):
    // the receive path compares every frame's sender with the peer's
    // endpoint, and an idle node's first frame pays for each code page.
    friend bool operator==(const ip_address& a, const ip_address& b) noexcept {
        std::uint64_t x[2], y[2];
        std::memcpy(x, a.bytes.data(), sizeof x);
        std::memcpy(y, b.bytes.data(), sizeof y);
        return a.family == b.family && ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
    }
};

struct ip_prefix {
    ip_address address;  // host bits are always zero
    std::uint8_t length = 0;

    bool contains(const ip_address& a) const noexcept;
    // The last address inside the prefix.
    ip_address last() const noexcept;

    friend auto operator<=>(const ip_prefix&, const ip_prefix&) = default;
};

// Strict: dotted quad for IPv4 (no leading zeros beyond "0"), RFC 4291 text
// for IPv6.  No zone ids, no brackets.
std::optional<ip_address> parse_ipv4(std::string_view text);
std::optional<ip_address> parse_ipv6(std::string_view text);
std::optional<ip_address> parse_ip(std::string_view text);

enum class prefix_error { syntax, bad_address, bad_length, host_bits_set };
// "A.B.C.D/N" or "X::/N"; the length is mandatory; host bits set is an error.
// Returns the prefix, or the reason it was refused.
struct prefix_parse {
    std::optional<ip_prefix> prefix;
    prefix_error error = prefix_error::syntax;
};
prefix_parse parse_prefix(std::string_view text);

std::string to_string(const ip_address& a);
std::string to_string(const ip_prefix& p);
const char* to_string(prefix_error e) noexcept;

}  // namespace weft
