// core/key_schedule: the exporter context byte for byte (written out from
// NEGOTIATION.md), the CONFIRM hash, and the split of the exporter output into
// mirrored directions: what one side sends with, the other receives with.
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/hex.hpp"
#include "core/key_schedule.hpp"
#include "crypto/aead.hpp"

namespace {

using weft::cipher_id;
using weft::compression_id;

std::string hex_of(std::span<const std::uint8_t> b) { return weft::to_hex(b); }

// Exporter output stand-in: byte i is i, so each block is recognisable.
std::vector<std::uint8_t> counting_bytes(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i);
    return v;
}

template <class R>
std::string code_of(const R& r) {
    return r.has_value() ? "ok" : weft::to_string(r.error().code);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(key_schedule)

BOOST_AUTO_TEST_CASE(label_and_context_bytes) {
    BOOST_TEST(weft::exporter_label == "EXPORTER-weft-pair-keys-v1");
    const auto ctx = weft::key_context(7, 3, cipher_id::chacha20_poly1305, compression_id::lz4, 4,
                                       0x01020304);
    // "weft-pair-v1" | lower id 3 | higher id 7 | cipher 3 | lz4 1 | level 4 | epoch
    BOOST_TEST(hex_of(ctx) ==
               "776566742d706169722d7631" "00000003" "00000007" "03" "01" "04" "01020304");
    BOOST_TEST(ctx.size() == weft::key_context_size);
}

BOOST_AUTO_TEST_CASE(context_is_independent_of_argument_order) {
    const std::pair<std::uint32_t, std::uint32_t> pairs[] = {
        {1, 2}, {3, 7}, {0xffffffff, 1}, {0x80000000, 0x7fffffff}, {5, 5}};
    for (auto [a, b] : pairs) {
        BOOST_TEST_CONTEXT(a << "," << b) {
            BOOST_TEST(hex_of(weft::key_context(a, b, cipher_id::aes_256_gcm,
                                                compression_id::none, 0, 9)) ==
                       hex_of(weft::key_context(b, a, cipher_id::aes_256_gcm,
                                                compression_id::none, 0, 9)));
        }
    }
}

BOOST_AUTO_TEST_CASE(every_bound_value_changes_the_context_and_hash) {
    const auto base =
        weft::key_context(1, 2, cipher_id::aes_256_gcm, compression_id::lz4, 1, 100);
    const std::vector<std::uint8_t> variants[] = {
        weft::key_context(1, 2, cipher_id::aes_256_gcm, compression_id::lz4, 1, 101),  // epoch
        weft::key_context(1, 2, cipher_id::aes_128_gcm, compression_id::lz4, 1, 100),  // cipher
        weft::key_context(1, 2, cipher_id::chacha20_poly1305, compression_id::lz4, 1, 100),
        weft::key_context(1, 2, cipher_id::aes_256_gcm, compression_id::zlib, 1,
                          100),  // compression
        weft::key_context(1, 2, cipher_id::aes_256_gcm, compression_id::lz4, 2, 100),  // level
        weft::key_context(1, 3, cipher_id::aes_256_gcm, compression_id::lz4, 1, 100),  // peer
        weft::key_context(0, 2, cipher_id::aes_256_gcm, compression_id::lz4, 1, 100),
    };
    for (std::size_t i = 0; i < std::size(variants); ++i) {
        BOOST_TEST_CONTEXT("variant " << i) {
            BOOST_TEST(hex_of(variants[i]) != hex_of(base));
            BOOST_TEST(hex_of(weft::confirm_hash(variants[i])) != hex_of(weft::confirm_hash(base)));
        }
    }
}

BOOST_AUTO_TEST_CASE(confirm_hash_is_sha256_of_the_context) {
    const auto ctx = weft::key_context(3, 7, cipher_id::chacha20_poly1305, compression_id::lz4, 4,
                                       0x01020304);
    // Computed independently (Python hashlib) over the bytes of the test above.
    BOOST_TEST(hex_of(weft::confirm_hash(ctx)) ==
               "fb098e20cd577866c3ea6f09a6b69af125d558f5ebe1a693b87c85b9e8da46f6");
}

BOOST_AUTO_TEST_CASE(exporter_lengths) {
    BOOST_TEST(weft::exporter_length(cipher_id::aes_256_gcm) == 2u * (32 + 12));
    BOOST_TEST(weft::exporter_length(cipher_id::aes_128_gcm) == 2u * (16 + 12));
    BOOST_TEST(weft::exporter_length(cipher_id::chacha20_poly1305) == 2u * (32 + 12));
    BOOST_TEST(weft::exporter_length(static_cast<cipher_id>(0)) == 0u);
    BOOST_TEST(weft::exporter_length(static_cast<cipher_id>(4)) == 0u);
}

BOOST_AUTO_TEST_CASE(cipher_ids_match_the_aead_algorithms) {
    for (auto c : weft::all_cipher_ids) {
        BOOST_TEST_CONTEXT(weft::name(c)) {
            BOOST_TEST(weft::crypto::name(weft::aead_of(c)) == weft::name(c));
            BOOST_CHECK(weft::crypto::parse_aead_algorithm(weft::name(c)) == weft::aead_of(c));
        }
    }
}

BOOST_AUTO_TEST_CASE(both_sides_get_mirrored_keys) {
    for (auto c : weft::all_cipher_ids) {
        BOOST_TEST_CONTEXT(weft::name(c)) {
            const std::size_t key_len = weft::crypto::key_size(weft::aead_of(c));
            const auto out = counting_bytes(weft::exporter_length(c));
            const std::span<const std::uint8_t> all(out);
            const auto first_key = all.subspan(0, key_len);
            const auto first_salt = all.subspan(key_len, 12);
            const auto second_key = all.subspan(key_len + 12, key_len);
            const auto second_salt = all.subspan(2 * key_len + 12, 12);

            // Node 5 is lower than node 9: it sends on the first block.
            auto lower = weft::split_keys(5, 9, c, out);
            auto higher = weft::split_keys(9, 5, c, out);
            BOOST_REQUIRE(lower.has_value());
            BOOST_REQUIRE(higher.has_value());
            BOOST_TEST(hex_of(lower->tx_key.span()) == hex_of(first_key));
            BOOST_TEST(hex_of(lower->tx_salt.span()) == hex_of(first_salt));
            BOOST_TEST(hex_of(lower->rx_key.span()) == hex_of(second_key));
            BOOST_TEST(hex_of(lower->rx_salt.span()) == hex_of(second_salt));

            BOOST_TEST(hex_of(higher->tx_key.span()) == hex_of(lower->rx_key.span()));
            BOOST_TEST(hex_of(higher->tx_salt.span()) == hex_of(lower->rx_salt.span()));
            BOOST_TEST(hex_of(higher->rx_key.span()) == hex_of(lower->tx_key.span()));
            BOOST_TEST(hex_of(higher->rx_salt.span()) == hex_of(lower->tx_salt.span()));
            BOOST_TEST(hex_of(lower->tx_key.span()) != hex_of(lower->rx_key.span()));
        }
    }
}

BOOST_AUTO_TEST_CASE(lower_is_numeric_not_first_argument) {
    // 0xffffffff is the higher id however the arguments come.
    const auto out = counting_bytes(weft::exporter_length(cipher_id::aes_128_gcm));
    auto big = weft::split_keys(0xffffffff, 1, cipher_id::aes_128_gcm, out);
    auto small = weft::split_keys(1, 0xffffffff, cipher_id::aes_128_gcm, out);
    BOOST_REQUIRE(big.has_value());
    BOOST_REQUIRE(small.has_value());
    BOOST_TEST(big->tx_key.span()[0] == 28);   // second block starts at 16 + 12
    BOOST_TEST(small->tx_key.span()[0] == 0);
    BOOST_TEST(big->tx_key.size() == 16u);
}

BOOST_AUTO_TEST_CASE(derived_keys_work_across_the_pair) {
    // What A seals with its tx key, B opens with its rx key, and not with its
    // tx key: a frame cannot be reflected back to its sender.
    for (auto c : weft::all_cipher_ids) {
        BOOST_TEST_CONTEXT(weft::name(c)) {
            std::vector<std::uint8_t> out(weft::exporter_length(c));
            for (std::size_t i = 0; i < out.size(); ++i)
                out[i] = static_cast<std::uint8_t>(i * 37 + 11);
            auto a = weft::split_keys(100, 200, c, out);
            auto b = weft::split_keys(200, 100, c, out);
            BOOST_REQUIRE(a.has_value());
            BOOST_REQUIRE(b.has_value());
            auto a_tx = weft::crypto::aead_key::create(weft::aead_of(c), a->tx_key.span());
            auto b_rx = weft::crypto::aead_key::create(weft::aead_of(c), b->rx_key.span());
            auto b_tx = weft::crypto::aead_key::create(weft::aead_of(c), b->tx_key.span());
            BOOST_REQUIRE(a_tx.has_value());
            BOOST_REQUIRE(b_rx.has_value());
            BOOST_REQUIRE(b_tx.has_value());

            std::array<std::uint8_t, 12> nonce{};
            std::copy(a->tx_salt.span().begin(), a->tx_salt.span().end(), nonce.begin());
            const std::array<std::uint8_t, 4> aad{1, 2, 3, 4};
            std::vector<std::uint8_t> text{'h', 'e', 'l', 'l', 'o'};
            std::array<std::uint8_t, 16> tag{};
            BOOST_REQUIRE(a_tx->seal(nonce, aad, text, tag));
            auto reflected = text;
            BOOST_TEST(!b_tx->open(nonce, aad, reflected, tag));
            BOOST_TEST(b_rx->open(nonce, aad, text, tag));
            BOOST_TEST(std::string(text.begin(), text.end()) == "hello");
        }
    }
}

BOOST_AUTO_TEST_CASE(wrong_exporter_length_is_rejected) {
    for (auto c : weft::all_cipher_ids) {
        const std::size_t n = weft::exporter_length(c);
        for (std::size_t len : {std::size_t{0}, n - 1, n + 1, n / 2, 2 * n}) {
            BOOST_TEST_CONTEXT(weft::name(c) << " with " << len << " bytes") {
                BOOST_TEST(code_of(weft::split_keys(1, 2, c, counting_bytes(len))) ==
                           weft::to_string(weft::key_errc::wrong_length));
            }
        }
    }
    // AES-128 wants 56 bytes; 88 (the AES-256 length) is wrong too.
    auto r = weft::split_keys(1, 2, cipher_id::aes_128_gcm, counting_bytes(88));
    BOOST_TEST(code_of(r) == weft::to_string(weft::key_errc::wrong_length));
    BOOST_TEST(r.error().message == "exporter output of 88 bytes for aes-128-gcm (needs 56)");
}

BOOST_AUTO_TEST_CASE(same_node_and_unknown_cipher_are_rejected) {
    BOOST_TEST(code_of(weft::split_keys(4, 4, cipher_id::aes_256_gcm, counting_bytes(88))) ==
               weft::to_string(weft::key_errc::same_node));
    BOOST_TEST(code_of(weft::split_keys(1, 2, static_cast<cipher_id>(7), counting_bytes(88))) ==
               weft::to_string(weft::key_errc::unknown_cipher));
}

BOOST_AUTO_TEST_SUITE_END()
