#include "crypto/aead.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include <algorithm>
#include <climits>
#include <string>
#include <utility>

#include "base/check.hpp"

namespace weft::crypto {

namespace {

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

// A context bound to `cipher` and keyed for one direction of use (`enc` 1 to
// seal, 0 to open), with no IV yet: each packet brings its own nonce.
result<evp_cipher_ctx_ptr, crypto_error> keyed_context(const EVP_CIPHER* cipher,
                                                       std::span<const std::uint8_t> key,
                                                       int enc, std::string_view alg_name) {
    evp_cipher_ctx_ptr ctx(EVP_CIPHER_CTX_new());
    if (!ctx) return openssl_failure(alg_name, "EVP_CIPHER_CTX_new");
    if (EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), nullptr, enc, nullptr) != 1) {
        return openssl_failure(alg_name, "setting the key");
    }
    return ctx;
}

// Failure paths leave OpenSSL's per-thread error queue empty: nobody on the
// packet path reads it, and forged packets must not be able to fill it.
bool fail() noexcept {
    ERR_clear_error();
    return false;
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

    auto seal_ctx = keyed_context(cipher.get(), key, 1, alg_name);
    if (!seal_ctx) return unexpected{std::move(seal_ctx).error()};
    auto open_ctx = keyed_context(cipher.get(), key, 0, alg_name);
    if (!open_ctx) return unexpected{std::move(open_ctx).error()};
    return aead_key(alg, std::move(seal_ctx).value(), std::move(open_ctx).value());
}

bool aead_key::seal(std::span<const std::uint8_t, aead_nonce_size> nonce,
                    std::span<const std::uint8_t> aad, std::span<std::uint8_t> inout,
                    std::span<std::uint8_t, aead_tag_size> tag) noexcept {
    WEFT_CHECK(seal_ctx_ != nullptr);
    if (!fits_int(aad.size()) || !fits_int(inout.size())) return false;
    EVP_CIPHER_CTX* ctx = seal_ctx_.get();

    // Cipher and key stay as create() set them: only the nonce changes, so
    // the key schedule is reused and nothing is fetched or allocated.
    if (EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr) != 1) return fail();
    int len = 0;
    // Empty spans are skipped, not passed: an update with a null output
    // pointer means "this is AAD" to OpenSSL, and an empty span's data() may
    // be null.
    if (!aad.empty() &&
        EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
        return fail();
    }
    if (!inout.empty()) {
        // In place is supported by OpenSSL when input and output are equal.
        if (EVP_EncryptUpdate(ctx, inout.data(), &len, inout.data(),
                              static_cast<int>(inout.size())) != 1 ||
            static_cast<std::size_t>(len) != inout.size()) {
            return fail();
        }
    }
    // Both modes are stream modes: Final emits no bytes, it computes the tag.
    std::uint8_t no_output[EVP_MAX_BLOCK_LENGTH];
    if (EVP_EncryptFinal_ex(ctx, no_output, &len) != 1 || len != 0) return fail();

    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag.size()),
        OSSL_PARAM_construct_end()};
    if (EVP_CIPHER_CTX_get_params(ctx, params) != 1) return fail();
    return true;
}

bool aead_key::open(std::span<const std::uint8_t, aead_nonce_size> nonce,
                    std::span<const std::uint8_t> aad, std::span<std::uint8_t> inout,
                    std::span<const std::uint8_t, aead_tag_size> tag) noexcept {
    WEFT_CHECK(open_ctx_ != nullptr);
    if (!fits_int(aad.size()) || !fits_int(inout.size())) return false;
    EVP_CIPHER_CTX* ctx = open_ctx_.get();

    if (EVP_DecryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr) != 1) return fail();
    int len = 0;
    if (!aad.empty() &&
        EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
        return fail();
    }
    if (!inout.empty()) {
        if (EVP_DecryptUpdate(ctx, inout.data(), &len, inout.data(),
                              static_cast<int>(inout.size())) != 1 ||
            static_cast<std::size_t>(len) != inout.size()) {
            return fail();
        }
    }
    // The expected tag is set for every packet: the context would otherwise
    // still hold the previous packet's.  OSSL_PARAM wants a mutable buffer,
    // so the tag goes through a local copy rather than a const_cast.
    std::uint8_t expected[aead_tag_size];
    std::copy(tag.begin(), tag.end(), expected);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, expected, sizeof expected),
        OSSL_PARAM_construct_end()};
    if (EVP_CIPHER_CTX_set_params(ctx, params) != 1) return fail();
    // Final compares the tags in constant time; 0 means forged or corrupt.
    std::uint8_t no_output[EVP_MAX_BLOCK_LENGTH];
    if (EVP_DecryptFinal_ex(ctx, no_output, &len) != 1 || len != 0) return fail();
    return true;
}

}  // namespace weft::crypto
