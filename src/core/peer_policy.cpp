#include "core/peer_policy.hpp"

#include <algorithm>

#include "base/hex.hpp"

namespace weft {

const char* to_string(peer_refusal r) noexcept {
    switch (r) {
        case peer_refusal::no_common_name: return "certificate has no common name";
        case peer_refusal::not_in_bnl: return "common name is not a node of the node list";
        case peer_refusal::is_self: return "peer presents our own name";
        case peer_refusal::unexpected_peer: return "peer is not the node we dialled";
        case peer_refusal::ou_mismatch: return "organisational unit does not match require-ou";
        case peer_refusal::pin_mismatch: return "certificate does not match the node list's pin";
    }
    return "?";
}

result<const bnl_node*, peer_refused> check_peer(const peer_certificate& cert, const bnl_index& bnl,
                                                 const peer_policy& policy,
                                                 std::optional<std::string_view> expected) {
    auto refuse = [](peer_refusal r, std::string detail) {
        return unexpected{peer_refused{r, std::move(detail)}};
    };
    if (cert.common_name.empty()) return refuse(peer_refusal::no_common_name, "");
    // The CN comes from a certificate our CA signed, but it is still text
    // from the network: never let it reach a log line unescaped.
    const std::string cn = printable(cert.common_name, 64);
    if (expected && cert.common_name != *expected)
        return refuse(peer_refusal::unexpected_peer,
                      "dialled " + std::string(*expected) + ", certificate says " + cn);
    if (cert.common_name == policy.self_name)
        return refuse(peer_refusal::is_self, "CN " + cn);
    const bnl_node* node = bnl.by_name(cert.common_name);
    if (!node) return refuse(peer_refusal::not_in_bnl, "CN " + cn);
    if (policy.require_ou &&
        std::find(cert.org_units.begin(), cert.org_units.end(), *policy.require_ou) == cert.org_units.end()) {
        std::string have;
        for (const auto& ou : cert.org_units) have += (have.empty() ? "" : ",") + printable(ou, 64);
        return refuse(peer_refusal::ou_mismatch, "node " + node->name + " has OU '" + have +
                                                     "', required '" + *policy.require_ou + "'");
    }
    if (node->pin && *node->pin != cert.fingerprint)
        return refuse(peer_refusal::pin_mismatch, "node " + node->name + " certificate sha256:" +
                                                      to_hex(cert.fingerprint) + ", pinned " +
                                                      format_pin(*node->pin));
    return node;
}

}  // namespace weft
