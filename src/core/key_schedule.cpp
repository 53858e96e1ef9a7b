#include "core/key_schedule.hpp"

#include <algorithm>
#include <utility>

#include "base/endian.hpp"

namespace weft {

// The wire ids and the AEAD enumeration must stay the same numbers: aead_of()
// is a plain conversion and state files may hold either.
static_assert(static_cast<std::uint8_t>(cipher_id::aes_256_gcm) ==
              static_cast<std::uint8_t>(crypto::aead_algorithm::aes_256_gcm));
static_assert(static_cast<std::uint8_t>(cipher_id::aes_128_gcm) ==
              static_cast<std::uint8_t>(crypto::aead_algorithm::aes_128_gcm));
static_assert(static_cast<std::uint8_t>(cipher_id::chacha20_poly1305) ==
              static_cast<std::uint8_t>(crypto::aead_algorithm::chacha20_poly1305));

namespace {

unexpected<key_error> fail(key_errc code, std::string message) {
    return unexpected{key_error{code, std::move(message)}};
}

bool known(cipher_id c) noexcept {
    return std::find(all_cipher_ids.begin(), all_cipher_ids.end(), c) != all_cipher_ids.end();
}

}  // namespace

crypto::aead_algorithm aead_of(cipher_id c) noexcept {
    return static_cast<crypto::aead_algorithm>(c);
}

std::vector<std::uint8_t> key_context(std::uint32_t id_a, std::uint32_t id_b, cipher_id cipher,
                                      compression_id compression, std::uint8_t level,
                                      std::uint32_t epoch) {
    std::vector<std::uint8_t> out(key_context_size);
    std::copy(key_context_prefix.begin(), key_context_prefix.end(), out.begin());
    const std::span<std::uint8_t> s(out);
    store_be(s, key_context_lower_id_offset, std::min(id_a, id_b));
    store_be(s, key_context_higher_id_offset, std::max(id_a, id_b));
    out[key_context_cipher_offset] = static_cast<std::uint8_t>(cipher);
    out[key_context_compression_offset] = static_cast<std::uint8_t>(compression);
    out[key_context_level_offset] = level;
    store_be(s, key_context_epoch_offset, epoch);
    return out;
}

std::size_t exporter_length(cipher_id c) noexcept {
    if (!known(c)) return 0;
    return 2 * (crypto::key_size(aead_of(c)) + nonce_salt_size);
}

crypto::sha256_digest confirm_hash(std::span<const std::uint8_t> context) noexcept {
    return crypto::sha256(context);
}

const char* to_string(key_errc e) noexcept {
    switch (e) {
        case key_errc::unknown_cipher: return "unknown cipher";
        case key_errc::wrong_length: return "wrong exporter length";
        case key_errc::same_node: return "same node";
    }
    return "unknown";
}

result<directional_keys, key_error> split_keys(std::uint32_t self_id, std::uint32_t peer_id,
                                               cipher_id cipher,
                                               std::span<const std::uint8_t> exporter_output) {
    if (!known(cipher)) {
        return fail(key_errc::unknown_cipher,
                    "cipher id " + std::to_string(static_cast<unsigned>(cipher)));
    }
    // With equal ids neither side is "lower": both would send on the same
    // block, one key used in both directions.
    if (self_id == peer_id) {
        return fail(key_errc::same_node,
                    "pair of node " + std::to_string(self_id) + " with itself");
    }
    const std::size_t expected = exporter_length(cipher);
    if (exporter_output.size() != expected) {
        return fail(key_errc::wrong_length, "exporter output of " +
                                                std::to_string(exporter_output.size()) +
                                                " bytes for " + std::string(name(cipher)) +
                                                " (needs " + std::to_string(expected) + ")");
    }
    const std::size_t key_len = crypto::key_size(aead_of(cipher));
    const std::size_t block = key_len + nonce_salt_size;
    const auto low_to_high = exporter_output.first(block);
    const auto high_to_low = exporter_output.subspan(block, block);
    const bool self_is_lower = self_id < peer_id;
    const auto tx = self_is_lower ? low_to_high : high_to_low;
    const auto rx = self_is_lower ? high_to_low : low_to_high;

    return directional_keys{
        crypto::secret_bytes(tx.first(key_len)),
        crypto::secret_array<nonce_salt_size>(tx.subspan(key_len).first<nonce_salt_size>()),
        crypto::secret_bytes(rx.first(key_len)),
        crypto::secret_array<nonce_salt_size>(rx.subspan(key_len).first<nonce_salt_size>()),
    };
}

}  // namespace weft
