#include "io/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "crypto/evp_ptr.hpp"

namespace weft::io {

namespace {

std::string ossl_reason(const char* fallback) { return crypto::openssl_error_string(fallback); }

// The single CN of a name, as UTF-8; empty if absent or repeated.
std::string common_name(X509* cert) {
    X509_NAME* name = X509_get_subject_name(cert);
    if (!name) return {};
    int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (idx < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0) return {};
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0) return {};
    std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
    // An embedded NUL would let "alpha\0.evil" pass as "alpha" in C APIs.
    if (out.find('\0') != std::string::npos) return {};
    return out;
}

std::vector<std::string> org_units(X509* cert) {
    std::vector<std::string> out;
    X509_NAME* name = X509_get_subject_name(cert);
    for (int idx = -1; name && (idx = X509_NAME_get_index_by_NID(name, NID_organizationalUnitName, idx)) >= 0;) {
        unsigned char* utf8 = nullptr;
        int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
        if (len < 0) continue;
        out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
        OPENSSL_free(utf8);
    }
    return out;
}

bool fingerprint(X509* cert, cert_pin& out) {
    unsigned len = 0;
    return X509_digest(cert, EVP_sha256(), out.data(), &len) == 1 && len == out.size();
}

}  // namespace

result<std::unique_ptr<tls_context>, std::string> tls_context::load(const tls_files& files) {
    std::unique_ptr<tls_context> t(new tls_context());
    SSL_CTX* ctx = t->ctx_.native_handle();
    auto fail = [](std::string what) { return unexpected{std::move(what)}; };

    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1)
        return fail("cannot require TLS 1.3: " + ossl_reason("?"));
    // No resumption of any kind: every negotiation is a full handshake with
    // both certificates checked against the current node list.
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_max_early_data(ctx, 0);

    if (SSL_CTX_use_certificate_chain_file(ctx, files.cert.c_str()) != 1)
        return fail(files.cert.string() + ": cannot load certificate: " + ossl_reason("?"));
    if (SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1)
        return fail(files.key.string() + ": cannot load private key: " + ossl_reason("?"));
    if (SSL_CTX_check_private_key(ctx) != 1)
        return fail(files.key.string() + ": key does not match certificate " + files.cert.string());
    // Only the network CA is trusted: no system store.
    if (SSL_CTX_load_verify_locations(ctx, files.ca.c_str(), nullptr) != 1)
        return fail(files.ca.string() + ": cannot load CA certificate: " + ossl_reason("?"));
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_verify_depth(ctx, 2);
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_X509_STRICT);

    X509* own = SSL_CTX_get0_certificate(ctx);
    t->own_name_ = common_name(own);
    if (t->own_name_.empty()) return fail(files.cert.string() + ": certificate has no (single) common name");
    if (!fingerprint(own, t->own_fingerprint_)) return fail("cannot hash own certificate");

    // Our own certificate must verify against the CA today, or no peer will
    // accept us: say so at startup rather than in every peer's log.
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> sctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    if (!sctx || X509_STORE_CTX_init(sctx.get(), store, own, nullptr) != 1)
        return fail("cannot check own certificate: " + ossl_reason("?"));
    X509_STORE_CTX_set_flags(sctx.get(), X509_V_FLAG_X509_STRICT);
    if (X509_verify_cert(sctx.get()) != 1)
        return fail(files.cert.string() + " does not verify against " + files.ca.string() + ": " +
                    X509_verify_cert_error_string(X509_STORE_CTX_get_error(sctx.get())));
    ERR_clear_error();
    return t;
}

void prepare_connection(SSL* ssl, tls_role role) noexcept {
    SSL_set_purpose(ssl, role == tls_role::listener ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER);
}

result<peer_certificate, std::string> verified_peer(SSL* ssl) {
    X509* cert = SSL_get0_peer_certificate(ssl);
    if (!cert) return unexpected{std::string("peer sent no certificate")};
    long v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK) return unexpected{std::string(X509_verify_cert_error_string(v))};
    peer_certificate pc;
    pc.common_name = common_name(cert);
    pc.org_units = org_units(cert);
    if (!fingerprint(cert, pc.fingerprint)) return unexpected{std::string("cannot hash peer certificate")};
    return pc;
}

std::string verify_failure(SSL* ssl) {
    long v = SSL_get_verify_result(ssl);
    return v == X509_V_OK ? std::string() : std::string(X509_verify_cert_error_string(v));
}

bool export_keying_material(SSL* ssl, std::string_view label, std::span<const std::uint8_t> context,
                            std::span<std::uint8_t> out) noexcept {
    int rc = SSL_export_keying_material(ssl, out.data(), out.size(), label.data(), label.size(),
                                        context.data(), context.size(), 1);
    ERR_clear_error();
    return rc == 1;
}

}  // namespace weft::io
