// The bootstrap node list (BNL): value types and the strict text codec.
// The format is specified in src/wire/BNL-FORMAT.md; this file and
// bnl_text.cpp are the only code that knows it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "wire/ip.hpp"

namespace weft {

// Hard caps, checked before the work they bound.
inline constexpr std::size_t bnl_max_file_bytes = 16u * 1024 * 1024;
inline constexpr std::size_t bnl_max_nodes = 65536;
inline constexpr std::size_t bnl_max_subnets_per_node = 256;
inline constexpr std::size_t bnl_max_line_bytes = 4096;
inline constexpr std::uint16_t bnl_default_port = 3406;
inline constexpr std::uint64_t bnl_max_version = (std::uint64_t{1} << 63) - 1;

enum class bnl_errc {
    too_large,
    too_many_nodes,
    too_many_subnets,
    line_too_long,
    bad_encoding,
    syntax,
    unknown_key,
    duplicate_key,
    missing_key,
    bad_network_name,
    bad_version,
    bad_signed_time,
    bad_node_name,
    duplicate_name,
    bad_id,
    duplicate_id,
    bad_address,
    bad_port,
    bad_prefer,
    bad_subnet,
    overlapping_subnets,
    bad_pin,
    no_endpoint,
    // signed lists
    unsigned_list,
    bad_signature_block,
    untrusted_key,
    algorithm_mismatch,
    bad_signature,
    not_signed_version,
};

const char* to_string(bnl_errc e) noexcept;

struct bnl_error {
    bnl_errc code = bnl_errc::syntax;
    std::size_t line = 0;  // 1-based; 0 when the error concerns the whole list
    std::string message;   // names the offending value and, for duplicates, the first use
};

// "line 12: duplicate node id 5 (already used by alpha on line 3)"
std::string to_string(const bnl_error& e);

using cert_pin = std::array<std::uint8_t, 32>;  // SHA-256 over the certificate's DER

struct bnl_node {
    std::string name;
    std::uint32_t id = 0;
    std::optional<ip_address> ipv4;
    std::optional<ip_address> ipv6;
    std::uint16_t port = bnl_default_port;
    ip_family prefer = ip_family::v4;
    std::vector<ip_prefix> subnets;
    std::optional<cert_pin> pin;
    std::vector<std::string> comments;  // '#' lines, kept above the node's header

    // The endpoint to use: the preferred family's address.
    const ip_address& endpoint() const noexcept { return prefer == ip_family::v4 ? *ipv4 : *ipv6; }

    friend bool operator==(const bnl_node&, const bnl_node&) = default;
};

struct bnl_list {
    std::string network;
    std::uint64_t version = 0;               // 0: never signed
    std::optional<std::int64_t> signed_at;   // unix seconds, UTC
    std::vector<std::string> comments;       // '#' lines at the top of the file
    std::vector<bnl_node> nodes;             // in file order

    friend bool operator==(const bnl_list&, const bnl_list&) = default;
};

// Parses and fully validates a list (the body of a signed file, or an
// unsigned source file).  Size caps are enforced first.  Every error names
// its line.
result<bnl_list, bnl_error> parse_bnl(std::string_view text);

// Validates a list built in memory (after an edit): the same cross-node rules
// as parse_bnl, with messages naming nodes instead of lines.
status<bnl_error> validate_bnl(const bnl_list& list);

// The canonical text: parse_bnl(serialise_bnl(x)) == x for every valid x.
std::string serialise_bnl(const bnl_list& list);

// Field codecs shared with the tools (bnl-sign add/modify take the same
// values as the file).
bool is_valid_bnl_name(std::string_view name) noexcept;
std::optional<std::uint32_t> parse_node_id(std::string_view text) noexcept;
std::optional<std::uint16_t> parse_port(std::string_view text) noexcept;
std::optional<cert_pin> parse_pin(std::string_view text);
std::string format_pin(const cert_pin& pin);
std::optional<std::int64_t> parse_utc_time(std::string_view text) noexcept;  // YYYY-MM-DDTHH:MM:SSZ
std::string format_utc_time(std::int64_t unix_seconds);

// Endpoint checks shared by parser and tools: the reason an address cannot
// be a node endpoint, or nullptr if it can.
const char* endpoint_problem(const ip_address& a) noexcept;

}  // namespace weft
