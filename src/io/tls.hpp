// TLS 1.3 for the negotiation channel: one context per daemon (own
// certificate, key and the network CA; mutual authentication required),
// extraction of the verified peer certificate, and the exporter.
#pragma once

#include <boost/asio/ssl.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "core/peer_policy.hpp"

namespace weft::io {

struct tls_files {
    std::filesystem::path cert, key, ca;
};

class tls_context {
public:
    // Loads and checks the node's identity: the key matches the certificate,
    // the certificate verifies against the CA now, and it has a CN.  Errors
    // name the file and OpenSSL's reason.
    static result<std::unique_ptr<tls_context>, std::string> load(const tls_files& files);

    boost::asio::ssl::context& native() noexcept { return ctx_; }
    const std::string& own_name() const noexcept { return own_name_; }
    const cert_pin& own_fingerprint() const noexcept { return own_fingerprint_; }

private:
    tls_context() : ctx_(boost::asio::ssl::context::tls) {}
    boost::asio::ssl::context ctx_;
    std::string own_name_;
    cert_pin own_fingerprint_{};
};

// Which side of a connection we are: the certificate purpose we demand of
// the peer follows from it (a listener needs a client certificate).
enum class tls_role { dialler, listener };
void prepare_connection(SSL* ssl, tls_role role) noexcept;

// After a completed handshake: the verified peer's identity, or why not.
result<peer_certificate, std::string> verified_peer(SSL* ssl);
// Why the peer's certificate failed verification ("certificate has
// expired", ...), or an empty string if it did not.
std::string verify_failure(SSL* ssl);

// RFC 8446 section 7.5 exporter; false if TLS refuses (no session).
bool export_keying_material(SSL* ssl, std::string_view label, std::span<const std::uint8_t> context,
                            std::span<std::uint8_t> out) noexcept;

}  // namespace weft::io
