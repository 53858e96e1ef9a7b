#include "crypto/signature.hpp"

#include <openssl/core_names.h>
#include <openssl/dsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>

namespace weft::crypto {

namespace {

unexpected<crypto_error> fail(const char* what) {
    return unexpected{crypto_error{std::string(what) + ": " + openssl_error_string("unknown error")}};
}

unexpected<crypto_error> refuse(std::string what) {
    return unexpected{crypto_error{std::move(what)}};
}

bio_ptr memory_bio(std::string_view bytes) {
    if (bytes.size() > INT_MAX) return bio_ptr{};
    return bio_ptr{BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()))};
}

std::string bio_to_string(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

bool is_pem_space(char c) noexcept { return c == '\n' || c == '\r' || c == ' ' || c == '\t'; }

bool only_whitespace_left(BIO* bio) {
    char c;
    while (BIO_read(bio, &c, 1) == 1)
        if (!is_pem_space(c)) return false;
    return true;
}

// A key file is exactly one PEM block with nothing but white space around it,
// so it cannot smuggle a second key.  The typed readers (PEM_read_bio_PUBKEY,
// PEM_read_bio_PrivateKey) skip whatever precedes the block they look for,
// text or whole PEM blocks of another kind, so the framing is checked here
// first: once it passes, the typed reader can only see that one block.
// `what` names the file's kind in messages; `not_pem` is the message when the
// block itself is malformed.  Returns the text from the block's first byte on.
result<std::string_view, crypto_error> single_pem_block(std::string_view pem, const char* what,
                                                        const char* not_pem) {
    std::size_t start = 0;
    while (start < pem.size() && is_pem_space(pem[start])) ++start;
    std::string_view block = pem.substr(start);
    if (block.rfind("-----BEGIN ", 0) != 0)
        return refuse(std::string("unexpected data before the PEM block (a ") + what +
                      " file holds exactly one key and nothing else)");
    bio_ptr bio = memory_bio(block);
    if (!bio) return fail(not_pem);
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) return fail(not_pem);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(data, len > 0 ? static_cast<std::size_t>(len) : 0);  // may be a private key
    if (!only_whitespace_left(bio.get()))
        return refuse(std::string("unexpected data after the PEM block (a ") + what +
                      " file holds exactly one key and nothing else)");
    return block;
}

}  // namespace

const char* to_string(key_type t) noexcept {
    return t == key_type::ed25519 ? "ed25519" : "dsa";
}

result<public_key, crypto_error> public_key::from_pkey(evp_pkey_ptr key) {
    public_key pk;
    int id = EVP_PKEY_get_base_id(key.get());
    if (id == EVP_PKEY_ED25519) {
        pk.type_ = key_type::ed25519;
    } else if (id == EVP_PKEY_DSA) {
        pk.type_ = key_type::dsa;
    } else {
        const char* name = OBJ_nid2sn(id);
        return refuse(std::string("unsupported key type ") + (name ? name : "?") +
                      " (use ed25519, or dsa for existing networks)");
    }
    int bits = EVP_PKEY_get_bits(key.get());
    if (bits <= 0) return fail("cannot read key size");
    pk.bits_ = static_cast<unsigned>(bits);
    if (pk.type_ == key_type::dsa && pk.bits_ < min_dsa_bits)
        return refuse("DSA key of " + std::to_string(pk.bits_) + " bits refused: at least " +
                      std::to_string(min_dsa_bits) + " required");
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(key.get(), &der);
    if (len <= 0) return fail("cannot encode public key");
    pk.fingerprint_ = sha256({der, static_cast<std::size_t>(len)});
    OPENSSL_free(der);
    pk.key_ = std::move(key);
    return pk;
}

result<public_key, crypto_error> public_key::from_pem(std::string_view pem) {
    auto block = single_pem_block(pem, "public key", "not a PEM public key");
    if (!block) return unexpected{block.error()};
    bio_ptr bio = memory_bio(*block);
    if (!bio) return fail("cannot read PEM");
    evp_pkey_ptr key{PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)};
    if (!key) return fail("not a PEM public key");
    return from_pkey(std::move(key));
}

std::string public_key::to_pem() const {
    bio_ptr bio{BIO_new(BIO_s_mem())};
    WEFT_CHECK(bio && PEM_write_bio_PUBKEY(bio.get(), key_.get()) == 1);
    return bio_to_string(bio.get());
}

bool public_key::verify(std::span<const std::uint8_t> message,
                        std::span<const std::uint8_t> signature) const noexcept {
    evp_md_ctx_ptr ctx{EVP_MD_CTX_new()};
    if (!ctx) return false;
    const EVP_MD* md = type_ == key_type::dsa ? EVP_sha256() : nullptr;
    bool good = EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key_.get()) == 1 &&
                EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                                 message.size()) == 1;
    ERR_clear_error();
    return good;
}

result<private_key, crypto_error> private_key::generate(key_type type, unsigned dsa_bits) {
    evp_pkey_ptr key;
    if (type == key_type::ed25519) {
        key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
        if (!key) return fail("Ed25519 key generation failed");
    } else {
        if (dsa_bits < min_dsa_bits)
            return refuse("DSA keys need at least " + std::to_string(min_dsa_bits) + " bits");
        evp_pkey_ctx_ptr pctx{EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr)};
        EVP_PKEY* params = nullptr;
        if (!pctx || EVP_PKEY_paramgen_init(pctx.get()) != 1 ||
            EVP_PKEY_CTX_set_dsa_paramgen_bits(pctx.get(), static_cast<int>(dsa_bits)) != 1 ||
            EVP_PKEY_CTX_set_dsa_paramgen_q_bits(pctx.get(), 256) != 1 ||
            EVP_PKEY_paramgen(pctx.get(), &params) != 1)
            return fail("DSA parameter generation failed");
        evp_pkey_ptr param_key{params};
        evp_pkey_ctx_ptr kctx{EVP_PKEY_CTX_new_from_pkey(nullptr, param_key.get(), nullptr)};
        EVP_PKEY* raw = nullptr;
        if (!kctx || EVP_PKEY_keygen_init(kctx.get()) != 1 || EVP_PKEY_keygen(kctx.get(), &raw) != 1)
            return fail("DSA key generation failed");
        key.reset(raw);
    }
    return from_pkey(std::move(key));
}

result<private_key, crypto_error> private_key::from_pem(std::string_view pem) {
    auto block = single_pem_block(pem, "private key", "not an unencrypted PEM private key");
    if (!block) return unexpected{block.error()};
    bio_ptr bio = memory_bio(*block);
    if (!bio) return fail("cannot read PEM");
    // No passphrase callback: an encrypted key is refused, never prompted for.
    evp_pkey_ptr key{PEM_read_bio_PrivateKey(bio.get(), nullptr,
                                             [](char*, int, int, void*) { return 0; }, nullptr)};
    if (!key) return fail("not an unencrypted PEM private key");
    return from_pkey(std::move(key));
}

result<private_key, crypto_error> private_key::from_pkey(evp_pkey_ptr key) {
    // The public half is a second handle on the same key (reference counted).
    if (EVP_PKEY_up_ref(key.get()) != 1) return fail("cannot reference key");
    auto pub = public_key::from_pkey(evp_pkey_ptr{key.get()});
    if (!pub) return unexpected{pub.error()};
    // A key file whose public value does not belong to its private value
    // (a damaged or hand-made DSA key) would sign lists that no node accepts.
    evp_pkey_ctx_ptr check{EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr)};
    if (!check) return fail("cannot check key");
    if (EVP_PKEY_pairwise_check(check.get()) != 1) {
        ERR_clear_error();
        return refuse("the private key does not match its own public key (a damaged key file?)");
    }
    private_key k;
    k.key_ = std::move(key);
    k.public_ = std::move(pub).value();
    return k;
}

std::string private_key::to_pem() const {
    bio_ptr bio{BIO_new(BIO_s_mem())};
    WEFT_CHECK(bio && PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0,
                                                     nullptr, nullptr) == 1);
    return bio_to_string(bio.get());
}

result<std::vector<std::uint8_t>, crypto_error> private_key::sign(
    std::span<const std::uint8_t> message) const {
    evp_md_ctx_ptr ctx{EVP_MD_CTX_new()};
    const EVP_MD* md = type() == key_type::dsa ? EVP_sha256() : nullptr;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_.get()) != 1)
        return fail("cannot start signing");
    std::size_t len = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1)
        return fail("cannot size signature");
    std::vector<std::uint8_t> sig(len);
    if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1)
        return fail("signing failed");
    sig.resize(len);
    return sig;
}

}  // namespace weft::crypto
