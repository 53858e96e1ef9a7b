// The AEAD ciphers of the data plane (design.md, "Data frames"): which ones
// exist, their names and sizes, and aead_key, one key ready to seal and open
// packets in place without allocating.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "base/result.hpp"
#include "crypto/error.hpp"
#include "crypto/evp_ptr.hpp"
#include "crypto/provider_cipher.hpp"

namespace weft::crypto {

// The numeric values are stable: they may be stored in state files and sent
// in negotiation messages.
enum class aead_algorithm : std::uint8_t {
    aes_256_gcm = 1,
    aes_128_gcm = 2,
    chacha20_poly1305 = 3,
};

// Every algorithm, in enumeration order.
inline constexpr std::array<aead_algorithm, 3> all_aead_algorithms{
    aead_algorithm::aes_256_gcm, aead_algorithm::aes_128_gcm, aead_algorithm::chacha20_poly1305};

// Every algorithm here takes a 96-bit nonce and produces a 128-bit tag.
inline constexpr std::size_t aead_nonce_size = 12;
inline constexpr std::size_t aead_tag_size = 16;

// Key length in bytes; 0 for a value outside the enumeration.
constexpr std::size_t key_size(aead_algorithm alg) noexcept {
    switch (alg) {
        case aead_algorithm::aes_256_gcm: return 32;
        case aead_algorithm::aes_128_gcm: return 16;
        case aead_algorithm::chacha20_poly1305: return 32;
    }
    return 0;
}

// The configuration name: "aes-256-gcm", "aes-128-gcm", "chacha20-poly1305";
// "unknown" for a value outside the enumeration.
std::string_view name(aead_algorithm alg) noexcept;

// The inverse of name(): exact, lower-case match only; nullopt otherwise.
std::optional<aead_algorithm> parse_aead_algorithm(std::string_view text) noexcept;

// The inverse of static_cast<std::uint8_t>(alg), for decoders; nullopt for a
// value that names no algorithm.
std::optional<aead_algorithm> aead_algorithm_from_id(std::uint8_t id) noexcept;

struct aead_key_test_access;  // defined by the unit tests only

// libsodium's form of a key (AES-256-GCM: expanded key and GHASH powers;
// ChaCha20-Poly1305: the key), and what frees it: wipes it first.  Defined
// in aead.cpp, so sodium.h stays there.
struct libsodium_key;
struct libsodium_key_free {
    void operator()(libsodium_key* state) const noexcept;
};

// One AEAD key of one direction, with an OpenSSL context keyed for sealing
// and another keyed for opening, both driven through the provider's own
// functions rather than EVP (provider_cipher.hpp).  The key schedule is computed once, in
// create(); each seal()/open() only sets the nonce, so the packet path does
// no allocation and no key expansion.  The raw key bytes are not kept: they
// live on only inside the two contexts, which OpenSSL wipes when freeing them,
// and in libsodium's form of the key (expanded for AES-256-GCM, as it is
// for ChaCha20-Poly1305), which is wiped before it is freed.
//
// Move-only.  Not thread-safe: seal() and open() change the contexts, so one
// object serves one thread at a time (a sender and a receiver thread may not
// share it; give each its own aead_key built from the same bytes).  Calling
// seal() or open() on a moved-from object is a programmer error and aborts.
//
// Nonces are the caller's business: a nonce must never repeat under one key
// (the frame layer derives it from a never-repeating counter).
//
// ChaCha20-Poly1305 payloads of up to composed_max_payload bytes that
// libsodium does not take (below) are sealed and opened by composing
// OpenSSL's ChaCha20 and Poly1305 as RFC 8439 section 2.8 defines the AEAD,
// not through OpenSSL's AEAD: one ChaCha20 call from block 0 over a
// per-thread copy padded to whole blocks gives both the Poly1305 key and the
// payload's keystream.  OpenSSL 3.0's AEAD makes two
// further short ChaCha20 calls per packet (the key block, the last partial
// block), each costing as much as several blocks; the composition seals a
// 1400-byte packet in about 0.77 of the time (HOWTO §13).  The bytes are
// identical; the unit tests compare both paths over every length.  AAD that
// overlaps the payload goes through OpenSSL's AEAD (the composition would
// authenticate the bytes after encryption).  A failed open() leaves the
// payload untouched on the composed path, but callers must still treat it
// as unspecified (larger payloads and other ciphers leave it partly
// decrypted).
//
// AES-256-GCM and ChaCha20-Poly1305 payloads of up to libsodium_max_payload
// bytes go through libsodium instead (AES-256-GCM only when the CPU has
// AES-NI and PCLMUL; neither when OpenSSL is in FIPS mode): one call with a
// small footprint.  An idle tunnel's packet meets cold caches and TLBs, and
// there the cost is the pages a seal touches, not its arithmetic: after a
// 200 ms sleep, a 100-byte seal took 18-19 us through OpenSSL's AES-GCM
// (five provider calls across many pages) against libsodium's 3, and
// 18.5 us through the ChaCha20-Poly1305 composition against libsodium's
// 10.  Warm, libsodium's AES-256-GCM is faster up to about 300 bytes and
// OpenSSL's stitched AES-GCM beyond (twice as fast at 1400); libsodium's
// ChaCha20-Poly1305 is slower warm at every size (0.46 against 0.30-0.40 us
// per 100-byte seal; 64-byte seal+open 0.77 against 0.56 us), which a flood
// of small packets pays for idle round trips some 40 us shorter.  Hence the limit: pings, ACKs and DNS take
// libsodium, bulk data OpenSSL (HOWTO, "Small packets through libsodium").
// The bytes are identical; the unit tests compare both paths over every
// length up to past the limit.
class aead_key {
public:
    // Fails when `key` is not key_size(alg) bytes long, when `alg` is not a
    // known algorithm, or when OpenSSL cannot provide the cipher (for
    // example a FIPS-only configuration without ChaCha20-Poly1305); the
    // message says which.
    static result<aead_key, crypto_error> create(aead_algorithm alg,
                                                 std::span<const std::uint8_t> key);

    aead_key(aead_key&&) noexcept = default;
    aead_key& operator=(aead_key&&) noexcept = default;
    aead_key(const aead_key&) = delete;
    aead_key& operator=(const aead_key&) = delete;
    ~aead_key() = default;

    aead_algorithm algorithm() const noexcept { return algorithm_; }

    // Encrypts `inout` in place under `nonce`, authenticating `aad` too, and
    // writes the tag.  `inout` and `aad` may be empty.  Returns false only if
    // OpenSSL reports a failure or a span is longer than INT_MAX bytes; then
    // `inout` and `tag` hold garbage and must not be sent.  Never allocates.
    [[nodiscard]] bool seal(std::span<const std::uint8_t, aead_nonce_size> nonce,
                            std::span<const std::uint8_t> aad, std::span<std::uint8_t> inout,
                            std::span<std::uint8_t, aead_tag_size> tag) noexcept;

    // Decrypts `inout` in place and verifies `tag` over `aad` and the
    // ciphertext.  Returns true only when the tag verifies.  On false the
    // contents of `inout` are unspecified (partly decrypted, unauthenticated
    // bytes): the caller must discard the whole packet and must not act on
    // any of it.  A failure leaves nothing on OpenSSL's error queue, so a
    // flood of forged packets costs no memory.  Never allocates.
    [[nodiscard]] bool open(std::span<const std::uint8_t, aead_nonce_size> nonce,
                            std::span<const std::uint8_t> aad, std::span<std::uint8_t> inout,
                            std::span<const std::uint8_t, aead_tag_size> tag) noexcept;

    // The longest ChaCha20-Poly1305 payload the composition takes (larger
    // ones go through OpenSSL's AEAD): the per-thread copy's size.
    static constexpr std::size_t composed_max_payload = 2048;

    // Whether ChaCha20-Poly1305 payloads up to composed_max_payload take the
    // composition (false for other ciphers, or when the providers lack
    // "ChaCha20" or "POLY1305").
    bool composed() const noexcept { return stream_ctx_.valid() && mac_ctx_ != nullptr; }

    // The longest payload libsodium seals and opens (larger ones go through
    // OpenSSL).
    static constexpr std::size_t libsodium_max_payload = 256;

    // Whether payloads up to libsodium_max_payload go through libsodium
    // (false for AES-128-GCM, for AES-256-GCM without AES-NI or PCLMUL, and
    // with OpenSSL in FIPS mode).
    bool via_libsodium() const noexcept { return small_ != nullptr; }

private:
    // The unit tests define this to switch a key to OpenSSL's AEAD only, or
    // off libsodium, so they can compare the paths; nothing else may.
    friend struct aead_key_test_access;

    using libsodium_state = std::unique_ptr<libsodium_key, libsodium_key_free>;

    aead_key(aead_algorithm alg, provider_cipher seal_ctx, provider_cipher open_ctx,
             provider_cipher stream_ctx, evp_mac_ctx_ptr mac_ctx, libsodium_state small) noexcept
        : algorithm_(alg), seal_ctx_(std::move(seal_ctx)), open_ctx_(std::move(open_ctx)),
          stream_ctx_(std::move(stream_ctx)), mac_ctx_(std::move(mac_ctx)), small_(std::move(small)) {}

    bool seal_composed(std::span<const std::uint8_t, aead_nonce_size> nonce, std::span<const std::uint8_t> aad,
                       std::span<std::uint8_t> inout, std::span<std::uint8_t, aead_tag_size> tag) noexcept;
    // Whether this seal()/open() goes through the composition.
    bool takes_composition(std::span<const std::uint8_t> aad,
                           std::span<const std::uint8_t> inout) const noexcept;
    bool open_composed(std::span<const std::uint8_t, aead_nonce_size> nonce, std::span<const std::uint8_t> aad,
                       std::span<std::uint8_t> inout, std::span<const std::uint8_t, aead_tag_size> tag) noexcept;
    // Whether this seal()/open() goes through libsodium.
    bool takes_libsodium(std::span<const std::uint8_t> aad, std::span<const std::uint8_t> inout) const noexcept;

    aead_algorithm algorithm_;
    provider_cipher seal_ctx_;  // keyed for encryption; empty only when moved from
    provider_cipher open_ctx_;  // keyed for decryption; empty only when moved from
    // ChaCha20-Poly1305 only: raw ChaCha20 keyed with the same key, and a
    // Poly1305 context (keyed per packet).  Empty otherwise.
    provider_cipher stream_ctx_;
    evp_mac_ctx_ptr mac_ctx_;
    // AES-256-GCM or ChaCha20-Poly1305 with libsodium usable only: the same
    // key in libsodium's form.  Empty otherwise.
    libsodium_state small_;
};

}  // namespace weft::crypto
