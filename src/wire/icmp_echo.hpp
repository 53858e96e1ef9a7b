// ICMP and ICMPv6 echo request and reply (RFC 792, RFC 4443), for the
// nameserver checker's optional ping probe.  The request carries a random
// token as payload; a reply counts only if it is an echo reply, code 0, with
// one of our sequence numbers and exactly our token.  The identifier is not
// checked: on an unprivileged ping socket the kernel replaces it with its
// own (and already filters replies by it).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/inet_checksum.hpp"
#include "wire/ip.hpp"

namespace weft::icmp_echo {

inline constexpr std::size_t header_size = 8;  // type, code, checksum, identifier, sequence
inline constexpr std::size_t token_size = 16;
inline constexpr std::size_t message_size = header_size + token_size;
inline constexpr std::uint8_t v4_request = 8, v4_reply = 0, v6_request = 128, v6_reply = 129;
inline constexpr std::size_t off_type = 0, off_code = 1, off_checksum = 2, off_id = 4, off_seq = 6;

using token = std::array<std::uint8_t, token_size>;

// RFC 1071, folded and complemented (base/inet_checksum.hpp).
using ::weft::internet_checksum;

// An echo request.  IPv4: the checksum is filled in.  IPv6: left zero (the
// kernel computes it over the pseudo-header for every ICMPv6 socket).
std::vector<std::uint8_t> build_request(ip_family family, std::uint16_t id, std::uint16_t seq,
                                        const token& t);

// The sequence number of a valid echo reply carrying `t`, or nullopt.
// `reply` starts at the ICMP header (a raw IPv4 socket's IP header is the
// caller's to strip: see strip_ipv4_header).  IPv4 replies must carry a
// correct checksum; the kernel verifies ICMPv6 checksums itself.
std::optional<std::uint16_t> check_reply(ip_family family, std::span<const std::uint8_t> reply,
                                         const token& t) noexcept;

// The payload of an IPv4 packet as a raw socket delivers it (IHL checked
// against the length), or nullopt.
std::optional<std::span<const std::uint8_t>> strip_ipv4_header(
    std::span<const std::uint8_t> packet) noexcept;

}  // namespace weft::icmp_echo
