// The persisted state of one pair (this node and one peer): the result of
// the last negotiations, so that a restarted daemon sends and receives at
// once (design.md, "Negotiation" and "Data frames").  A value type and its
// strict binary codec; no I/O (io/state_store.hpp reads and writes files).
//
// The format is specified in PAIR-STATE.md beside this file; this header
// and pair_state.cpp are the only code that knows the layout.
//
// Decoding never throws on input and never aborts on input.  Encoding a
// state that would not decode (pair_state_problem() != nullptr) is a
// programmer error and aborts (WEFT_CHECK), so everything written can be
// read back.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "base/result.hpp"
#include "crypto/aead.hpp"
#include "crypto/secret.hpp"

namespace weft {

// Nonce salt of one direction: the frame nonce is the counter mixed with it.
using nonce_salt = crypto::secret_array<crypto::aead_nonce_size>;

// One epoch's keys for one pair.  Move-only, because it holds keys: copy on
// purpose with clone().
struct pair_keyset {
    std::uint32_t epoch = 0;          // 1.. (0 is never negotiated)
    std::uint8_t cipher = 0;          // crypto::aead_algorithm wire id: 1, 2 or 3
    std::uint8_t compression = 0;     // wire compression id: 0 none, 1 lz4, 2 zlib
    std::uint8_t level = 0;           // none 0, lz4 1..12, zlib 1..9
    std::int64_t established_at = 0;  // unix seconds
    // Unix seconds.  For the current epoch: when it must be replaced.  For
    // the previous epoch: the end of its grace period.  0 = no limit.
    std::int64_t valid_until = 0;
    // Both keys are crypto::key_size(cipher) bytes; tx is this node -> peer.
    crypto::secret_bytes tx_key, rx_key;
    nonce_salt tx_salt, rx_salt;
    // Send counters below this may have been used before a restart (or a
    // crash): sending resumes at tx_reserved, never below.  See
    // next_reservation().
    std::uint64_t tx_reserved = 0;
    // How far the peer's counters were accepted: the highest accepted
    // counter + 1, or 0 when none was (so counter 0 stays distinguishable).
    // Trustworthy only when the pair_state has clean_shutdown set (after a
    // crash, frames accepted after the last save are unknown).
    std::uint64_t rx_highwater = 0;

    [[nodiscard]] pair_keyset clone() const;
    // Field-by-field equality, keys included (compared with CRYPTO_memcmp).
    friend bool operator==(const pair_keyset& a, const pair_keyset& b) noexcept;
};

struct pair_state {
    std::uint32_t self_id = 0;  // BNL ids: 1 .. 2^32-1, and self_id != peer_id
    std::uint32_t peer_id = 0;
    // The peer's BNL name at negotiation.  If the BNL later gives peer_id to
    // another name (or changes the pin), the state belongs to a removed node:
    // the daemon must discard it, not use it.
    std::string peer_name;
    std::array<std::uint8_t, 32> peer_cert{};  // SHA-256 of the peer certificate (DER)
    // Highest epoch ever used with the peer; the next proposal is above it.
    // Never lower than current->epoch.
    std::uint32_t highest_epoch = 0;
    std::optional<pair_keyset> current;
    // The epoch before current, still accepted until its valid_until.  Only
    // with a current one, and with a lower epoch.
    std::optional<pair_keyset> previous;
    // Set by a clean stop (rx_highwater is then exact).  The daemon clears
    // it after loading and must save that before it accepts any frame, or a
    // later crash would leave a stale "clean" mark behind.
    bool clean_shutdown = false;

    [[nodiscard]] pair_state clone() const;
    friend bool operator==(const pair_state& a, const pair_state& b) noexcept;
};

// ----------------------------------------------------------- layout --
// Every offset and size of the file format (PAIR-STATE.md), in one place.
namespace pair_state_layout {

inline constexpr std::array<std::uint8_t, 8> magic{'W', 'E', 'F', 'T', 'P', 'A', 'I', 'R'};
inline constexpr std::uint16_t format_version = 1;
// Checked before anything else.  A full state is at most 408 bytes.
inline constexpr std::size_t max_size = 4096;
inline constexpr std::size_t checksum_size = 32;  // SHA-256 of every byte before it

// Header.
inline constexpr std::size_t magic_offset = 0;
inline constexpr std::size_t version_offset = 8;          // u16
inline constexpr std::size_t self_id_offset = 10;         // u32
inline constexpr std::size_t peer_id_offset = 14;         // u32
inline constexpr std::size_t highest_epoch_offset = 18;   // u32
inline constexpr std::size_t clean_shutdown_offset = 22;  // u8: 0 or 1
inline constexpr std::size_t keyset_count_offset = 23;    // u8: 0, 1 (current), 2 (+ previous)
inline constexpr std::size_t peer_cert_offset = 24;       // 32 bytes
inline constexpr std::size_t name_length_offset = 56;     // u8: 1..63
inline constexpr std::size_t name_offset = 57;            // name bytes, then the keysets
inline constexpr std::size_t header_size = name_offset;
inline constexpr std::size_t max_name_size = 63;
inline constexpr std::size_t max_keysets = 2;

// One keyset, offsets relative to its start.
inline constexpr std::size_t ks_epoch_offset = 0;           // u32
inline constexpr std::size_t ks_cipher_offset = 4;          // u8
inline constexpr std::size_t ks_compression_offset = 5;     // u8
inline constexpr std::size_t ks_level_offset = 6;           // u8
inline constexpr std::size_t ks_key_length_offset = 7;      // u8: key_size(cipher)
inline constexpr std::size_t ks_established_at_offset = 8;  // i64
inline constexpr std::size_t ks_valid_until_offset = 16;    // i64
inline constexpr std::size_t ks_tx_reserved_offset = 24;    // u64
inline constexpr std::size_t ks_rx_highwater_offset = 32;   // u64
// Then: tx key, tx salt, rx key, rx salt.
inline constexpr std::size_t ks_fixed_size = 40;
inline constexpr std::size_t salt_size = crypto::aead_nonce_size;
inline constexpr std::size_t max_key_size = 32;

constexpr std::size_t keyset_size(std::size_t key_length) noexcept {
    return ks_fixed_size + 2 * (key_length + salt_size);
}

// The shortest input whose magic, version and checksum can be looked at;
// anything shorter is "truncated".
inline constexpr std::size_t min_checkable_size = version_offset + 2 + checksum_size;

static_assert(header_size + max_name_size + max_keysets * keyset_size(max_key_size) +
                  checksum_size <=
              max_size);

}  // namespace pair_state_layout

// ------------------------------------------------------------ codec --

enum class state_error_code : std::uint8_t {
    truncated,            // shorter than the smallest checkable file
    bad_magic,            // not a pair state file
    unsupported_version,  // a format this build does not read
    bad_checksum,         // the trailing SHA-256 does not match (torn or damaged file)
    malformed,            // checksum fine, content invalid (lengths, ids, rules, trailing bytes)
    too_large,            // over pair_state_layout::max_size
};

struct state_error {
    state_error_code code;
    std::string message;
};

const char* to_string(state_error_code c) noexcept;

// Why `s` cannot be encoded (a short English phrase), or nullptr if it can.
// The decoder rejects exactly these states too (as malformed).
const char* pair_state_problem(const pair_state& s) noexcept;

// The file bytes, in a container that wipes itself (they hold the keys).
// Aborts if pair_state_problem(s) != nullptr.
crypto::secret_bytes encode_pair_state(const pair_state& s);

// Checks, in this order: size cap (too_large), length to read the magic,
// version and checksum (truncated), magic (bad_magic), checksum
// (bad_checksum), version (unsupported_version), then the content strictly
// (malformed).  Whenever decoding `bytes` succeeds, encoding the result
// gives exactly `bytes` again (one encoding per state; the fuzz target
// checks it).
result<pair_state, state_error> decode_pair_state(std::span<const std::uint8_t> bytes);

// ---------------------------------------------- counter reservation --
//
// A send counter must never repeat under one key, across crashes too.  The
// rule: every counter ever sent is below the tx_reserved on disk.  So before
// sending `counter`, the data plane asks next_reservation(counter, reserved):
//   - the same `reserved`: nothing to do, send;
//   - a larger value: save it as tx_reserved (and wait for the save), then
//     send;
//   - nullopt: the counter space is exhausted: rekey, never wrap.
// After a restart, sending resumes at tx_reserved.  Reserving a block at a
// time keeps saves rare (one per 2^20 frames).

inline constexpr std::uint64_t counter_reservation_block = std::uint64_t{1} << 20;

constexpr std::optional<std::uint64_t> next_reservation(std::uint64_t counter,
                                                        std::uint64_t reserved) noexcept {
    if (counter < reserved) return reserved;  // already covered by what is on disk
    // counter + block must not wrap: a wrapped reservation would be below
    // counters already sent.
    if (counter > std::numeric_limits<std::uint64_t>::max() - counter_reservation_block)
        return std::nullopt;
    return counter + counter_reservation_block;
}

}  // namespace weft
