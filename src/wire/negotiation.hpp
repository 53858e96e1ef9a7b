// Negotiation messages (spec: src/wire/NEGOTIATION.md, "Messages"): value
// types and the strict codec.  This file and negotiation.cpp are the only
// code that knows the layout; everything else handles the types below.
//
// Reading a message off a stream is two steps, so no body is ever buffered
// before its size is known to be acceptable:
//   1. read msg_header_size bytes, decode_header() (type and per-type limit),
//   2. read exactly header.length bytes, decode_body().
// decode() does both over one complete frame (tests, fuzzing, datagrams).
//
// Decoding never throws and never aborts on input; encoding a message that
// would not decode is a programmer error and aborts (WEFT_CHECK).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.hpp"
#include "wire/bnl.hpp"

namespace weft {

// ---------------------------------------------------------------- ids --

// The numeric values are the wire values.
enum class msg_type : std::uint8_t {
    hello = 1,
    propose = 2,
    confirm = 3,
    error = 4,
    bnl_request = 5,
    bnl_data = 6,
};

// Same numbering as crypto::aead_algorithm (core checks it at compile time);
// redeclared here because wire may not depend on crypto.
enum class cipher_id : std::uint8_t {
    aes_256_gcm = 1,
    aes_128_gcm = 2,
    chacha20_poly1305 = 3,
};

enum class compression_id : std::uint8_t {
    none = 0,
    lz4 = 1,
    zlib = 2,
};

enum class hello_purpose : std::uint8_t {
    negotiate = 1,
    node_list = 2,
};

// The code of an ERROR message.  The decoder keeps codes it does not know
// (a newer peer may send more); to_string() names them "unknown".
enum class error_msg_code : std::uint8_t {
    no_common_cipher = 1,
    no_common_compression = 2,
    bad_message = 3,
    busy = 4,  // a collision lost
    internal = 5,
};

inline constexpr std::array<cipher_id, 3> all_cipher_ids{
    cipher_id::aes_256_gcm, cipher_id::aes_128_gcm, cipher_id::chacha20_poly1305};
inline constexpr std::array<compression_id, 3> all_compression_ids{
    compression_id::none, compression_id::lz4, compression_id::zlib};

// Configuration names ("aes-256-gcm", "aes-128-gcm", "chacha20-poly1305";
// "none", "lz4", "zlib"); "unknown" for a value outside the enumeration.
std::string_view name(cipher_id c) noexcept;
std::string_view name(compression_id c) noexcept;
// Exact, lower-case match; nullopt otherwise.
std::optional<cipher_id> parse_cipher_name(std::string_view text) noexcept;
std::optional<compression_id> parse_compression_name(std::string_view text) noexcept;
// Wire byte -> id; nullopt for a byte that names nothing known.
std::optional<msg_type> msg_type_from_wire(std::uint8_t v) noexcept;
std::optional<cipher_id> cipher_from_wire(std::uint8_t v) noexcept;
std::optional<compression_id> compression_from_wire(std::uint8_t v) noexcept;

const char* to_string(msg_type t) noexcept;          // "HELLO", ...; "unknown"
const char* to_string(error_msg_code c) noexcept;    // "no common cipher", ...; "unknown"

// The levels a compression accepts: none 0..0, lz4 1..12, zlib 1..9.
struct level_range {
    std::uint8_t min = 0;
    std::uint8_t max = 0;
};
constexpr level_range compression_levels(compression_id c) noexcept {
    switch (c) {
        case compression_id::none: return {0, 0};
        case compression_id::lz4: return {1, 12};
        case compression_id::zlib: return {1, 9};
    }
    return {1, 0};  // empty: no level is valid for an unknown id
}
constexpr bool valid_level(compression_id c, std::uint8_t level) noexcept {
    const level_range r = compression_levels(c);
    return level >= r.min && level <= r.max;
}

// ------------------------------------------------------------- layout --

inline constexpr std::uint16_t neg_protocol_version = 1;

// Header: u8 type, u32 body length.
inline constexpr std::size_t msg_header_size = 5;
inline constexpr std::size_t header_type_offset = 0;
inline constexpr std::size_t header_length_offset = 1;

// HELLO: u16 protocol, u32 node id, u64 bnl version, u8 purpose.
inline constexpr std::size_t hello_protocol_offset = 0;
inline constexpr std::size_t hello_node_id_offset = 2;
inline constexpr std::size_t hello_bnl_version_offset = 6;
inline constexpr std::size_t hello_purpose_offset = 14;
inline constexpr std::size_t hello_body_size = 15;

// PROPOSE: u32 epoch, u8 n, n x (u8 cipher, u8 pref), u8 m,
// m x (u8 compression, u8 level, u8 pref).
inline constexpr std::size_t propose_epoch_offset = 0;
inline constexpr std::size_t propose_cipher_count_offset = 4;
inline constexpr std::size_t propose_cipher_entry_size = 2;
inline constexpr std::size_t propose_compression_entry_size = 3;
inline constexpr std::size_t propose_max_entries = 16;  // per list, unknown ids included
inline constexpr std::size_t propose_min_body_size = 6;  // epoch and two zero counts
inline constexpr std::size_t propose_body_limit = 256;

// CONFIRM: u32 epoch, 32 bytes SHA-256 of the key-derivation context.
inline constexpr std::size_t confirm_epoch_offset = 0;
inline constexpr std::size_t confirm_hash_offset = 4;
inline constexpr std::size_t confirm_hash_size = 32;
inline constexpr std::size_t confirm_body_size = 36;

// ERROR: u8 code, then 0..200 bytes of UTF-8.
inline constexpr std::size_t error_code_offset = 0;
inline constexpr std::size_t error_text_offset = 1;
inline constexpr std::size_t error_max_text_size = 200;
inline constexpr std::size_t error_body_limit = error_text_offset + error_max_text_size;

// BNL_REQUEST: u64 version the asker holds.
inline constexpr std::size_t bnl_request_version_offset = 0;
inline constexpr std::size_t bnl_request_body_size = 8;

// BNL_DATA: a signed node list (or nothing), as many bytes as a list may have.
inline constexpr std::size_t bnl_data_body_limit = bnl_max_file_bytes;

// The largest body a type may carry (checked before the body is read).
constexpr std::size_t body_limit(msg_type t) noexcept {
    switch (t) {
        case msg_type::hello: return hello_body_size;
        case msg_type::propose: return propose_body_limit;
        case msg_type::confirm: return confirm_body_size;
        case msg_type::error: return error_body_limit;
        case msg_type::bnl_request: return bnl_request_body_size;
        case msg_type::bnl_data: return bnl_data_body_limit;
    }
    return 0;
}

// ------------------------------------------------------------ messages --

struct hello_msg {
    std::uint32_t node_id = 0;
    std::uint64_t bnl_version = 0;
    hello_purpose purpose = hello_purpose::negotiate;
    // The protocol field is not kept: version 1 is the only one decoded.

    friend bool operator==(const hello_msg&, const hello_msg&) = default;
};

struct cipher_pref {
    cipher_id cipher = cipher_id::aes_256_gcm;
    std::uint8_t preference = 0;

    friend bool operator==(const cipher_pref&, const cipher_pref&) = default;
};

struct compression_pref {
    compression_id compression = compression_id::none;
    std::uint8_t level = 0;
    std::uint8_t preference = 0;

    friend bool operator==(const compression_pref&, const compression_pref&) = default;
};

// Decoded lists hold only known ids, each once, in the peer's order, with
// levels in range; an empty list is valid here (the choice then fails).
struct propose_msg {
    std::uint32_t epoch = 0;
    std::vector<cipher_pref> ciphers;
    std::vector<compression_pref> compressions;

    friend bool operator==(const propose_msg&, const propose_msg&) = default;
};

struct confirm_msg {
    std::uint32_t epoch = 0;
    std::array<std::uint8_t, confirm_hash_size> context_hash{};

    friend bool operator==(const confirm_msg&, const confirm_msg&) = default;
};

// `text` is valid UTF-8 of at most error_max_text_size bytes; it comes from
// the peer, so escape it before logging (the spec allows control characters).
struct error_msg {
    error_msg_code code = error_msg_code::internal;
    std::string text;

    friend bool operator==(const error_msg&, const error_msg&) = default;
};

struct bnl_request_msg {
    std::uint64_t version = 0;

    friend bool operator==(const bnl_request_msg&, const bnl_request_msg&) = default;
};

// Unparsed and unverified: the caller verifies the list (core/bnl_trust).
struct bnl_data_msg {
    std::string bytes;

    friend bool operator==(const bnl_data_msg&, const bnl_data_msg&) = default;
};

// Alternatives in wire-type order, so index() + 1 is the wire type.
using message = std::variant<hello_msg, propose_msg, confirm_msg, error_msg, bnl_request_msg,
                             bnl_data_msg>;

msg_type type_of(const message& m) noexcept;

// An ERROR message whose text is `text` cut to error_max_text_size bytes at a
// code-point boundary, with invalid UTF-8 sequences replaced by '?', so any
// string (a log line, an exception's what()) can be sent safely.
error_msg make_error_msg(error_msg_code code, std::string_view text);

// -------------------------------------------------------------- codec --

enum class neg_errc {
    truncated,          // fewer bytes than the header or a field needs
    unknown_type,
    too_long,           // body length over the type's limit
    trailing_bytes,     // bytes left after the last field
    bad_protocol,       // HELLO protocol other than 1
    bad_purpose,        // HELLO purpose other than 1 or 2
    too_many_entries,   // a PROPOSE list with more than 16 entries
    duplicate_id,       // an id twice in one PROPOSE list (unknown ids included)
    bad_level,          // a known compression with a level outside its range
    bad_text,           // ERROR text that is not valid UTF-8
};
const char* to_string(neg_errc e) noexcept;

struct neg_error {
    neg_errc code = neg_errc::truncated;
    std::string message;  // names the message type and the offending value
};

struct msg_header {
    msg_type type = msg_type::hello;
    std::size_t length = 0;  // body bytes that follow, within body_limit(type)

    friend bool operator==(const msg_header&, const msg_header&) = default;
};

// Errors: unknown_type, too_long.  Reading the body is safe after success:
// its size is bounded by body_limit(type).
result<msg_header, neg_error> decode_header(std::span<const std::uint8_t, msg_header_size> header);

// The header for a body of `length` bytes, for a writer that sends the body
// from its own buffer (a BNL_DATA list).  No limit is checked here: the
// caller states what it sends, and decode_header() judges it at the peer.
std::array<std::uint8_t, msg_header_size> encode_header(msg_type type, std::uint32_t length) noexcept;

// Strict decode of one body of type `type` (the whole span is the body).
// Errors: too_long, truncated, trailing_bytes, and the per-type ones above.
// Unknown cipher and compression ids in PROPOSE are skipped, not errors.
result<message, neg_error> decode_body(msg_type type, std::span<const std::uint8_t> body);

// A complete frame: header then exactly the declared body.  Errors as above,
// plus truncated (frame shorter than header + length) and trailing_bytes
// (longer).
result<message, neg_error> decode(std::span<const std::uint8_t> frame);

// Header and body.  `m` must be encodable: at most 16 entries per list, no
// id twice, known compressions at levels in range, a known HELLO purpose,
// ERROR text valid UTF-8 within 200 bytes, BNL_DATA within its limit;
// anything else aborts (a bug, not an input).  Ids outside the enumerations
// are encoded as given (that is what a newer peer sends), so decode(encode(m))
// == m for every encodable m without such ids, and m minus those entries
// otherwise.
std::vector<std::uint8_t> encode(const message& m);

// Whether encode(m) is allowed, and if not, why (the same errors decode
// would give for the encoded bytes).
status<neg_error> check_encodable(const message& m);

}  // namespace weft
