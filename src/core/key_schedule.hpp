// The pair key schedule (NEGOTIATION.md, "A negotiation", Keys): the TLS
// exporter's label and context, how its output splits into one key and nonce
// salt per direction, and the hash CONFIRM carries.  Keys are never sent:
// the TLS code calls the exporter with exporter_label, key_context() and
// exporter_length(), and hands the output to split_keys().  Pure: no I/O.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "crypto/aead.hpp"
#include "crypto/digest.hpp"
#include "crypto/secret.hpp"
#include "wire/negotiation.hpp"

namespace weft {

inline constexpr std::string_view exporter_label = "EXPORTER-weft-pair-keys-v1";

// Context: "weft-pair-v1" || u32 lower id || u32 higher id || u8 cipher ||
// u8 compression || u8 level || u32 epoch, integers big-endian.
inline constexpr std::string_view key_context_prefix = "weft-pair-v1";
inline constexpr std::size_t key_context_lower_id_offset = 12;
inline constexpr std::size_t key_context_higher_id_offset = 16;
inline constexpr std::size_t key_context_cipher_offset = 20;
inline constexpr std::size_t key_context_compression_offset = 21;
inline constexpr std::size_t key_context_level_offset = 22;
inline constexpr std::size_t key_context_epoch_offset = 23;
inline constexpr std::size_t key_context_size = 27;
static_assert(key_context_prefix.size() == key_context_lower_id_offset);

// Each direction's nonce salt is as long as the AEAD nonce it is mixed into.
inline constexpr std::size_t nonce_salt_size = crypto::aead_nonce_size;
static_assert(nonce_salt_size == 12, "the spec fixes the salt at 12 bytes");

// The AEAD behind a negotiated cipher (the ids are the same numbers).
crypto::aead_algorithm aead_of(cipher_id c) noexcept;

// The context bytes.  Symmetric in (id_a, id_b): both ends of a pair compute
// the same bytes whichever of them is "a".
std::vector<std::uint8_t> key_context(std::uint32_t id_a, std::uint32_t id_b, cipher_id cipher,
                                      compression_id compression, std::uint8_t level,
                                      std::uint32_t epoch);

// Bytes to ask the exporter for: 2 x (key length + 12); 0 for a cipher
// outside the enumeration.
std::size_t exporter_length(cipher_id c) noexcept;

// What CONFIRM carries: SHA-256 of the context, so a mismatch in anything the
// keys are bound to (ids, algorithms, level, epoch) is caught before use.
crypto::sha256_digest confirm_hash(std::span<const std::uint8_t> context) noexcept;

struct directional_keys {
    crypto::secret_bytes tx_key;  // key_size(aead_of(cipher)) bytes
    crypto::secret_array<nonce_salt_size> tx_salt;
    crypto::secret_bytes rx_key;
    crypto::secret_array<nonce_salt_size> rx_salt;
};

enum class key_errc : std::uint8_t {
    unknown_cipher,  // a cipher id outside the enumeration
    wrong_length,    // the exporter output is not exporter_length(cipher) bytes
    same_node,       // self_id == peer_id: both directions would share one key
};
const char* to_string(key_errc e) noexcept;

struct key_error {
    key_errc code = key_errc::wrong_length;
    std::string message;
};

// Splits the exporter output into this node's directions.  The output holds
// key and salt for lower id -> higher id, then key and salt for higher ->
// lower; a node sends on the block of its own direction, so the lower id
// transmits with the first block and the higher id with the second, and
// A's tx equals B's rx.  Does not keep or copy `exporter_output`; the caller
// wipes it.
result<directional_keys, key_error> split_keys(std::uint32_t self_id, std::uint32_t peer_id,
                                               cipher_id cipher,
                                               std::span<const std::uint8_t> exporter_output);

}  // namespace weft
