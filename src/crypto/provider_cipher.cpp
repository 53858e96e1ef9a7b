#include "crypto/provider_cipher.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "base/check.hpp"

namespace weft::crypto {

namespace {

unexpected<crypto_error> refusal(std::string message) {
    return unexpected{crypto_error{std::move(message)}};
}

// OpenSSL's reason for the failure just reported, left on the queue (the
// caller decides what happens to the queue).
std::string reason() {
    const unsigned long e = ERR_peek_last_error();
    const char* r = e != 0 ? ERR_reason_error_string(e) : nullptr;
    return r != nullptr ? r : "no reason given by OpenSSL";
}

// Whether one of an algorithm's colon-separated names is `cipher`'s.
bool names_cipher(const char* names, const EVP_CIPHER* cipher) {
    std::string_view rest(names);
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        const std::string one(rest.substr(0, colon));
        if (EVP_CIPHER_is_a(cipher, one.c_str()) == 1) return true;
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    return false;
}

}  // namespace

result<provider_cipher, crypto_error> provider_cipher::create(const EVP_CIPHER* cipher,
                                                              std::span<const std::uint8_t> key, bool encrypt,
                                                              bool aead) {
    const char* name = cipher ? EVP_CIPHER_get0_name(cipher) : nullptr;
    const std::string label = name ? name : "(no cipher)";
    const OSSL_PROVIDER* prov = cipher ? EVP_CIPHER_get0_provider(cipher) : nullptr;
    if (prov == nullptr) return refusal(label + ": no provider behind the cipher");
    int no_cache = 0;
    const OSSL_ALGORITHM* algs = OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_cache);
    functions f;
    int found = 0;
    for (const OSSL_ALGORITHM* a = algs; a != nullptr && a->algorithm_names != nullptr; ++a) {
        if (!names_cipher(a->algorithm_names, cipher)) continue;
        // EVP chooses among a provider's same-named implementations by
        // property; weft cannot tell which it chose, so it takes none.
        if (++found > 1) break;
        for (const OSSL_DISPATCH* d = a->implementation; d->function_id != 0; ++d) {
            switch (d->function_id) {
                case OSSL_FUNC_CIPHER_NEWCTX: f.newctx = OSSL_FUNC_cipher_newctx(d); break;
                case OSSL_FUNC_CIPHER_ENCRYPT_INIT: f.encrypt_init = OSSL_FUNC_cipher_encrypt_init(d); break;
                case OSSL_FUNC_CIPHER_DECRYPT_INIT: f.decrypt_init = OSSL_FUNC_cipher_decrypt_init(d); break;
                case OSSL_FUNC_CIPHER_UPDATE: f.update = OSSL_FUNC_cipher_update(d); break;
                case OSSL_FUNC_CIPHER_FINAL: f.final = OSSL_FUNC_cipher_final(d); break;
                case OSSL_FUNC_CIPHER_GET_CTX_PARAMS: f.get_ctx_params = OSSL_FUNC_cipher_get_ctx_params(d); break;
                case OSSL_FUNC_CIPHER_SET_CTX_PARAMS: f.set_ctx_params = OSSL_FUNC_cipher_set_ctx_params(d); break;
                case OSSL_FUNC_CIPHER_FREECTX: f.freectx = OSSL_FUNC_cipher_freectx(d); break;
                default: break;
            }
        }
    }
    if (algs != nullptr) OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs);
    if (found == 0) return refusal(label + ": its provider does not list it");
    if (found > 1) return refusal(label + ": its provider lists more than one implementation of it");
    // What this role calls: an AEAD also finishes and moves the tag (get to
    // seal, set to open); a raw stream cipher only starts and updates.
    if (f.newctx == nullptr || f.freectx == nullptr || f.update == nullptr ||
        (encrypt ? f.encrypt_init == nullptr : f.decrypt_init == nullptr) ||
        (aead && (f.final == nullptr || (encrypt ? f.get_ctx_params == nullptr : f.set_ctx_params == nullptr)))) {
        return refusal(label + ": its provider lacks a cipher function weft calls");
    }

    // Our own reference to the cipher keeps its provider, and the function
    // pointers into it, loaded for as long as the context lives.
    EVP_CIPHER* held = const_cast<EVP_CIPHER*>(cipher);
    if (EVP_CIPHER_up_ref(held) != 1) return refusal(label + ": EVP_CIPHER_up_ref failed");
    evp_cipher_ptr ref(held);
    void* ctx = f.newctx(OSSL_PROVIDER_get0_provider_ctx(prov));
    if (ctx == nullptr) return refusal(label + ": the provider could not make a context: " + reason());
    provider_cipher c(f, ctx, std::move(ref), encrypt);
    const int ok = encrypt ? f.encrypt_init(ctx, key.data(), key.size(), nullptr, 0, nullptr)
                           : f.decrypt_init(ctx, key.data(), key.size(), nullptr, 0, nullptr);
    if (ok != 1) return refusal(label + ": the provider refused the key: " + reason());
    return c;
}

provider_cipher::provider_cipher(provider_cipher&& other) noexcept
    : f_(other.f_), ctx_(std::exchange(other.ctx_, nullptr)), cipher_(std::move(other.cipher_)),
      encrypt_(other.encrypt_) {}

provider_cipher& provider_cipher::operator=(provider_cipher&& other) noexcept {
    if (this != &other) {
        if (ctx_ != nullptr) f_.freectx(ctx_);
        f_ = other.f_;
        ctx_ = std::exchange(other.ctx_, nullptr);
        cipher_ = std::move(other.cipher_);
        encrypt_ = other.encrypt_;
    }
    return *this;
}

provider_cipher::~provider_cipher() {
    if (ctx_ != nullptr) f_.freectx(ctx_);  // before cipher_ lets the provider go
}

[[gnu::hot]] bool provider_cipher::start(std::span<const std::uint8_t> iv) noexcept {
    WEFT_CHECK(ctx_ != nullptr);  // every message begins here
    return (encrypt_ ? f_.encrypt_init(ctx_, nullptr, 0, iv.data(), iv.size(), nullptr)
                     : f_.decrypt_init(ctx_, nullptr, 0, iv.data(), iv.size(), nullptr)) == 1;
}

[[gnu::hot]] bool provider_cipher::aad(std::span<const std::uint8_t> data) noexcept {
    // A null output marks AAD; providers still check the "output size".
    std::size_t out = 0;
    return data.empty() || f_.update(ctx_, nullptr, &out, data.size(), data.data(), data.size()) == 1;
}

[[gnu::hot]] bool provider_cipher::update(std::uint8_t* out, const std::uint8_t* in, std::size_t n) noexcept {
    std::size_t written = 0;
    return n == 0 || (f_.update(ctx_, out, &written, n, in, n) == 1 && written == n);
}

[[gnu::hot]] bool provider_cipher::finish() noexcept {
    unsigned char none[EVP_MAX_BLOCK_LENGTH];
    std::size_t written = 0;
    return f_.final(ctx_, none, &written, sizeof none) == 1 && written == 0;
}

[[gnu::hot]] bool provider_cipher::get_tag(std::span<std::uint8_t> tag) noexcept {
    OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag.size()),
                           OSSL_PARAM_construct_end()};
    return f_.get_ctx_params(ctx_, params) == 1;
}

[[gnu::hot]] bool provider_cipher::set_tag(std::span<const std::uint8_t> tag) noexcept {
    // OSSL_PARAM wants a mutable buffer: a local copy, not a const_cast.
    unsigned char copy[32];  // more than any AEAD tag
    if (tag.size() > sizeof copy) return false;
    std::copy(tag.begin(), tag.end(), copy);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, copy, tag.size()),
                           OSSL_PARAM_construct_end()};
    return f_.set_ctx_params(ctx_, params) == 1;
}

}  // namespace weft::crypto
