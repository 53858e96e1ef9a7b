// Who may talk to us: the rules of design.md "Negotiation" for accepting a
// peer's certificate, as a pure function over what TLS verified.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "core/bnl_index.hpp"

namespace weft {

// What the TLS layer extracted from a certificate whose chain to the network
// CA has already verified.
struct peer_certificate {
    std::string common_name;
    std::vector<std::string> org_units;
    cert_pin fingerprint{};  // SHA-256 over the DER certificate
};

enum class peer_refusal { no_common_name, not_in_bnl, is_self, unexpected_peer, ou_mismatch, pin_mismatch };
const char* to_string(peer_refusal r) noexcept;

struct peer_refused {
    peer_refusal reason;
    std::string detail;  // for the log line: names the CN, the OU or both pins
};

struct peer_policy {
    std::string self_name;
    std::optional<std::string> require_ou;
};

// Accepts `cert` as a node of `bnl` or says why not.  `expected` is the node
// we dialled (a listener passes nullopt).  The returned node is the peer's
// identity from then on: its id comes from the BNL, never from the peer.
result<const bnl_node*, peer_refused> check_peer(const peer_certificate& cert, const bnl_index& bnl,
                                                 const peer_policy& policy,
                                                 std::optional<std::string_view> expected);

}  // namespace weft
