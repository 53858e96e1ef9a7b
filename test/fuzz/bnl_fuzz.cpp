// Fuzz target for the node list: the strict text codec, the signed-list
// envelope and verification.
//
// Properties checked (a failure aborts through WEFT_CHECK):
//  - a list that parses validates, and its canonical text parses back to the
//    same list and serialises to the same bytes;
//  - a parsed list with a version and a signing time signs with the fixed key
//    and verifies back to the same list;
//  - a refusal names a line inside the input;
//  - a split file is exactly its body followed by the block as
//    format_signature_block() writes it;
//  - a verified file is the input itself, with a body that parses to the
//    verified list, signed by the one trusted key.
//
// The trusted key is a fixed Ed25519 key (seed below), so the corpus can hold
// files validly signed by it and the fuzzer can reach the parser behind a
// good signature.  corpus/bnl/signed_*.bnl were signed with it.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/check.hpp"
#include "core/bnl_trust.hpp"
#include "crypto/evp_ptr.hpp"
#include "crypto/signature.hpp"
#include "wire/bnl.hpp"
#include "wire/bnl_signature.hpp"

namespace {

// SHA-256("weft bnl fuzz target fixed ed25519 key"): a test key, nothing else.
constexpr std::uint8_t fixed_seed[32] = {
    0x78, 0x6b, 0xc4, 0x3b, 0x23, 0xdd, 0x07, 0xf5, 0xc9, 0x73, 0xb3, 0x31, 0xf2, 0x22, 0x3f, 0x13,
    0x2f, 0x0a, 0xaf, 0xb5, 0x48, 0x4c, 0x1a, 0x2d, 0x3b, 0xb8, 0x80, 0x27, 0x86, 0xb1, 0xfd, 0x37};

struct fuzz_keys {
    std::optional<weft::crypto::private_key> signer;
    std::vector<weft::crypto::public_key> trusted;
};

const fuzz_keys& keys() {
    static const fuzz_keys k = [] {
        fuzz_keys out;
        weft::crypto::evp_pkey_ptr raw{
            EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, fixed_seed, sizeof fixed_seed)};
        WEFT_CHECK(raw);
        weft::crypto::bio_ptr bio{BIO_new(BIO_s_mem())};
        WEFT_CHECK(bio);
        WEFT_CHECK(PEM_write_bio_PKCS8PrivateKey(bio.get(), raw.get(), nullptr, nullptr, 0, nullptr,
                                                 nullptr) == 1);
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio.get(), &data);
        WEFT_CHECK(n > 0);
        auto key = weft::crypto::private_key::from_pem(
            std::string_view(data, static_cast<std::size_t>(n)));
        WEFT_CHECK(key.has_value());
        out.signer.emplace(std::move(key).value());
        auto pub = weft::crypto::public_key::from_pem(out.signer->public_part().to_pem());
        WEFT_CHECK(pub.has_value());
        out.trusted.push_back(std::move(pub).value());
        return out;
    }();
    return k;
}

std::size_t line_count(std::string_view text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

void check_text_codec(std::string_view input) {
    auto list = weft::parse_bnl(input);
    if (!list) {
        WEFT_CHECK(list.error().line <= line_count(input));
        WEFT_CHECK(!list.error().message.empty());
        return;
    }
    WEFT_CHECK(weft::validate_bnl(*list).has_value());
    const std::string text = weft::serialise_bnl(*list);
    // The canonical form may be longer than the input (it writes every
    // default): past the size cap it cannot parse, by design.
    if (text.size() > weft::bnl_max_file_bytes) return;
    auto again = weft::parse_bnl(text);
    WEFT_CHECK(again.has_value());
    WEFT_CHECK(*again == *list);
    WEFT_CHECK(weft::serialise_bnl(*again) == text);

    if (list->version >= 1 && list->signed_at && text.size() + 1024 <= weft::bnl_max_file_bytes) {
        auto signed_file = weft::sign_bnl(*list, *keys().signer);
        WEFT_CHECK(signed_file.has_value());
        auto verified = weft::verify_bnl(*signed_file, keys().trusted);
        WEFT_CHECK(verified.has_value());
        WEFT_CHECK(verified->list == *list);
        WEFT_CHECK(verified->body() == text);
    }
}

void check_envelope(std::string_view input) {
    auto parts = weft::split_signed_bnl(input);
    if (!parts) return;
    WEFT_CHECK(parts->body.data() == input.data());
    WEFT_CHECK(parts->body.size() < input.size());
    WEFT_CHECK(parts->body.empty() || parts->body.back() == '\n');
    WEFT_CHECK(parts->block.signature.size() <= weft::bnl_max_signature_bytes);
    WEFT_CHECK(std::string(parts->body) + weft::format_signature_block(parts->block) == input);
}

void check_verify(std::string_view input) {
    auto v = weft::verify_bnl(std::string(input), keys().trusted);
    if (!v) return;
    WEFT_CHECK(v->bytes == input);
    WEFT_CHECK(v->key_fingerprint == keys().trusted.front().fingerprint());
    WEFT_CHECK(v->algorithm == weft::bnl_sig_algorithm::ed25519);
    WEFT_CHECK(v->list.version >= 1 && v->list.signed_at.has_value());
    auto body = weft::parse_bnl(v->body());
    WEFT_CHECK(body.has_value());
    WEFT_CHECK(*body == v->list);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_text_codec(input);
    check_envelope(input);
    check_verify(input);
    return 0;
}
