#include "core/bnl_trust.hpp"

#include <algorithm>

#include "base/hex.hpp"

namespace weft {

namespace {

unexpected<bnl_error> refuse(bnl_errc code, std::string message) {
    return unexpected{bnl_error{code, 0, std::move(message)}};
}

bnl_sig_algorithm algorithm_for(crypto::key_type t) noexcept {
    return t == crypto::key_type::ed25519 ? bnl_sig_algorithm::ed25519 : bnl_sig_algorithm::dsa_sha256;
}

}  // namespace

result<verified_bnl, bnl_error> verify_bnl(std::string bytes,
                                           const std::vector<crypto::public_key>& trusted) {
    auto parts = split_signed_bnl(bytes);
    if (!parts) return unexpected{parts.error()};
    const auto& block = parts->block;

    auto key = std::find_if(trusted.begin(), trusted.end(), [&](const crypto::public_key& k) {
        return k.fingerprint() == block.key_fingerprint;
    });
    if (key == trusted.end())
        return refuse(bnl_errc::untrusted_key,
                      "signed by key sha256:" + to_hex(block.key_fingerprint) +
                          ", which is not a trusted key");
    if (algorithm_for(key->type()) != block.algorithm)
        return refuse(bnl_errc::algorithm_mismatch,
                      std::string("signature block says ") + to_string(block.algorithm) +
                          " but the trusted key with that fingerprint is " + to_string(key->type()));
    std::string_view body = parts->body;
    auto message = bnl_signed_message(body);
    if (!key->verify(message, block.signature))
        return refuse(bnl_errc::bad_signature,
                      "signature does not verify: the list was changed after signing, or the "
                      "signature is corrupt");

    auto list = parse_bnl(body);
    if (!list) return unexpected{list.error()};
    if (list->version == 0 || !list->signed_at)
        return refuse(bnl_errc::not_signed_version, "signed list lacks a version or signing time");

    verified_bnl v;
    v.list = std::move(list).value();
    v.body_size = body.size();
    v.algorithm = block.algorithm;
    v.key_fingerprint = block.key_fingerprint;
    v.bytes = std::move(bytes);
    return v;
}

const char* to_string(bnl_decision d) noexcept {
    switch (d) {
        case bnl_decision::accept: return "accept";
        case bnl_decision::same: return "same";
        case bnl_decision::rollback: return "rollback";
        case bnl_decision::conflict: return "conflict";
        case bnl_decision::network_mismatch: return "network mismatch";
    }
    return "?";
}

bnl_decision decide_replacement(const verified_bnl& current, const verified_bnl& candidate) noexcept {
    if (candidate.list.network != current.list.network) return bnl_decision::network_mismatch;
    if (candidate.list.version > current.list.version) return bnl_decision::accept;
    if (candidate.list.version < current.list.version) return bnl_decision::rollback;
    // Equal versions: the body decides.  (Signatures are compared through the
    // body only: DSA signs with a random nonce, so one body may carry
    // different signature bytes and is still the same list.)
    return candidate.body() == current.body() ? bnl_decision::same : bnl_decision::conflict;
}

std::string explain(bnl_decision d, const verified_bnl& current, const verified_bnl& candidate) {
    const auto cv = std::to_string(current.list.version), nv = std::to_string(candidate.list.version);
    switch (d) {
        case bnl_decision::accept: return "accept: version " + nv + " is newer than the current version " + cv;
        case bnl_decision::same: return "same: version " + nv + " is the list already held";
        case bnl_decision::rollback:
            return "rollback: version " + nv + " is older than the current version " + cv;
        case bnl_decision::conflict:
            return "conflict: version " + nv + " has other content than the current list of the same version";
        case bnl_decision::network_mismatch:
            return "network mismatch: list is for network '" + candidate.list.network +
                   "', the current list is for '" + current.list.network + "'";
    }
    return "?";
}

bnl_judgement judge_bnl(std::string bytes, const std::vector<crypto::public_key>& trusted,
                        const verified_bnl& current) {
    bnl_judgement j;
    auto v = verify_bnl(std::move(bytes), trusted);
    if (!v) {
        j.refusal = to_string(v.error());
        return j;
    }
    j.decision = decide_replacement(current, *v);
    if (j.decision != bnl_decision::accept && j.decision != bnl_decision::same)
        j.refusal = explain(j.decision, current, *v);
    j.candidate = std::move(v).value();
    return j;
}

std::uint64_t next_bnl_version(std::uint64_t previous, std::int64_t now_unix) noexcept {
    std::uint64_t now = now_unix > 0 ? static_cast<std::uint64_t>(now_unix) : 0;
    return std::max(now, previous + 1);
}

result<std::string, bnl_error> sign_bnl(const bnl_list& list, const crypto::private_key& key) {
    if (auto st = validate_bnl(list); !st) return unexpected{st.error()};
    if (list.version == 0 || list.version > bnl_max_version || !list.signed_at)
        return refuse(bnl_errc::not_signed_version, "a list is signed with a version and a signing time");
    std::string body = serialise_bnl(list);
    auto sig = key.sign(bnl_signed_message(body));
    if (!sig) return refuse(bnl_errc::bad_signature, "signing failed: " + sig.error().message);
    bnl_signature_block block;
    block.algorithm = algorithm_for(key.type());
    block.key_fingerprint = key.public_part().fingerprint();
    block.signature = std::move(sig).value();
    std::string out = std::move(body);
    out += format_signature_block(block);
    if (out.size() > bnl_max_file_bytes)
        return refuse(bnl_errc::too_large, "signed list would exceed " + std::to_string(bnl_max_file_bytes) + " bytes");
    return out;
}

}  // namespace weft
