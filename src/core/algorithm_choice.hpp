// Cipher and compression preference lists, and the deterministic choice both
// sides of a pair make from their two lists (NEGOTIATION.md, "A negotiation",
// Choice; design.md, "Negotiation").  Pure: no I/O, no state.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "wire/negotiation.hpp"

namespace weft {

// The `ciphers` and `compression` defaults of weft.conf.  No compression is
// preferred: compressing before encrypting can leak content through lengths.
inline constexpr std::string_view default_cipher_prefs =
    "aes-256-gcm:10 chacha20-poly1305:8 aes-128-gcm:5";
inline constexpr std::string_view default_compression_prefs = "none:0:5 lz4:1:3 zlib:6:1";

// Tie-break orders: on equal sums the earlier entry wins.
inline constexpr std::array<cipher_id, 3> cipher_tie_order{
    cipher_id::aes_256_gcm, cipher_id::chacha20_poly1305, cipher_id::aes_128_gcm};
inline constexpr std::array<compression_id, 3> compression_tie_order{
    compression_id::none, compression_id::lz4, compression_id::zlib};

// One side's lists, in the order configured.  Valid lists (what the parsers
// and the PROPOSE decoder produce) name only known ids, each once, with
// levels in range.
struct algorithm_prefs {
    std::vector<cipher_pref> ciphers;
    std::vector<compression_pref> compressions;

    friend bool operator==(const algorithm_prefs&, const algorithm_prefs&) = default;
};

struct prefs_error {
    std::string token;    // the offending token as written; empty for an empty list
    std::string message;  // e.g. "ciphers: unknown cipher 'aes-512-gcm' in 'aes-512-gcm:3'"
};

// "name:preference ..." separated by spaces or tabs; preference 0..255.
// Errors: empty list, a token not of that shape, an unknown name, a number
// that is not a decimal 0..255, a name twice.
result<std::vector<cipher_pref>, prefs_error> parse_cipher_prefs(std::string_view text);
// "name:level:preference ..."; the level must lie in the compression's range
// (none 0, lz4 1..12, zlib 1..9).  Errors as above, plus a level out of range.
result<std::vector<compression_pref>, prefs_error> parse_compression_prefs(std::string_view text);
// Both lists; the first error wins.
result<algorithm_prefs, prefs_error> parse_prefs(std::string_view ciphers,
                                                 std::string_view compression);
// The defaults above, parsed.
algorithm_prefs default_prefs();

// The configuration syntax: parse_*(format_*(x)) == x for valid lists.
std::string format_cipher_prefs(const std::vector<cipher_pref>& ciphers);
std::string format_compression_prefs(const std::vector<compression_pref>& compressions);
// One line for logs naming both lists, e.g.
// "ciphers [aes-256-gcm:10 aes-128-gcm:5] compression [none:0:5 lz4:1:3]".
std::string describe(const algorithm_prefs& prefs);

struct algorithm_choice {
    cipher_id cipher = cipher_id::aes_256_gcm;
    compression_id compression = compression_id::none;
    std::uint8_t level = 0;

    friend bool operator==(const algorithm_choice&, const algorithm_choice&) = default;
};

enum class choice_errc : std::uint8_t {
    no_common_cipher,
    no_common_compression,
};
const char* to_string(choice_errc e) noexcept;
// The ERROR message code to send for a failed choice.
error_msg_code wire_code(choice_errc e) noexcept;

struct choice_error {
    choice_errc code = choice_errc::no_common_cipher;
    std::string message;  // "no common cipher: ours [..], theirs [..]"
};

// The choice both sides reach: among ids present in both lists, the one with
// the highest sum of the two preferences, ties to the earlier in the tie
// order; the compression level is the higher of the two sides' levels for the
// chosen compression.  Symmetric: choose(a, b) and choose(b, a) give the same
// choice, or the same error code (the message names `mine` as "ours").
// When neither list has anything in common the cipher error is reported.
// Entries outside the enumerations are ignored; if an id appears twice in one
// list, its first entry counts.
result<algorithm_choice, choice_error> choose(const algorithm_prefs& mine,
                                              const algorithm_prefs& theirs);

// PROPOSE conversions: the lists as sent, and as received.
propose_msg to_propose(const algorithm_prefs& prefs, std::uint32_t epoch);
algorithm_prefs prefs_of(const propose_msg& m);

}  // namespace weft
