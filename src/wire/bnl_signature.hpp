// The signed-list envelope: the list's exact bytes followed by one signature
// block.  This file knows the block's layout; what the signature covers is
// bnl_signed_message().  Spec: src/wire/BNL-FORMAT.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "wire/bnl.hpp"

namespace weft {

inline constexpr std::string_view bnl_block_begin = "-----BEGIN WEFT BNL SIGNATURE-----";
inline constexpr std::string_view bnl_block_end = "-----END WEFT BNL SIGNATURE-----";
// Domain separation: a signature over a node list can never be mistaken for
// a signature over anything else made with the same key.
inline constexpr std::string_view bnl_signature_domain = "weft-bnl-signature-v1\n";
inline constexpr std::size_t bnl_max_signature_bytes = 512;

enum class bnl_sig_algorithm : std::uint8_t { ed25519, dsa_sha256 };
const char* to_string(bnl_sig_algorithm a) noexcept;  // "ed25519", "dsa-sha256"

struct bnl_signature_block {
    bnl_sig_algorithm algorithm = bnl_sig_algorithm::ed25519;
    std::array<std::uint8_t, 32> key_fingerprint{};  // SHA-256 of the signing key's SPKI DER
    std::vector<std::uint8_t> signature;

    friend bool operator==(const bnl_signature_block&, const bnl_signature_block&) = default;
};

struct signed_bnl_parts {
    std::string_view body;  // every byte before the block: what is signed
    bnl_signature_block block;
};

// Splits a signed file.  Strict: the block must be the file's end, exactly
// as format_signature_block() writes it.  Errors: unsigned_list (no block),
// bad_signature_block (anything malformed, including a truncated block).
// Does not verify anything.
result<signed_bnl_parts, bnl_error> split_signed_bnl(std::string_view file);

std::string format_signature_block(const bnl_signature_block& block);

// The exact bytes a signature covers: the domain prefix, then the body.
std::vector<std::uint8_t> bnl_signed_message(std::string_view body);

}  // namespace weft
