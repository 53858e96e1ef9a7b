// One keyed cipher context driven through its provider's own functions
// (provider-cipher(7)) instead of EVP_CIPHER_CTX: what the EVP layer does
// for every call on top of them (checks of its own state, parameter
// look-ups by name such as the IV length on every nonce change) is the
// larger part of OpenSSL's per-packet code for a small packet.  The
// functions are the ones EVP itself would call for the fetched cipher, found
// with OSSL_PROVIDER_query_operation() in the provider that supplied it, so
// the cryptography, and any provider configuration (FIPS), is unchanged.
//
// Used by aead_key only; each call maps to one provider function, so the
// rules are provider-cipher(7)'s.  Move-only; a moved-from object is empty
// (valid() is false) and must not be used.  Not thread-safe.
#pragma once

#include <openssl/core_dispatch.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "base/result.hpp"
#include "crypto/error.hpp"
#include "crypto/evp_ptr.hpp"

namespace weft::crypto {

class provider_cipher {
public:
    // A context of `cipher`'s implementation keyed with `key` for encryption
    // (`encrypt`) or decryption; `aead`: finish() and the tag calls will be
    // used too.  Fails, saying why, when the provider does not offer the
    // functions that role calls, lists more than one implementation of the
    // cipher (EVP picks among those by property, which this cannot
    // follow), or refuses the key.  Engines (deprecated) are not consulted.
    static result<provider_cipher, crypto_error> create(const EVP_CIPHER* cipher, std::span<const std::uint8_t> key,
                                                        bool encrypt, bool aead);

    provider_cipher() noexcept = default;  // empty
    provider_cipher(provider_cipher&& other) noexcept;
    provider_cipher& operator=(provider_cipher&& other) noexcept;
    provider_cipher(const provider_cipher&) = delete;
    provider_cipher& operator=(const provider_cipher&) = delete;
    ~provider_cipher();

    bool valid() const noexcept { return ctx_ != nullptr; }

    // Starts a message under `iv`; the key stays.  Every message begins
    // here (an empty object aborts).
    [[nodiscard]] bool start(std::span<const std::uint8_t> iv) noexcept;
    // Additional authenticated data (AEAD ciphers), before any update().
    [[nodiscard]] bool aad(std::span<const std::uint8_t> data) noexcept;
    // Transforms `n` bytes from `in` to `out` (which may be `in`), and checks
    // that all `n` came out: both modes used here are stream modes.
    [[nodiscard]] bool update(std::uint8_t* out, const std::uint8_t* in, std::size_t n) noexcept;
    // Ends the message: computes the tag when encrypting, and when
    // decrypting compares it with the one set_tag() gave (false: forged).
    [[nodiscard]] bool finish() noexcept;
    [[nodiscard]] bool get_tag(std::span<std::uint8_t> tag) noexcept;
    [[nodiscard]] bool set_tag(std::span<const std::uint8_t> tag) noexcept;

private:
    struct functions {
        OSSL_FUNC_cipher_newctx_fn* newctx = nullptr;
        OSSL_FUNC_cipher_encrypt_init_fn* encrypt_init = nullptr;
        OSSL_FUNC_cipher_decrypt_init_fn* decrypt_init = nullptr;
        OSSL_FUNC_cipher_update_fn* update = nullptr;
        OSSL_FUNC_cipher_final_fn* final = nullptr;
        OSSL_FUNC_cipher_get_ctx_params_fn* get_ctx_params = nullptr;
        OSSL_FUNC_cipher_set_ctx_params_fn* set_ctx_params = nullptr;
        OSSL_FUNC_cipher_freectx_fn* freectx = nullptr;
    };
    provider_cipher(functions f, void* ctx, evp_cipher_ptr cipher, bool encrypt) noexcept
        : f_(f), ctx_(ctx), cipher_(std::move(cipher)), encrypt_(encrypt) {}

    functions f_;
    void* ctx_ = nullptr;    // the provider's context; freed (and wiped) by f_.freectx
    evp_cipher_ptr cipher_;  // our reference: keeps the provider, and so f_, loaded
    bool encrypt_ = true;
};

}  // namespace weft::crypto
