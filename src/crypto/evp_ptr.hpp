// Owning handles for OpenSSL objects: unique_ptr with the matching free
// function, so every object is released on every path.  Copying is deleted
// by unique_ptr itself.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace weft::crypto {

template <class T, void (*Free)(T*)>
struct openssl_deleter {
    void operator()(T* p) const noexcept { Free(p); }
};

using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY, EVP_PKEY_free>>;
using evp_pkey_ctx_ptr =
    std::unique_ptr<EVP_PKEY_CTX, openssl_deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using evp_md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, openssl_deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using evp_cipher_ctx_ptr =
    std::unique_ptr<EVP_CIPHER_CTX, openssl_deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using evp_cipher_ptr = std::unique_ptr<EVP_CIPHER, openssl_deleter<EVP_CIPHER, EVP_CIPHER_free>>;
using evp_mac_ptr = std::unique_ptr<EVP_MAC, openssl_deleter<EVP_MAC, EVP_MAC_free>>;
using evp_mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, openssl_deleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO, BIO_free_all>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509, X509_free>>;

// The oldest error on this thread's OpenSSL error queue as text (and the
// queue cleared), or `fallback` when the queue is empty.
std::string openssl_error_string(const char* fallback);

}  // namespace weft::crypto
