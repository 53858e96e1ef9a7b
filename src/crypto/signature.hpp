// Signing keys for the node list: Ed25519 (default) and DSA with SHA-256
// (>= 2048 bits, for networks that already use it).  Keys travel as PEM
// bytes; reading and writing files is the caller's business.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "crypto/digest.hpp"
#include "crypto/error.hpp"
#include "crypto/evp_ptr.hpp"

namespace weft::crypto {

enum class key_type : std::uint8_t { ed25519, dsa };

inline constexpr unsigned min_dsa_bits = 2048;

const char* to_string(key_type t) noexcept;

class public_key {
public:
    // PEM "PUBLIC KEY" (SubjectPublicKeyInfo).  Refused: other key types,
    // DSA under min_dsa_bits, and anything but white space before or after
    // the one PEM block (garbage, a second key, a key of another kind).
    static result<public_key, crypto_error> from_pem(std::string_view pem);

    key_type type() const noexcept { return type_; }
    unsigned bits() const noexcept { return bits_; }
    // SHA-256 over the DER SubjectPublicKeyInfo: the key's identity in
    // signature blocks and in `bnl-sign` output.
    const sha256_digest& fingerprint() const noexcept { return fingerprint_; }
    std::string to_pem() const;

    // Ed25519 (pure) or DSA over SHA-256(message).  False for any bad
    // signature, including a malformed encoding.
    bool verify(std::span<const std::uint8_t> message,
                std::span<const std::uint8_t> signature) const noexcept;

private:
    friend class private_key;
    static result<public_key, crypto_error> from_pkey(evp_pkey_ptr key);
    evp_pkey_ptr key_;
    key_type type_ = key_type::ed25519;
    unsigned bits_ = 0;
    sha256_digest fingerprint_{};
};

class private_key {
public:
    // DSA parameter generation at 2048 bits takes seconds.
    static result<private_key, crypto_error> generate(key_type type,
                                                      unsigned dsa_bits = min_dsa_bits);
    // Unencrypted PKCS#8 "PRIVATE KEY" (or a traditional DSA key).  Same
    // refusals as public_key::from_pem, and a key whose public value does not
    // belong to its private value (EVP_PKEY_pairwise_check).
    static result<private_key, crypto_error> from_pem(std::string_view pem);

    key_type type() const noexcept { return public_.type(); }
    const public_key& public_part() const noexcept { return public_; }
    std::string to_pem() const;  // PKCS#8, unencrypted

    result<std::vector<std::uint8_t>, crypto_error> sign(
        std::span<const std::uint8_t> message) const;

private:
    static result<private_key, crypto_error> from_pkey(evp_pkey_ptr key);
    evp_pkey_ptr key_;
    public_key public_;
};

}  // namespace weft::crypto
