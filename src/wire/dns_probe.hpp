// The DNS message the nameserver checker sends, and the strict check of a
// reply (RFC 1035 section 4.1).  A server "answers" when it sends back a
// well-formed response to our exact query, whatever its RCODE: REFUSED or
// SERVFAIL still prove a live DNS server at that address.  Garbage, short,
// or mismatched datagrams never count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace weft::dns {

inline constexpr std::size_t header_size = 12;
inline constexpr std::size_t max_name = 255;  // wire form, with the root label
inline constexpr std::size_t max_label = 63;
// No more records than this per section: a probe reply is small.
inline constexpr std::uint16_t max_section_records = 256;
inline constexpr std::uint16_t type_ns = 2;
inline constexpr std::uint16_t class_in = 1;

// Header offsets and bits.
namespace off {
inline constexpr std::size_t id = 0, flags = 2, qdcount = 4, ancount = 6, nscount = 8, arcount = 10;
}
inline constexpr std::uint16_t flag_qr = 0x8000, flag_tc = 0x0200, flag_rd = 0x0100;
inline constexpr unsigned opcode_shift = 11;
inline constexpr std::uint16_t opcode_mask = 0xf, rcode_mask = 0xf;

enum class query_errc { empty_label, label_too_long, name_too_long, bad_character };
const char* to_string(query_errc e) noexcept;

// The name in wire form: "." (or "") is the root; "example.org" and
// "example.org." are the same name.  Labels of letters, digits, '-' and '_'.
result<std::vector<std::uint8_t>, query_errc> encode_name(std::string_view name);

// A standard query: the given id, RD set, one question (name, qtype, IN).
result<std::vector<std::uint8_t>, query_errc> build_query(std::uint16_t id, std::string_view name,
                                                          std::uint16_t qtype = type_ns);

enum class reply_errc {
    too_short,  // shorter than a header
    id_mismatch,
    not_response,  // QR clear
    opcode_mismatch,
    bad_counts,         // QDCOUNT != 1 or a section over max_section_records
    question_mismatch,  // not our question echoed back
    malformed_record,   // a record runs past the end, a bad label or pointer
    trailing_bytes,     // bytes after the last record
    bad_query,          // the query given is not one build_query makes (programmer error guard)
};
const char* to_string(reply_errc e) noexcept;

struct reply_info {
    std::uint8_t rcode = 0;
    bool truncated = false;  // TC: the records may be cut short, which is allowed
    std::uint16_t answers = 0;
};

// Checks `reply` against the `query` it should answer: the id, QR, the
// opcode, exactly one question equal to ours (the name compared without
// regard to ASCII case), and every record of the three sections inside the
// datagram (unless TC is set, when the records may stop early).  Returns the
// RCODE and flags, or why the datagram is not an answer to the query.
result<reply_info, reply_errc> check_reply(std::span<const std::uint8_t> query,
                                           std::span<const std::uint8_t> reply);

}  // namespace weft::dns
