// wire/bnl_signature: the signed-list envelope.  The block's exact layout,
// strict splitting (every truncation point, trailing data, malformed fields)
// and the signed message.  No cryptography here: verification is tested in
// core/bnl_trust_test.cpp.
#include "wire/bnl_signature.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "base/hex.hpp"
#include "wire/bnl.hpp"

namespace {

using weft::bnl_errc;
using weft::bnl_sig_algorithm;
using weft::bnl_signature_block;

std::string code_name(bnl_errc c) {
    return weft::to_string(c);
}

template <class R>
std::string error_text(const R& r) {
    return r ? std::string() : weft::to_string(r.error());
}

const std::string body =
    "network = t\n"
    "version = 1\n"
    "signed = 2026-01-01T00:00:00Z\n"
    "\n"
    "[node a]\n"
    "id = 1\n"
    "ipv4 = 10.0.0.1\n"
    "port = 3406\n";

bnl_signature_block sample_block() {
    bnl_signature_block b;
    b.algorithm = bnl_sig_algorithm::ed25519;
    for (std::size_t i = 0; i < b.key_fingerprint.size(); ++i)
        b.key_fingerprint[i] = static_cast<std::uint8_t>(i);
    b.signature.resize(64);
    for (std::size_t i = 0; i < b.signature.size(); ++i)
        b.signature[i] = static_cast<std::uint8_t>(0xff - i);
    return b;
}

const std::string sample_block_text =
    "-----BEGIN WEFT BNL SIGNATURE-----\n"
    "algorithm = ed25519\n"
    "key = sha256:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
    "signature = "
    "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eDf3t3c29rZ2NfW1dTT0tHQz87NzMvKycjHxsXEw8LBwA==\n"
    "-----END WEFT BNL SIGNATURE-----\n";

void expect_split_error(std::string_view file, bnl_errc code, std::string_view needle = {}) {
    auto r = weft::split_signed_bnl(file);
    BOOST_REQUIRE_MESSAGE(!r.has_value(), "split accepted; expected " << code_name(code));
    BOOST_TEST(code_name(r.error().code) == code_name(code));
    BOOST_TEST(r.error().line == 0u);
    if (!needle.empty())
        BOOST_CHECK_MESSAGE(r.error().message.find(needle) != std::string::npos,
                            "message \"" << r.error().message << "\" lacks \"" << needle << "\"");
}

// The sample file with one line of the block replaced.
std::string with_block_line(std::size_t index, std::string_view replacement) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < sample_block_text.size()) {
        auto nl = sample_block_text.find('\n', pos);
        lines.push_back(sample_block_text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    lines.at(index) = replacement;
    std::string out = body;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bnl_signature)

BOOST_AUTO_TEST_CASE(block_layout_is_exact) {
    BOOST_TEST(weft::format_signature_block(sample_block()) == sample_block_text);
    auto dsa = sample_block();
    dsa.algorithm = bnl_sig_algorithm::dsa_sha256;
    BOOST_TEST(weft::format_signature_block(dsa).find("\nalgorithm = dsa-sha256\n") !=
               std::string::npos);
    BOOST_TEST(std::string(weft::to_string(bnl_sig_algorithm::ed25519)) == "ed25519");
    BOOST_TEST(std::string(weft::to_string(bnl_sig_algorithm::dsa_sha256)) == "dsa-sha256");
}

BOOST_AUTO_TEST_CASE(signed_message_is_domain_then_body) {
    const auto msg = weft::bnl_signed_message(body);
    const std::string expected = "weft-bnl-signature-v1\n" + body;
    BOOST_TEST(msg.size() == 22 + body.size());
    BOOST_TEST(std::string(msg.begin(), msg.end()) == expected);
    BOOST_TEST(weft::bnl_signature_domain.size() == 22u);
    const auto empty = weft::bnl_signed_message("");
    BOOST_TEST(std::string(empty.begin(), empty.end()) == "weft-bnl-signature-v1\n");
}

BOOST_AUTO_TEST_CASE(split_returns_the_exact_body_and_block) {
    const std::string file = body + sample_block_text;
    auto r = weft::split_signed_bnl(file);
    BOOST_REQUIRE_MESSAGE(r.has_value(), error_text(r));
    BOOST_TEST(r->body == body);
    BOOST_TEST(static_cast<const void*>(r->body.data()) ==
               static_cast<const void*>(file.data()));  // a view into the file, not a copy
    BOOST_TEST((r->block == sample_block()));
}

BOOST_AUTO_TEST_CASE(split_accepts_an_empty_body) {
    auto r = weft::split_signed_bnl(sample_block_text);
    BOOST_REQUIRE_MESSAGE(r.has_value(), error_text(r));
    BOOST_TEST(r->body.empty());
    BOOST_TEST((r->block == sample_block()));
}

BOOST_AUTO_TEST_CASE(split_takes_the_last_block) {
    // Two blocks: the first is part of the body (and no signature can cover it).
    const std::string file = body + sample_block_text + sample_block_text;
    auto r = weft::split_signed_bnl(file);
    BOOST_REQUIRE_MESSAGE(r.has_value(), error_text(r));
    BOOST_TEST(r->body == body + sample_block_text);
}

BOOST_AUTO_TEST_CASE(format_and_split_round_trip_on_random_blocks) {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 500; ++i) {
        bnl_signature_block b;
        b.algorithm = rng() & 1 ? bnl_sig_algorithm::ed25519 : bnl_sig_algorithm::dsa_sha256;
        for (auto& x : b.key_fingerprint) x = static_cast<std::uint8_t>(rng());
        b.signature.resize(1 + rng() % weft::bnl_max_signature_bytes);
        for (auto& x : b.signature) x = static_cast<std::uint8_t>(rng());
        const std::string file = body + weft::format_signature_block(b);
        auto r = weft::split_signed_bnl(file);
        BOOST_TEST_CONTEXT("block #" << i << ", signature of " << b.signature.size() << " bytes") {
            BOOST_REQUIRE_MESSAGE(r.has_value(), error_text(r));
            BOOST_TEST(r->body == body);
            BOOST_TEST((r->block == b));
        }
    }
}

BOOST_AUTO_TEST_CASE(unsigned_file_is_unsigned_list) {
    expect_split_error(body, bnl_errc::unsigned_list, "not signed");
    expect_split_error("", bnl_errc::unsigned_list);
}

BOOST_AUTO_TEST_CASE(begin_marker_not_on_its_own_line) {
    // Glued to the last body line.
    std::string glued = body;
    glued.pop_back();
    expect_split_error(glued + sample_block_text, bnl_errc::bad_signature_block, "begin marker");
    // Followed by something on the same line.
    std::string tail = body + sample_block_text;
    tail.insert(body.size() + weft::bnl_block_begin.size(), " ");
    expect_split_error(tail, bnl_errc::bad_signature_block, "begin marker");
}

BOOST_AUTO_TEST_CASE(every_truncation_of_the_block_is_refused) {
    const std::string file = body + sample_block_text;
    const std::size_t marker_end = body.size() + weft::bnl_block_begin.size();
    for (std::size_t cut = 0; cut < file.size(); ++cut) {
        BOOST_TEST_CONTEXT("cut at " << cut << " of " << file.size()) {
            // Before the begin marker is complete there is no block at all;
            // with the marker but not its line end, the marker is not a line
            // of its own; after that, the block is truncated.
            const bnl_errc expected =
                cut < marker_end ? bnl_errc::unsigned_list : bnl_errc::bad_signature_block;
            expect_split_error(std::string_view(file).substr(0, cut), expected);
        }
    }
    // Without only the last LF: named as a truncation.
    expect_split_error(std::string_view(file).substr(0, file.size() - 1),
                       bnl_errc::bad_signature_block, "truncated");
}

BOOST_AUTO_TEST_CASE(trailing_data_after_the_end_marker) {
    const std::string file = body + sample_block_text;
    for (std::string extra : std::vector<std::string>{"x", "\n", " ", "\n\n", "# comment\n", "\t",
                                                      std::string(1, '\0')})
        BOOST_TEST_CONTEXT("extra '" << extra << "'") {
            expect_split_error(file + extra, bnl_errc::bad_signature_block, "end marker");
        }
}

BOOST_AUTO_TEST_CASE(malformed_block_lines) {
    // Line 0 is the begin marker, 1 algorithm, 2 key, 3 signature, 4 end marker.
    const std::string fp = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const std::string sig = weft::to_base64(sample_block().signature);
    struct bad_line {
        std::size_t index;
        std::string replacement;
        std::string needle;
    };
    const bad_line cases[] = {
        {1, "algorithm = rsa", "unknown algorithm 'rsa'"},
        {1, "algorithm = ED25519", "unknown algorithm"},
        {1, "algorithm = ed25519 ", "unknown algorithm"},
        {1, "algorithm=ed25519", "algorithm"},
        {1, "algorithm  = ed25519", "algorithm"},
        {1, "key = sha256:" + fp, "algorithm"},  // fields out of order
        {1, "", "algorithm"},
        {2, "key = sha256:" + fp.substr(2), "64 hex"},
        {2, "key = sha256:" + fp + "00", "64 hex"},
        {2, "key = sha512:" + fp, "64 hex"},
        {2, "key = " + fp, "64 hex"},
        {2, "key = sha256:000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
         "lowercase"},
        {2, "key = sha256:" + fp.substr(0, 63) + "g", "lowercase hex"},
        {2, "key=sha256:" + fp, "key"},
        {3, "signature = " + sig.substr(0, sig.size() - 1), "base64"},          // bad length
        {3, "signature = " + sig.substr(0, sig.size() - 3) + "B==", "base64"},  // padding bits set
        {3, "signature = " + sig + "=", "base64"},
        {3, "signature = ", "base64"},  // empty
        {3, "signature = " + sig.substr(0, 4) + " " + sig.substr(4), "base64"},
        {3, "signature = " + std::string(688, 'A'), "too long"},
        {3, "signature " + sig, "signature"},
        {4, "-----END WEFT BNL SIGNATURE----", "end marker"},
        {4, "-----END WEFT BNL SIGNATURE----- ", "end marker"},
        {4, "", "end marker"},
    };
    for (const auto& c : cases)
        BOOST_TEST_CONTEXT("line " << c.index << " = '" << c.replacement << "'") {
            expect_split_error(with_block_line(c.index, c.replacement),
                               bnl_errc::bad_signature_block, c.needle);
        }
}

// The algorithm line has no length limit: the refusal quotes a bounded part
// (the daemon escapes refusals of a peer's list as a whole; the
// distribution test checks that).
BOOST_AUTO_TEST_CASE(an_unknown_algorithm_is_quoted_bounded) {
    const std::string file = with_block_line(1, "algorithm = x" + std::string(5000, 'A'));
    expect_split_error(file, bnl_errc::bad_signature_block, "unknown algorithm 'xAAAA");
    auto r = weft::split_signed_bnl(file);
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().message.size() < 100u);
    BOOST_TEST(r.error().message.find("AAA...'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(signature_length_limit) {
    // bnl_max_signature_bytes is the largest signature a block may carry.
    bnl_signature_block b = sample_block();
    b.signature.assign(weft::bnl_max_signature_bytes, 0x5a);
    auto r = weft::split_signed_bnl(body + weft::format_signature_block(b));
    BOOST_REQUIRE_MESSAGE(r.has_value(), error_text(r));
    BOOST_TEST(r->block.signature.size() == weft::bnl_max_signature_bytes);
    for (std::size_t n : {weft::bnl_max_signature_bytes + 1, weft::bnl_max_signature_bytes + 2})
        BOOST_TEST_CONTEXT("signature of " << n << " bytes") {
            b.signature.assign(n, 0x5a);
            expect_split_error(body + weft::format_signature_block(b),
                               bnl_errc::bad_signature_block, "too long");
        }
}

BOOST_AUTO_TEST_CASE(crlf_in_the_block_is_refused) {
    std::string crlf;
    for (char c : sample_block_text) {
        if (c == '\n') crlf += '\r';
        crlf += c;
    }
    // The begin line then ends in CR LF: no begin marker on a line of its own.
    expect_split_error(body + crlf, bnl_errc::bad_signature_block);
}

BOOST_AUTO_TEST_CASE(files_over_16_mib_are_refused_first) {
    std::string file(weft::bnl_max_file_bytes - sample_block_text.size(), '#');
    file += "\n" + sample_block_text;
    BOOST_REQUIRE(file.size() == weft::bnl_max_file_bytes + 1);
    expect_split_error(file, bnl_errc::too_large, "16777217");
    // One byte less and it splits (the body is not parsed here).
    auto r = weft::split_signed_bnl(std::string_view(file).substr(1));
    BOOST_TEST(r.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
