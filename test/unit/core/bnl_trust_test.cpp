// core/bnl_trust: verifying signed lists, the replacement rule, version
// numbering and signing.
//
// The signature tests corrupt a signed file one byte at a time at every
// position and check that each corruption is refused for the reason its
// position implies; truncations, foreign keys, algorithm swaps and key
// rotation follow.
#include "core/bnl_trust.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/hex.hpp"
#include "crypto/signature.hpp"
#include "wire/bnl.hpp"
#include "wire/bnl_signature.hpp"

namespace {

namespace crypto = weft::crypto;
using weft::bnl_decision;
using weft::bnl_errc;
using weft::bnl_list;
using weft::bnl_node;
using weft::ip_family;

std::string code_name(bnl_errc c) {
    return weft::to_string(c);
}
std::string decision_name(bnl_decision d) {
    return weft::to_string(d);
}

template <class R>
std::string error_text(const R& r) {
    if (r) return std::string();
    if constexpr (requires { r.error().line; })
        return weft::to_string(r.error());
    else
        return r.error().message;
}

crypto::private_key new_ed25519() {
    auto k = crypto::private_key::generate(crypto::key_type::ed25519);
    BOOST_REQUIRE_MESSAGE(k.has_value(), error_text(k));
    return std::move(k).value();
}

// One DSA key per test binary (parameter generation takes seconds), made on
// first use so that runs of other suites in this binary do not pay for it.
const crypto::private_key& shared_dsa_key() {
    static std::optional<crypto::private_key> key;
    if (!key) {
        auto k = crypto::private_key::generate(crypto::key_type::dsa);
        BOOST_REQUIRE_MESSAGE(k.has_value(), error_text(k));
        key.emplace(std::move(k).value());
    }
    return *key;
}

// Public halves, as a node loads them: from PEM.
std::vector<crypto::public_key> trust(std::initializer_list<const crypto::private_key*> keys) {
    std::vector<crypto::public_key> out;
    for (const auto* k : keys) {
        auto p = crypto::public_key::from_pem(k->public_part().to_pem());
        BOOST_REQUIRE_MESSAGE(p.has_value(), error_text(p));
        out.push_back(std::move(p).value());
    }
    return out;
}

bnl_list small_list(std::uint64_t version = 100) {
    bnl_list l;
    l.network = "prod";
    l.version = version;
    l.signed_at = 1795295543;
    bnl_node a;
    a.name = "alpha";
    a.id = 1;
    a.ipv4 = weft::parse_ipv4("198.18.0.1");
    a.subnets = {*weft::parse_prefix("198.19.1.0/24").prefix};
    bnl_node b;
    b.name = "beta";
    b.id = 2;
    b.ipv6 = weft::parse_ipv6("2001:db8::2");
    b.prefer = ip_family::v6;
    l.nodes = {a, b};
    return l;
}

std::string sign_ok(const bnl_list& l, const crypto::private_key& k) {
    auto r = weft::sign_bnl(l, k);
    BOOST_REQUIRE_MESSAGE(r.has_value(), error_text(r));
    return std::move(r).value();
}

weft::verified_bnl verify_ok(const std::string& file,
                             const std::vector<crypto::public_key>& trusted) {
    auto r = weft::verify_bnl(file, trusted);
    BOOST_REQUIRE_MESSAGE(r.has_value(), error_text(r));
    return std::move(r).value();
}

void expect_refused(const std::string& file, const std::vector<crypto::public_key>& trusted,
                    bnl_errc code, std::size_t line = 0, std::string_view needle = {}) {
    auto r = weft::verify_bnl(file, trusted);
    BOOST_REQUIRE_MESSAGE(!r.has_value(), "verify_bnl accepted; expected " << code_name(code));
    BOOST_TEST(code_name(r.error().code) == code_name(code));
    BOOST_TEST(r.error().line == line);
    if (!needle.empty())
        BOOST_CHECK_MESSAGE(r.error().message.find(needle) != std::string::npos,
                            "message \"" << r.error().message << "\" lacks \"" << needle << "\"");
}

// A body signed directly (any bytes, not necessarily canonical).
std::string sign_body(std::string_view body, const crypto::private_key& k) {
    auto sig = k.sign(weft::bnl_signed_message(body));
    BOOST_REQUIRE_MESSAGE(sig.has_value(), error_text(sig));
    weft::bnl_signature_block b;
    b.algorithm = k.type() == crypto::key_type::ed25519 ? weft::bnl_sig_algorithm::ed25519
                                                        : weft::bnl_sig_algorithm::dsa_sha256;
    b.key_fingerprint = k.public_part().fingerprint();
    b.signature = std::move(sig).value();
    return std::string(body) + weft::format_signature_block(b);
}

std::string replace_once(std::string s, std::string_view from, std::string_view to) {
    auto at = s.find(from);
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "'" << from << "' not found");
    s.replace(at, from.size(), to);
    return s;
}

bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Flips `mask` into every byte of a signed file in turn and checks that the
// refusal is the one the byte's position implies.
void check_every_byte_flip(const std::string& file, std::size_t body_size,
                           const std::vector<crypto::public_key>& trusted, std::uint8_t mask) {
    const std::size_t begin = body_size;                               // begin marker line
    const std::size_t alg = begin + weft::bnl_block_begin.size() + 1;  // "algorithm = ..."
    const std::size_t key = file.find('\n', alg) + 1;                  // "key = sha256:..."
    const std::size_t key_hex = key + std::string_view("key = sha256:").size();
    const std::size_t sig = file.find('\n', key) + 1;  // "signature = ..."
    const std::size_t sig_b64 = sig + std::string_view("signature = ").size();
    const std::size_t end = file.find('\n', sig) + 1;  // end marker line
    BOOST_REQUIRE(file.compare(begin, weft::bnl_block_begin.size(), weft::bnl_block_begin) == 0);
    BOOST_REQUIRE(file.compare(end, weft::bnl_block_end.size(), weft::bnl_block_end) == 0);

    for (std::size_t i = 0; i < file.size(); ++i) {
        std::string bad = file;
        bad[i] = static_cast<char>(static_cast<std::uint8_t>(bad[i]) ^ mask);
        bnl_errc expected;
        if (i + 1 < body_size) {
            expected = bnl_errc::bad_signature;  // the body changed
        } else if (i + 1 == body_size) {
            // The LF before the block: the begin marker is no longer on a line of its own.
            expected = bnl_errc::bad_signature_block;
        } else if (i < alg - 1) {
            expected = bnl_errc::unsigned_list;  // no begin marker any more
        } else if (i >= key_hex && i < sig - 1) {
            // Another lowercase hex digit names another (untrusted) key.
            expected =
                is_lower_hex(bad[i]) ? bnl_errc::untrusted_key : bnl_errc::bad_signature_block;
        } else if (i >= sig_b64 && i < end - 1) {
            // Still canonical base64: another signature, which does not verify.
            auto decoded =
                weft::from_base64(std::string_view(bad).substr(sig_b64, end - 1 - sig_b64));
            expected = decoded && !decoded->empty() ? bnl_errc::bad_signature
                                                    : bnl_errc::bad_signature_block;
        } else {
            expected = bnl_errc::bad_signature_block;  // any other byte of the block
        }
        auto r = weft::verify_bnl(bad, trusted);
        BOOST_TEST_CONTEXT("byte " << i << " ^ " << int(mask) << " ('" << file[i] << "')") {
            BOOST_REQUIRE_MESSAGE(!r.has_value(), "corrupted file accepted");
            BOOST_TEST(code_name(r.error().code) == code_name(expected));
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bnl_trust)

// ---------------------------------------------------------------------------
// Signing and verifying

BOOST_AUTO_TEST_CASE(ed25519_sign_then_verify) {
    const auto key = new_ed25519();
    const bnl_list list = small_list();
    const std::string file = sign_ok(list, key);
    const std::string body = weft::serialise_bnl(list);
    BOOST_TEST(file.compare(0, body.size(), body) == 0);
    BOOST_TEST(file.find("\nalgorithm = ed25519\nkey = sha256:" +
                         weft::to_hex(key.public_part().fingerprint()) + "\n") !=
               std::string::npos);

    const auto v = verify_ok(file, trust({&key}));
    BOOST_TEST((v.list == list));
    BOOST_TEST(v.bytes == file);
    BOOST_TEST(v.body_size == body.size());
    BOOST_TEST(v.body() == body);
    BOOST_TEST((v.algorithm == weft::bnl_sig_algorithm::ed25519));
    BOOST_TEST((v.key_fingerprint == key.public_part().fingerprint()));
}

BOOST_AUTO_TEST_CASE(dsa_sign_then_verify) {
    const auto& key = shared_dsa_key();
    const bnl_list list = small_list();
    const std::string file = sign_ok(list, key);
    BOOST_TEST(file.find("\nalgorithm = dsa-sha256\n") != std::string::npos);
    const auto v = verify_ok(file, trust({&key}));
    BOOST_TEST((v.list == list));
    BOOST_TEST((v.algorithm == weft::bnl_sig_algorithm::dsa_sha256));
    BOOST_TEST((v.key_fingerprint == key.public_part().fingerprint()));
}

BOOST_AUTO_TEST_CASE(every_single_byte_change_is_refused_ed25519) {
    const auto key = new_ed25519();
    const bnl_list list = small_list();
    const std::string file = sign_ok(list, key);
    const auto trusted = trust({&key});
    const std::size_t body_size = weft::serialise_bnl(list).size();
    for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0x20}})
        check_every_byte_flip(file, body_size, trusted, mask);
}

BOOST_AUTO_TEST_CASE(every_single_byte_change_is_refused_dsa) {
    const auto& key = shared_dsa_key();
    const bnl_list list = small_list();
    const std::string file = sign_ok(list, key);
    check_every_byte_flip(file, weft::serialise_bnl(list).size(), trust({&key}), 0x01);
}

BOOST_AUTO_TEST_CASE(truncations_are_refused) {
    const auto key = new_ed25519();
    const std::string file = sign_ok(small_list(), key);
    const auto trusted = trust({&key});
    const std::size_t body = weft::serialise_bnl(small_list()).size();
    const std::size_t after_marker = body + weft::bnl_block_begin.size() + 1;
    const std::pair<std::size_t, bnl_errc> cuts[] = {
        {0, bnl_errc::unsigned_list},
        {body / 2, bnl_errc::unsigned_list},
        {body, bnl_errc::unsigned_list},  // the bare body
        {body + 10, bnl_errc::unsigned_list},
        {after_marker - 1, bnl_errc::bad_signature_block},
        {after_marker, bnl_errc::bad_signature_block},
        {after_marker + 5, bnl_errc::bad_signature_block},
        {file.find("signature = ") + 30, bnl_errc::bad_signature_block},
        {file.rfind("-----END"), bnl_errc::bad_signature_block},
        {file.size() - 1, bnl_errc::bad_signature_block},
    };
    for (const auto& [cut, code] : cuts)
        BOOST_TEST_CONTEXT("cut at " << cut << " of " << file.size()) {
            expect_refused(file.substr(0, cut), trusted, code);
        }
}

BOOST_AUTO_TEST_CASE(trailing_data_after_the_end_marker_is_refused) {
    const auto key = new_ed25519();
    const std::string file = sign_ok(small_list(), key);
    const auto trusted = trust({&key});
    expect_refused(file + "\n", trusted, bnl_errc::bad_signature_block, 0, "end marker");
    expect_refused(file + "# note\n", trusted, bnl_errc::bad_signature_block, 0, "end marker");
    expect_refused(file + file, trusted, bnl_errc::bad_signature);  // the first copy becomes body
}

BOOST_AUTO_TEST_CASE(unsigned_file_is_refused) {
    const auto key = new_ed25519();
    expect_refused(weft::serialise_bnl(small_list()), trust({&key}), bnl_errc::unsigned_list);
    expect_refused("", trust({&key}), bnl_errc::unsigned_list);
}

BOOST_AUTO_TEST_CASE(untrusted_key_is_refused) {
    const auto signer = new_ed25519();
    const auto other = new_ed25519();
    const std::string file = sign_ok(small_list(), signer);
    expect_refused(file, trust({&other}), bnl_errc::untrusted_key, 0,
                   weft::to_hex(signer.public_part().fingerprint()));
    expect_refused(file, {}, bnl_errc::untrusted_key);
    expect_refused(file, trust({&other, &shared_dsa_key()}), bnl_errc::untrusted_key);
}

BOOST_AUTO_TEST_CASE(algorithm_line_changed) {
    const auto ed = new_ed25519();
    const auto& dsa = shared_dsa_key();
    const auto trusted = trust({&ed, &dsa});

    // The key named by the fingerprint is trusted but of the other type.
    const std::string ed_file = sign_ok(small_list(), ed);
    expect_refused(replace_once(ed_file, "algorithm = ed25519", "algorithm = dsa-sha256"), trusted,
                   bnl_errc::algorithm_mismatch, 0, "dsa-sha256");
    const std::string dsa_file = sign_ok(small_list(), dsa);
    expect_refused(replace_once(dsa_file, "algorithm = dsa-sha256", "algorithm = ed25519"), trusted,
                   bnl_errc::algorithm_mismatch, 0, "ed25519");

    // Algorithm and key both switched to the trusted Ed25519 key: the types
    // agree, and the DSA signature does not verify under it.
    std::string swapped = replace_once(dsa_file, "algorithm = dsa-sha256", "algorithm = ed25519");
    swapped = replace_once(swapped, weft::to_hex(dsa.public_part().fingerprint()),
                           weft::to_hex(ed.public_part().fingerprint()));
    expect_refused(swapped, trusted, bnl_errc::bad_signature);
    std::string swapped_back =
        replace_once(ed_file, "algorithm = ed25519", "algorithm = dsa-sha256");
    swapped_back = replace_once(swapped_back, weft::to_hex(ed.public_part().fingerprint()),
                                weft::to_hex(dsa.public_part().fingerprint()));
    expect_refused(swapped_back, trusted, bnl_errc::bad_signature);
}

BOOST_AUTO_TEST_CASE(signature_without_the_domain_prefix_is_refused) {
    const auto key = new_ed25519();
    const std::string body = weft::serialise_bnl(small_list());
    const std::vector<std::uint8_t> raw(body.begin(), body.end());
    auto sig = key.sign(raw);  // over the body alone
    BOOST_REQUIRE(sig.has_value());
    weft::bnl_signature_block b;
    b.key_fingerprint = key.public_part().fingerprint();
    b.signature = *sig;
    expect_refused(body + weft::format_signature_block(b), trust({&key}), bnl_errc::bad_signature);
}

BOOST_AUTO_TEST_CASE(key_rotation_accepts_either_trusted_key) {
    const auto old_key = new_ed25519();
    const auto new_key = new_ed25519();
    const auto& dsa = shared_dsa_key();
    const auto stranger = new_ed25519();
    const bnl_list list = small_list();
    for (const auto& trusted : {trust({&old_key, &new_key}), trust({&new_key, &old_key}),
                                trust({&dsa, &old_key, &new_key})}) {
        BOOST_TEST((verify_ok(sign_ok(list, old_key), trusted).list == list));
        BOOST_TEST((verify_ok(sign_ok(list, new_key), trusted).list == list));
        expect_refused(sign_ok(list, stranger), trusted, bnl_errc::untrusted_key);
    }
    BOOST_TEST((verify_ok(sign_ok(list, dsa), trust({&old_key, &dsa})).list == list));
}

BOOST_AUTO_TEST_CASE(the_body_is_verified_as_received) {
    // Not canonical: comments, tabs, an openssl-style pin, keys out of order.
    const std::string body =
        "# hand written\n"
        "network=prod\n"
        "signed = 2026-11-21T21:12:23Z\n"
        "version = 7\n"
        "[node a]\n"
        "\tipv4 = 10.0.0.1\n"
        "id = 1\n"
        "pin = "
        "sha256:00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:"
        "1B:1C:1D:1E:1F\n";
    const auto key = new_ed25519();
    const std::string file = sign_body(body, key);
    const auto v = verify_ok(file, trust({&key}));
    BOOST_TEST(v.body() == body);
    BOOST_TEST(v.bytes == file);
    BOOST_TEST(v.list.version == 7u);
    BOOST_TEST(v.list.nodes.at(0).pin.has_value());
    // The canonical form of the same list is other bytes: its signature is not this one.
    std::string canonical = weft::serialise_bnl(v.list) + file.substr(body.size());
    expect_refused(canonical, trust({&key}), bnl_errc::bad_signature);
}

BOOST_AUTO_TEST_CASE(a_signed_body_must_parse_strictly) {
    const auto key = new_ed25519();
    const std::string body =
        "network = prod\n"                      // 1
        "version = 7\n"                         // 2
        "signed = 2026-11-21T21:12:23Z\n"       // 3
        "[node a]\nid = 1\nipv4 = 10.0.0.1\n"   // 4-6
        "[node b]\nid = 1\nipv4 = 10.0.0.2\n";  // 7-9
    expect_refused(sign_body(body, key), trust({&key}), bnl_errc::duplicate_id, 7, "node a");
    expect_refused(
        sign_body("network = prod\nversion = 7\nsigned = 2026-11-21T21:12:23Z\ncolour = red\n",
                  key),
        trust({&key}), bnl_errc::unknown_key, 4, "colour");
    expect_refused(sign_body("network = prod\r\nversion = 7\n", key), trust({&key}),
                   bnl_errc::bad_encoding, 1);
}

BOOST_AUTO_TEST_CASE(a_signed_body_needs_version_and_time) {
    const auto key = new_ed25519();
    expect_refused(sign_body("network = prod\nsigned = 2026-11-21T21:12:23Z\n", key), trust({&key}),
                   bnl_errc::not_signed_version);
    expect_refused(sign_body("network = prod\nversion = 0\nsigned = 2026-11-21T21:12:23Z\n", key),
                   trust({&key}), bnl_errc::not_signed_version);
    expect_refused(sign_body("network = prod\nversion = 3\n", key), trust({&key}),
                   bnl_errc::not_signed_version);
    BOOST_TEST(
        verify_ok(sign_body("network = prod\nversion = 1\nsigned = 1970-01-01T00:00:00Z\n", key),
                  trust({&key}))
            .list.version == 1u);
}

BOOST_AUTO_TEST_CASE(sign_bnl_refusals) {
    const auto key = new_ed25519();
    auto expect = [&](const bnl_list& l, bnl_errc code) {
        auto r = weft::sign_bnl(l, key);
        BOOST_REQUIRE_MESSAGE(!r.has_value(), "sign_bnl signed; expected " << code_name(code));
        BOOST_TEST(code_name(r.error().code) == code_name(code));
    };
    expect(small_list(0), bnl_errc::not_signed_version);  // version 0
    auto no_time = small_list();
    no_time.signed_at.reset();
    expect(no_time, bnl_errc::not_signed_version);
    expect(small_list(weft::bnl_max_version + 1), bnl_errc::bad_version);
    auto dup = small_list();
    dup.nodes[1].id = 1;
    expect(dup, bnl_errc::duplicate_id);
    auto overlap = small_list();
    overlap.nodes[1].subnets.push_back(*weft::parse_prefix("198.19.1.7/32").prefix);
    expect(overlap, bnl_errc::overlapping_subnets);
    // The largest version signs.
    BOOST_TEST(weft::sign_bnl(small_list(weft::bnl_max_version), key).has_value());
}

// small_list() with head comments added until its canonical text is exactly
// `target` bytes.
bnl_list list_of_size(std::size_t target) {
    bnl_list l = small_list();
    std::size_t size = weft::serialise_bnl(l).size();
    const std::string full =
        "#" + std::string(weft::bnl_max_line_bytes - 1, 'c');  // a line of 4096 bytes
    while (size + 2 * (full.size() + 1) <= target) {
        l.comments.push_back(full);
        size += full.size() + 1;
    }
    const std::size_t rest = target - size;  // 4097 to 8193 bytes left: two comment lines
    l.comments.push_back("#" + std::string(rest / 2 - 2, 'd'));
    l.comments.push_back("#" + std::string(rest - rest / 2 - 2, 'e'));
    BOOST_REQUIRE(weft::serialise_bnl(l).size() == target);
    return l;
}

BOOST_AUTO_TEST_CASE(size_cap_on_signing_and_verifying) {
    const auto key = new_ed25519();
    weft::bnl_signature_block dummy;
    dummy.signature.resize(64);
    const std::size_t block_size = weft::format_signature_block(dummy).size();

    // Exactly 16 MiB signed: fine.
    const bnl_list fits = list_of_size(weft::bnl_max_file_bytes - block_size);
    const std::string file = sign_ok(fits, key);
    BOOST_REQUIRE(file.size() == weft::bnl_max_file_bytes);
    BOOST_TEST(verify_ok(file, trust({&key})).list.comments.size() == fits.comments.size());

    // One byte more: sign_bnl refuses, and so does verify_bnl, before anything else.
    bnl_list too_big = fits;
    too_big.comments.back() += 'x';
    auto r = weft::sign_bnl(too_big, key);
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST(code_name(r.error().code) == code_name(bnl_errc::too_large));
    const std::string over = sign_body(weft::serialise_bnl(too_big), key);
    BOOST_REQUIRE(over.size() == weft::bnl_max_file_bytes + 1);
    expect_refused(over, trust({&key}), bnl_errc::too_large, 0, "16777217");
}

// ---------------------------------------------------------------------------
// The replacement rule

BOOST_AUTO_TEST_CASE(decide_replacement_cases) {
    const auto key = new_ed25519();
    const auto other_key = new_ed25519();
    const auto trusted = trust({&key, &other_key});
    const auto current = verify_ok(sign_ok(small_list(100), key), trusted);

    struct decision_case {
        const char* what;
        weft::verified_bnl candidate;
        bnl_decision expected;
    };
    auto changed = small_list(100);
    changed.nodes[0].port = 4000;
    auto commented = small_list(100);
    commented.comments.push_back("# only a comment differs");
    auto other_network = small_list(200);
    other_network.network = "staging";
    auto other_network_old = small_list(50);
    other_network_old.network = "staging";

    const decision_case cases[] = {
        {"newer", verify_ok(sign_ok(small_list(101), key), trusted), bnl_decision::accept},
        {"much newer", verify_ok(sign_ok(small_list(1795295543), key), trusted),
         bnl_decision::accept},
        {"older", verify_ok(sign_ok(small_list(99), key), trusted), bnl_decision::rollback},
        {"identical file", verify_ok(sign_ok(small_list(100), key), trusted), bnl_decision::same},
        {"same body, signed by the other key",
         verify_ok(sign_ok(small_list(100), other_key), trusted), bnl_decision::same},
        {"same version, other content", verify_ok(sign_ok(changed, key), trusted),
         bnl_decision::conflict},
        {"same version, other comment", verify_ok(sign_ok(commented, key), trusted),
         bnl_decision::conflict},
        {"other network, newer", verify_ok(sign_ok(other_network, key), trusted),
         bnl_decision::network_mismatch},
        {"other network, older", verify_ok(sign_ok(other_network_old, key), trusted),
         bnl_decision::network_mismatch},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            BOOST_TEST(decision_name(weft::decide_replacement(current, c.candidate)) ==
                       decision_name(c.expected));
        }
    }
}

BOOST_AUTO_TEST_CASE(dsa_resignature_of_the_same_body_is_the_same_list) {
    // DSA signatures are randomised: the files differ, the lists are the same.
    const auto& dsa = shared_dsa_key();
    const auto trusted = trust({&dsa});
    const auto a = verify_ok(sign_ok(small_list(100), dsa), trusted);
    const auto b = verify_ok(sign_ok(small_list(100), dsa), trusted);
    BOOST_TEST(a.bytes != b.bytes);
    BOOST_TEST(decision_name(weft::decide_replacement(a, b)) == decision_name(bnl_decision::same));
}

BOOST_AUTO_TEST_CASE(explain_names_both_versions) {
    const auto key = new_ed25519();
    const auto trusted = trust({&key});
    const auto v100 = verify_ok(sign_ok(small_list(100), key), trusted);
    const auto v123 = verify_ok(sign_ok(small_list(123), key), trusted);
    auto changed = small_list(100);
    changed.nodes[0].port = 4000;
    const auto v100b = verify_ok(sign_ok(changed, key), trusted);
    auto staging = small_list(123);
    staging.network = "staging";
    const auto other = verify_ok(sign_ok(staging, key), trusted);

    const std::string accept = weft::explain(bnl_decision::accept, v100, v123);
    BOOST_TEST(accept.find("accept") != std::string::npos);
    BOOST_TEST(accept.find("123") != std::string::npos);
    BOOST_TEST(accept.find("100") != std::string::npos);
    const std::string rollback = weft::explain(bnl_decision::rollback, v123, v100);
    BOOST_TEST(rollback == "rollback: version 100 is older than the current version 123");
    const std::string conflict = weft::explain(bnl_decision::conflict, v100, v100b);
    BOOST_TEST(conflict.find("conflict") != std::string::npos);
    BOOST_TEST(conflict.find("100") != std::string::npos);
    const std::string same = weft::explain(bnl_decision::same, v100, v100);
    BOOST_TEST(same.find("100") != std::string::npos);
    const std::string mismatch = weft::explain(bnl_decision::network_mismatch, v100, other);
    BOOST_TEST(mismatch.find("'staging'") != std::string::npos);
    BOOST_TEST(mismatch.find("'prod'") != std::string::npos);

    BOOST_TEST(decision_name(bnl_decision::accept) == "accept");
    BOOST_TEST(decision_name(bnl_decision::same) == "same");
    BOOST_TEST(decision_name(bnl_decision::rollback) == "rollback");
    BOOST_TEST(decision_name(bnl_decision::conflict) == "conflict");
    BOOST_TEST(decision_name(bnl_decision::network_mismatch) == "network mismatch");
}

BOOST_AUTO_TEST_CASE(judge_bnl_verifies_then_decides) {
    const auto key = new_ed25519();
    const auto stranger = new_ed25519();
    const auto trusted = trust({&key});
    const auto current = verify_ok(sign_ok(small_list(100), key), trusted);

    const auto newer = weft::judge_bnl(sign_ok(small_list(101), key), trusted, current);
    BOOST_TEST(newer.accepted());
    BOOST_TEST(!newer.same());
    BOOST_TEST(newer.refusal.empty());
    BOOST_TEST_REQUIRE(newer.candidate.has_value());
    BOOST_TEST(newer.candidate->list.version == 101u);

    const auto same = weft::judge_bnl(sign_ok(small_list(100), key), trusted, current);
    BOOST_TEST(same.same());
    BOOST_TEST(!same.accepted());
    BOOST_TEST(same.refusal.empty());

    const auto older = weft::judge_bnl(sign_ok(small_list(99), key), trusted, current);
    BOOST_TEST(!older.accepted());
    BOOST_TEST(!older.same());
    BOOST_TEST(decision_name(older.decision) == decision_name(bnl_decision::rollback));
    BOOST_TEST(older.refusal == "rollback: version 99 is older than the current version 100");

    // Verification comes first: a newer list under an untrusted key is
    // refused with the verifier's reason and no candidate.
    const auto untrusted = weft::judge_bnl(sign_ok(small_list(101), stranger), trusted, current);
    BOOST_TEST(!untrusted.accepted());
    BOOST_TEST(!untrusted.same());
    BOOST_TEST(!untrusted.candidate.has_value());
    BOOST_TEST(untrusted.refusal.find("which is not a trusted key") != std::string::npos, untrusted.refusal);

    const auto garbage = weft::judge_bnl("not a node list\n", trusted, current);
    BOOST_TEST(!garbage.accepted());
    BOOST_TEST(!garbage.candidate.has_value());
    BOOST_TEST(!garbage.refusal.empty());
}

// ---------------------------------------------------------------------------
// Version numbering

BOOST_AUTO_TEST_CASE(next_version_is_max_of_now_and_previous_plus_one) {
    BOOST_TEST(weft::next_bnl_version(100, 1000) == 1000u);   // clock ahead: now
    BOOST_TEST(weft::next_bnl_version(2000, 1000) == 2001u);  // clock behind: previous + 1
    BOOST_TEST(weft::next_bnl_version(1000, 1000) == 1001u);  // same second
    BOOST_TEST(weft::next_bnl_version(999, 1000) == 1000u);
    BOOST_TEST(weft::next_bnl_version(0, 0) == 1u);   // never 0
    BOOST_TEST(weft::next_bnl_version(0, -5) == 1u);  // clock before 1970
    BOOST_TEST(weft::next_bnl_version(5, -5) == 6u);
    BOOST_TEST(weft::next_bnl_version(0, 1795295543) == 1795295543u);
}

BOOST_AUTO_TEST_CASE(next_version_strictly_increases_within_one_second) {
    const std::int64_t now = 1795295543;
    std::uint64_t v = weft::next_bnl_version(1795295000, now);
    BOOST_TEST(v == 1795295543u);
    for (int i = 0; i < 5; ++i) {
        const std::uint64_t next = weft::next_bnl_version(v, now);
        BOOST_TEST(next == v + 1);
        v = next;
    }
    // ... and the clock catching up does not go back.
    BOOST_TEST(weft::next_bnl_version(v, now + 1) == v + 1);
    BOOST_TEST(weft::next_bnl_version(v, now + 100) == static_cast<std::uint64_t>(now + 100));
}

BOOST_AUTO_TEST_CASE(versions_from_next_version_sign_and_replace) {
    const auto key = new_ed25519();
    const auto trusted = trust({&key});
    auto l = small_list(0);
    const std::int64_t now = 1795295543;
    l.version = weft::next_bnl_version(l.version, now);
    l.signed_at = now;
    const auto first = verify_ok(sign_ok(l, key), trusted);
    l.nodes[0].port = 4000;
    l.version = weft::next_bnl_version(l.version, now);  // same second
    const auto second = verify_ok(sign_ok(l, key), trusted);
    BOOST_TEST(decision_name(weft::decide_replacement(first, second)) ==
               decision_name(bnl_decision::accept));
    BOOST_TEST(decision_name(weft::decide_replacement(second, first)) ==
               decision_name(bnl_decision::rollback));
}

BOOST_AUTO_TEST_SUITE_END()
