#include "crypto/aead.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <sodium.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <string>
#include <utility>

#include "base/check.hpp"

namespace weft::crypto {

// One of the two, as the key's algorithm says.  libsodium's ChaCha20 has no
// key schedule: its calls take the key itself.
struct libsodium_key {
    union {
        crypto_aead_aes256gcm_state aes;  // expanded key and GHASH powers; 16-byte aligned by its type
        std::uint8_t chacha[crypto_aead_chacha20poly1305_ietf_KEYBYTES];
    };
};

void libsodium_key_free::operator()(libsodium_key* s) const noexcept {
    sodium_memzero(s, sizeof *s);
    delete s;
}

namespace {

// Whether libsodium may take small payloads of `alg` (aead.hpp): it
// initialises, OpenSSL's default properties do not ask for FIPS (libsodium
// is not a FIPS module), and for AES-256-GCM this CPU has AES-NI and PCLMUL.
bool libsodium_usable(aead_algorithm alg) noexcept {
    static const bool initialised = sodium_init() >= 0;
    static const bool aes_ok = initialised && crypto_aead_aes256gcm_is_available() == 1;
    if (!initialised || EVP_default_properties_is_fips_enabled(nullptr) != 0) return false;
    switch (alg) {
        case aead_algorithm::aes_256_gcm: return aes_ok;
        case aead_algorithm::chacha20_poly1305: return true;
        case aead_algorithm::aes_128_gcm: return false;  // libsodium lacks it
    }
    return false;
}

// libsodium declares the ciphertext pointer non-null even when the payload
// is empty (a keepalive's): give it a byte it will not touch.
[[gnu::hot]] std::uint8_t* payload_pointer(std::span<std::uint8_t> inout) noexcept {
    static std::uint8_t nothing;
    return inout.empty() ? &nothing : inout.data();
}

// OpenSSL's algorithm names (what EVP_CIPHER_fetch understands).
const char* openssl_cipher_name(aead_algorithm alg) noexcept {
    switch (alg) {
        case aead_algorithm::aes_256_gcm: return "AES-256-GCM";
        case aead_algorithm::aes_128_gcm: return "AES-128-GCM";
        case aead_algorithm::chacha20_poly1305: return "ChaCha20-Poly1305";
    }
    return nullptr;
}

// OpenSSL takes lengths as int.
bool fits_int(std::size_t n) noexcept { return n <= static_cast<std::size_t>(INT_MAX); }

unexpected<crypto_error> refusal(std::string message) {
    return unexpected{crypto_error{std::move(message)}};
}

// What failed, with OpenSSL's reason (which also empties its error queue).
unexpected<crypto_error> openssl_failure(std::string_view alg, const char* what) {
    std::string msg(alg);
    msg += ": ";
    msg += what;
    msg += ": ";
    msg += openssl_error_string("no reason given by OpenSSL");
    return refusal(std::move(msg));
}

// A context of `cipher` keyed for one direction of use, with no IV yet: each
// packet brings its own nonce.
result<provider_cipher, crypto_error> keyed_context(const EVP_CIPHER* cipher, std::span<const std::uint8_t> key,
                                                    bool encrypt, std::string_view alg_name) {
    auto ctx = provider_cipher::create(cipher, key, encrypt, /*aead=*/true);
    if (!ctx) {
        ERR_clear_error();  // the message already holds OpenSSL's reason
        return refusal(std::string(alg_name) + ": " + ctx.error().message);
    }
    return ctx;
}

// Failure paths leave OpenSSL's per-thread error queue empty: nobody on the
// packet path reads it, and forged packets must not be able to fill it.
bool fail() noexcept {
    ERR_clear_error();
    return false;
}

// The composed ChaCha20-Poly1305 (see aead.hpp).
constexpr std::size_t chacha_block = 64;
constexpr std::size_t poly1305_key_size = 32;

// One thread's working copy: block 0 (becomes the Poly1305 key), then the
// payload padded to whole blocks.  What the padding holds does not matter:
// its output is never used.
alignas(64) thread_local std::array<std::uint8_t, chacha_block + aead_key::composed_max_payload> scratch{};

// ChaCha20 from block 0 over scratch[0, 64 + len rounded up to 64), in place:
// the first 32 bytes become the Poly1305 key (block 0 of zeros), and
// scratch[64, 64 + len) the payload XOR the keystream from block 1, as in
// the AEAD (RFC 8439 2.6, 2.8).  One call over whole blocks: OpenSSL's
// separate path for a trailing partial block is never taken.
bool chacha_from_block0(provider_cipher& ctx, std::span<const std::uint8_t, aead_nonce_size> nonce,
                        std::size_t len) noexcept {
    std::uint8_t iv[16] = {};  // OpenSSL's ChaCha20 IV: 32-bit block counter (LE), then the nonce
    std::memcpy(iv + 4, nonce.data(), nonce.size());
    std::memset(scratch.data(), 0, chacha_block);
    const std::size_t n = chacha_block + (len + chacha_block - 1) / chacha_block * chacha_block;
    return ctx.start(iv) && ctx.update(scratch.data(), scratch.data(), n);
}

// The AEAD's tag (RFC 8439 2.8): Poly1305 under the key in scratch[0, 32) over
// aad, zeros to a multiple of 16, the ciphertext, zeros to a multiple of 16,
// and both lengths as 64-bit little-endian numbers.  A frame's header (the
// AAD, 16 bytes) lies right before its payload: then both go in one update.
bool poly1305_tag(EVP_MAC_CTX* mac, std::span<const std::uint8_t> aad, std::span<const std::uint8_t> ct,
                  std::uint8_t (&out)[aead_tag_size]) noexcept {
    // The ciphertext's padding, then the lengths.
    std::uint8_t tail[32] = {};
    const std::size_t pad = (16 - ct.size() % 16) % 16;
    for (std::size_t i = 0; i < 8; ++i) {
        tail[pad + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(aad.size()) >> (8 * i));
        tail[pad + 8 + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(ct.size()) >> (8 * i));
    }
    static constexpr std::uint8_t zeros[16] = {};
    auto update = [mac](const std::uint8_t* p, std::size_t n) { return n == 0 || EVP_MAC_update(mac, p, n) == 1; };
    if (EVP_MAC_init(mac, scratch.data(), poly1305_key_size, nullptr) != 1) return false;
    const bool adjacent = !aad.empty() && aad.size() % 16 == 0 && !ct.empty() && aad.data() + aad.size() == ct.data();
    if (adjacent) {
        if (!update(aad.data(), aad.size() + ct.size())) return false;
    } else if (!update(aad.data(), aad.size()) || !update(zeros, (16 - aad.size() % 16) % 16) ||
               !update(ct.data(), ct.size())) {
        return false;
    }
    std::size_t written = 0;
    return update(tail, pad + 16) && EVP_MAC_final(mac, out, &written, sizeof out) == 1 && written == sizeof out;
}

// Whether two byte ranges share memory (compared as addresses: they may
// belong to different objects).
bool overlap(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
    const auto a0 = reinterpret_cast<std::uintptr_t>(a.data()), b0 = reinterpret_cast<std::uintptr_t>(b.data());
    return !a.empty() && !b.empty() && a0 < b0 + b.size() && b0 < a0 + a.size();
}

}  // namespace

std::string_view name(aead_algorithm alg) noexcept {
    switch (alg) {
        case aead_algorithm::aes_256_gcm: return "aes-256-gcm";
        case aead_algorithm::aes_128_gcm: return "aes-128-gcm";
        case aead_algorithm::chacha20_poly1305: return "chacha20-poly1305";
    }
    return "unknown";
}

std::optional<aead_algorithm> parse_aead_algorithm(std::string_view text) noexcept {
    for (aead_algorithm alg : all_aead_algorithms) {
        if (text == name(alg)) return alg;
    }
    return std::nullopt;
}

std::optional<aead_algorithm> aead_algorithm_from_id(std::uint8_t id) noexcept {
    for (aead_algorithm alg : all_aead_algorithms) {
        if (static_cast<std::uint8_t>(alg) == id) return alg;
    }
    return std::nullopt;
}

result<aead_key, crypto_error> aead_key::create(aead_algorithm alg,
                                                std::span<const std::uint8_t> key) {
    const char* ossl_name = openssl_cipher_name(alg);
    if (ossl_name == nullptr) {
        return refusal("unknown AEAD algorithm id " + std::to_string(static_cast<unsigned>(alg)));
    }
    const std::string_view alg_name = name(alg);
    if (key.size() != key_size(alg)) {
        return refusal(std::string(alg_name) + " needs a " + std::to_string(key_size(alg)) +
                       "-byte key, got " + std::to_string(key.size()) + " bytes");
    }

    // One explicit fetch per key, shared by both contexts (each takes its own
    // reference).  Fetching, rather than EVP_aes_256_gcm(), makes an
    // algorithm the loaded providers lack fail here, with OpenSSL's reason.
    evp_cipher_ptr cipher(EVP_CIPHER_fetch(nullptr, ossl_name, nullptr));
    if (!cipher) return openssl_failure(alg_name, "EVP_CIPHER_fetch");

    // The sizes this file promises must be the ones OpenSSL uses; checked
    // before keying so a mismatch can never make OpenSSL read past `key`.
    if (static_cast<std::size_t>(EVP_CIPHER_get_key_length(cipher.get())) != key_size(alg) ||
        static_cast<std::size_t>(EVP_CIPHER_get_iv_length(cipher.get())) != aead_nonce_size) {
        return refusal(std::string(alg_name) + ": OpenSSL's key or nonce size differs from weft's");
    }

    auto seal_ctx = keyed_context(cipher.get(), key, true, alg_name);
    if (!seal_ctx) return unexpected{std::move(seal_ctx).error()};
    auto open_ctx = keyed_context(cipher.get(), key, false, alg_name);
    if (!open_ctx) return unexpected{std::move(open_ctx).error()};

    // The composition's parts.  Providers without them leave OpenSSL's AEAD
    // in charge of every packet.
    provider_cipher stream_ctx;
    evp_mac_ctx_ptr mac_ctx;
    if (alg == aead_algorithm::chacha20_poly1305) {
        ERR_set_mark();  // what these fetches may leave goes; the caller's errors stay
        evp_cipher_ptr chacha(EVP_CIPHER_fetch(nullptr, "ChaCha20", nullptr));
        evp_mac_ptr poly(EVP_MAC_fetch(nullptr, "POLY1305", nullptr));
        if (chacha && poly && EVP_CIPHER_get_key_length(chacha.get()) == 32 &&
            EVP_CIPHER_get_iv_length(chacha.get()) == 16) {
            // Not keyed_context(): a failure here must not clear the
            // caller's errors, only what ERR_pop_to_mark() removes.
            auto ctx = provider_cipher::create(chacha.get(), key, true, /*aead=*/false);
            evp_mac_ctx_ptr m(EVP_MAC_CTX_new(poly.get()));
            if (ctx && m) {
                stream_ctx = std::move(ctx).value();
                mac_ctx = std::move(m);
            }
        }
        ERR_pop_to_mark();
    }
    libsodium_state small;
    if (libsodium_usable(alg)) {
        small.reset(new libsodium_key);
        if (alg == aead_algorithm::aes_256_gcm) {
            crypto_aead_aes256gcm_beforenm(&small->aes, key.data());
        } else {
            static_assert(sizeof small->chacha == key_size(aead_algorithm::chacha20_poly1305));
            std::memcpy(small->chacha, key.data(), sizeof small->chacha);
        }
    }
    return aead_key(alg, std::move(seal_ctx).value(), std::move(open_ctx).value(), std::move(stream_ctx),
                    std::move(mac_ctx), std::move(small));
}

[[gnu::hot]] bool aead_key::takes_libsodium(std::span<const std::uint8_t> aad,
                                            std::span<const std::uint8_t> inout) const noexcept {
    return small_ != nullptr && inout.size() <= libsodium_max_payload && !overlap(aad, inout);
}

bool aead_key::takes_composition(std::span<const std::uint8_t> aad,
                                 std::span<const std::uint8_t> inout) const noexcept {
    return composed() && inout.size() <= composed_max_payload && !overlap(aad, inout);
}

bool aead_key::seal_composed(std::span<const std::uint8_t, aead_nonce_size> nonce,
                             std::span<const std::uint8_t> aad, std::span<std::uint8_t> inout,
                             std::span<std::uint8_t, aead_tag_size> tag) noexcept {
    const std::size_t len = inout.size();
    if (len != 0) std::memcpy(scratch.data() + chacha_block, inout.data(), len);
    if (!chacha_from_block0(stream_ctx_, nonce, len)) {
        OPENSSL_cleanse(scratch.data(), chacha_block);
        return fail();
    }
    if (len != 0) std::memcpy(inout.data(), scratch.data() + chacha_block, len);
    std::uint8_t computed[aead_tag_size];
    const bool ok = poly1305_tag(mac_ctx_.get(), aad, inout, computed);
    OPENSSL_cleanse(scratch.data(), chacha_block);  // the one-time key
    if (!ok) return fail();
    std::copy(std::begin(computed), std::end(computed), tag.begin());
    return true;
}

bool aead_key::open_composed(std::span<const std::uint8_t, aead_nonce_size> nonce,
                             std::span<const std::uint8_t> aad, std::span<std::uint8_t> inout,
                             std::span<const std::uint8_t, aead_tag_size> tag) noexcept {
    const std::size_t len = inout.size();
    if (len != 0) std::memcpy(scratch.data() + chacha_block, inout.data(), len);
    std::uint8_t computed[aead_tag_size];
    // The tag is computed over the ciphertext, still in `inout`; the
    // plaintext waits in the copy until the tag has verified.
    const bool ok = chacha_from_block0(stream_ctx_, nonce, len) &&
                    poly1305_tag(mac_ctx_.get(), aad, inout, computed) &&
                    CRYPTO_memcmp(computed, tag.data(), aead_tag_size) == 0;
    OPENSSL_cleanse(scratch.data(), chacha_block);
    if (!ok) {
        OPENSSL_cleanse(scratch.data() + chacha_block, len);  // unauthenticated: gone
        OPENSSL_cleanse(computed, sizeof computed);           // the right tag for these bytes
        return fail();
    }
    if (len != 0) std::memcpy(inout.data(), scratch.data() + chacha_block, len);
    return true;
}

[[gnu::hot]] bool aead_key::seal(std::span<const std::uint8_t, aead_nonce_size> nonce,
                    std::span<const std::uint8_t> aad, std::span<std::uint8_t> inout,
                    std::span<std::uint8_t, aead_tag_size> tag) noexcept {
    WEFT_CHECK(seal_ctx_.valid());
    if (!fits_int(aad.size()) || !fits_int(inout.size())) return false;
    if (takes_libsodium(aad, inout)) {
        unsigned long long tag_len = 0;
        std::uint8_t* p = payload_pointer(inout);
        int rc = 0;
        if (algorithm_ == aead_algorithm::aes_256_gcm) {
            rc = crypto_aead_aes256gcm_encrypt_detached_afternm(p, tag.data(), &tag_len, p, inout.size(), aad.data(),
                                                                aad.size(), nullptr, nonce.data(), &small_->aes);
        } else {
            rc = crypto_aead_chacha20poly1305_ietf_encrypt_detached(p, tag.data(), &tag_len, p, inout.size(),
                                                                    aad.data(), aad.size(), nullptr, nonce.data(),
                                                                    small_->chacha);
        }
        return rc == 0 && tag_len == aead_tag_size;
    }
    if (takes_composition(aad, inout)) return seal_composed(nonce, aad, inout, tag);
    // Cipher and key stay as create() set them: only the nonce changes, so
    // the key schedule is reused and nothing is fetched or allocated.  Both
    // modes are stream modes: in place, no bytes held back, and finishing
    // computes the tag.
    if (!seal_ctx_.start(nonce) || !seal_ctx_.aad(aad) || !seal_ctx_.update(inout.data(), inout.data(), inout.size()) ||
        !seal_ctx_.finish() || !seal_ctx_.get_tag(tag)) {
        return fail();
    }
    return true;
}

[[gnu::hot]] bool aead_key::open(std::span<const std::uint8_t, aead_nonce_size> nonce,
                    std::span<const std::uint8_t> aad, std::span<std::uint8_t> inout,
                    std::span<const std::uint8_t, aead_tag_size> tag) noexcept {
    WEFT_CHECK(open_ctx_.valid());
    if (!fits_int(aad.size()) || !fits_int(inout.size())) return false;
    // libsodium compares the tags in constant time; on a mismatch the
    // payload is unspecified, as for OpenSSL.
    if (takes_libsodium(aad, inout)) {
        std::uint8_t* p = payload_pointer(inout);
        if (algorithm_ == aead_algorithm::aes_256_gcm) {
            return crypto_aead_aes256gcm_decrypt_detached_afternm(p, nullptr, p, inout.size(), tag.data(), aad.data(),
                                                                  aad.size(), nonce.data(), &small_->aes) == 0;
        }
        return crypto_aead_chacha20poly1305_ietf_decrypt_detached(p, nullptr, p, inout.size(), tag.data(), aad.data(),
                                                                  aad.size(), nonce.data(), small_->chacha) == 0;
    }
    if (takes_composition(aad, inout)) return open_composed(nonce, aad, inout, tag);
    // The expected tag is set for every packet: the context would otherwise
    // still hold the previous packet's.  Finishing compares the tags in
    // constant time; false means forged or corrupt.
    if (!open_ctx_.start(nonce) || !open_ctx_.aad(aad) || !open_ctx_.update(inout.data(), inout.data(), inout.size()) ||
        !open_ctx_.set_tag(tag) || !open_ctx_.finish()) {
        return fail();
    }
    return true;
}

}  // namespace weft::crypto
