#include "wire/bnl_signature.hpp"

#include "base/hex.hpp"

namespace weft {

namespace {

unexpected<bnl_error> bad_block(std::string why) {
    return unexpected{bnl_error{bnl_errc::bad_signature_block, 0, "signature block: " + std::move(why)}};
}

// Takes one "key = value" line off the front of `rest`; the key must match.
std::optional<std::string_view> take_field(std::string_view& rest, std::string_view key) {
    auto nl = rest.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    if (line.size() < key.size() + 3 || line.substr(0, key.size()) != key ||
        line.substr(key.size(), 3) != " = ")
        return std::nullopt;
    return line.substr(key.size() + 3);
}

}  // namespace

const char* to_string(bnl_sig_algorithm a) noexcept {
    return a == bnl_sig_algorithm::ed25519 ? "ed25519" : "dsa-sha256";
}

result<signed_bnl_parts, bnl_error> split_signed_bnl(std::string_view file) {
    if (file.size() > bnl_max_file_bytes)
        return unexpected{bnl_error{bnl_errc::too_large, 0,
                                    "signed list is " + std::to_string(file.size()) +
                                        " bytes; the maximum is " + std::to_string(bnl_max_file_bytes)}};
    // The block starts at the beginning of a line; take the last such start.
    std::string marker = "\n" + std::string(bnl_block_begin) + "\n";
    std::size_t at = std::string_view::npos;
    if (file.substr(0, marker.size() - 1) == std::string_view(marker).substr(1)) at = 0;
    if (auto p = file.rfind(marker); p != std::string_view::npos) at = p + 1;
    if (at == std::string_view::npos) {
        if (file.find(bnl_block_begin) != std::string_view::npos)
            return bad_block("begin marker is not on a line of its own");
        return unexpected{bnl_error{bnl_errc::unsigned_list, 0,
                                    "no signature block: the list is not signed (use bnl-sign sign)"}};
    }
    signed_bnl_parts parts;
    parts.body = file.substr(0, at);
    std::string_view rest = file.substr(at + bnl_block_begin.size() + 1);

    auto alg = take_field(rest, "algorithm");
    if (!alg) return bad_block("expected 'algorithm = ...'");
    if (*alg == "ed25519") parts.block.algorithm = bnl_sig_algorithm::ed25519;
    else if (*alg == "dsa-sha256") parts.block.algorithm = bnl_sig_algorithm::dsa_sha256;
    // Quoted bounded (the line has no length limit); whoever logs a peer's
    // list escapes the whole refusal (daemon_bnl.cpp).
    else return bad_block("unknown algorithm '" + std::string(alg->substr(0, 32)) + (alg->size() > 32 ? "...'" : "'"));

    auto key = take_field(rest, "key");
    if (!key) return bad_block("expected 'key = sha256:...'");
    if (key->substr(0, 7) != "sha256:" || key->size() != 7 + 64)
        return bad_block("key must be sha256: and 64 hex digits");
    auto fp = from_hex(key->substr(7));
    if (!fp || key->substr(7) != to_hex(*fp)) return bad_block("key fingerprint is not lowercase hex");
    std::copy(fp->begin(), fp->end(), parts.block.key_fingerprint.begin());

    auto sig = take_field(rest, "signature");
    if (!sig) return bad_block("expected 'signature = <base64>'");
    if (sig->size() > (bnl_max_signature_bytes + 2) / 3 * 4) return bad_block("signature too long");
    auto sig_bytes = from_base64(*sig);
    if (!sig_bytes || sig_bytes->empty()) return bad_block("signature is not canonical base64");
    if (sig_bytes->size() > bnl_max_signature_bytes) return bad_block("signature too long");
    parts.block.signature = std::move(*sig_bytes);

    std::string end_line = std::string(bnl_block_end) + "\n";
    if (rest != end_line) {
        if (end_line.substr(0, rest.size()) == rest) return bad_block("truncated (no end marker)");
        return bad_block("expected the end marker as the file's last line");
    }
    return parts;
}

std::string format_signature_block(const bnl_signature_block& block) {
    std::string out;
    out += bnl_block_begin;
    out += "\nalgorithm = ";
    out += to_string(block.algorithm);
    out += "\nkey = sha256:" + to_hex(block.key_fingerprint);
    out += "\nsignature = " + to_base64(block.signature);
    out += '\n';
    out += bnl_block_end;
    out += '\n';
    return out;
}

std::vector<std::uint8_t> bnl_signed_message(std::string_view body) {
    std::vector<std::uint8_t> msg;
    msg.reserve(bnl_signature_domain.size() + body.size());
    msg.insert(msg.end(), bnl_signature_domain.begin(), bnl_signature_domain.end());
    msg.insert(msg.end(), body.begin(), body.end());
    return msg;
}

}  // namespace weft
