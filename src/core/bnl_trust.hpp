// Trust decisions about node lists: verifying a signed list against the
// trusted keys, deciding whether a verified list may replace the current
// one, and signing.  Used alike by bnl-sign and by the daemon, so both
// always judge a list the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "crypto/signature.hpp"
#include "wire/bnl.hpp"
#include "wire/bnl_signature.hpp"

namespace weft {

struct verified_bnl {
    bnl_list list;
    std::string bytes;  // the whole signed file, exactly as verified
    std::size_t body_size = 0;
    bnl_sig_algorithm algorithm = bnl_sig_algorithm::ed25519;
    crypto::sha256_digest key_fingerprint{};

    std::string_view body() const noexcept { return std::string_view(bytes).substr(0, body_size); }
};

// Verifies a signed list: size cap, envelope, a trusted key with that
// fingerprint, the key's type matching the block's algorithm, the signature
// over the domain prefix and the exact body, then the strict parse, and that
// the list carries a signed version (version >= 1 and a signing time).
// Nothing is normalised.  The error says which step refused it.
result<verified_bnl, bnl_error> verify_bnl(std::string bytes,
                                           const std::vector<crypto::public_key>& trusted);

enum class bnl_decision {
    accept,            // newer, same network: replace the current list
    same,              // the list already held (same version, same body): nothing to do
    rollback,          // older than the current list
    conflict,          // same version, different content: refused and worth a log line
    network_mismatch,  // another network's list
};
const char* to_string(bnl_decision d) noexcept;

// Whether a node holding `current` accepts `candidate` (both verified).
bnl_decision decide_replacement(const verified_bnl& current, const verified_bnl& candidate) noexcept;
// One line an administrator can act on, e.g.
// "rollback: version 17 is older than the current version 20".
std::string explain(bnl_decision d, const verified_bnl& current, const verified_bnl& candidate);

// A list from outside (the file on disk, a peer) judged against the current
// one: verify_bnl(), then decide_replacement().  Both the daemon's paths take
// lists through this one function, so they can never judge differently.
struct bnl_judgement {
    std::optional<verified_bnl> candidate;      // set when it verified
    bnl_decision decision = bnl_decision::same;  // meaningful only with a candidate
    std::string refusal;                         // why it is refused; empty for accept and same

    bool accepted() const noexcept { return candidate && decision == bnl_decision::accept; }
    bool same() const noexcept { return candidate && decision == bnl_decision::same; }
};
bnl_judgement judge_bnl(std::string bytes, const std::vector<crypto::public_key>& trusted,
                        const verified_bnl& current);

// The version a new signature gets: max(now, previous + 1), so versions
// strictly increase even when the clock is behind or two signatures fall in
// one second.
std::uint64_t next_bnl_version(std::uint64_t previous, std::int64_t now_unix) noexcept;

// Signs `list` as given (the caller sets version and signed_at): validates
// it, serialises the canonical body and appends the signature block.
result<std::string, bnl_error> sign_bnl(const bnl_list& list, const crypto::private_key& key);

}  // namespace weft
