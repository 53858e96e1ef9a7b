// core/algorithm_choice: the config syntax of the preference lists, the
// choice rule on tables worked out by hand, and a randomized check that the
// choice is symmetric, independent of list order, and equal to a slow
// reference that sorts every common id by (sum, tie order).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/algorithm_choice.hpp"

namespace {

using weft::algorithm_prefs;
using weft::choice_errc;
using weft::cipher_id;
using weft::compression_id;

constexpr auto aes256 = cipher_id::aes_256_gcm;
constexpr auto aes128 = cipher_id::aes_128_gcm;
constexpr auto chacha = cipher_id::chacha20_poly1305;
constexpr auto none = compression_id::none;
constexpr auto lz4 = compression_id::lz4;
constexpr auto zlib = compression_id::zlib;

algorithm_prefs prefs(std::string_view ciphers, std::string_view compression) {
    auto p = weft::parse_prefs(ciphers, compression);
    BOOST_REQUIRE_MESSAGE(p.has_value(), (p.has_value() ? std::string() : p.error().message));
    return std::move(p).value();
}

// "cipher/compression/level" or the error code's name: one string that
// prints well and compares the whole outcome.
std::string outcome(const weft::result<weft::algorithm_choice, weft::choice_error>& r) {
    if (!r) return weft::to_string(r.error().code);
    return std::string(weft::name(r->cipher)) + "/" + std::string(weft::name(r->compression)) +
           "/" + std::to_string(r->level);
}

// Both argument orders must agree; returns the outcome.
std::string choose_both_ways(const algorithm_prefs& a, const algorithm_prefs& b) {
    const std::string ab = outcome(weft::choose(a, b));
    const std::string ba = outcome(weft::choose(b, a));
    BOOST_TEST(ab == ba);
    return ab;
}

// The token an error names, or "ok".
template <class R>
std::string bad_token(const R& r) {
    return r.has_value() ? "ok" : "'" + r.error().token + "'";
}

std::uint64_t test_seed() {
    if (const char* s = std::getenv("WEFT_TEST_SEED")) return std::strtoull(s, nullptr, 10);
    return std::random_device{}();
}

// Slow reference: every id in both lists, ranked by the sum of its two
// preferences (higher first), then by its place in the tie order.
template <class Pref, class Id, std::size_t N>
std::optional<std::pair<Id, std::uint8_t>> reference_pick(const std::vector<Pref>& a,
                                                          const std::vector<Pref>& b,
                                                          Id Pref::*field,
                                                          const std::array<Id, N>& order) {
    struct cand {
        int sum;
        std::size_t rank;
        Id id;
        std::uint8_t level;
    };
    std::vector<cand> all;
    for (const auto& x : a) {
        for (const auto& y : b) {
            if (x.*field != y.*field) continue;
            const auto rank = static_cast<std::size_t>(
                std::find(order.begin(), order.end(), x.*field) - order.begin());
            std::uint8_t level = 0;
            if constexpr (std::is_same_v<Pref, weft::compression_pref>)
                level = std::max(x.level, y.level);
            all.push_back({x.preference + y.preference, rank, x.*field, level});
        }
    }
    if (all.empty()) return std::nullopt;
    std::sort(all.begin(), all.end(), [](const cand& l, const cand& r) {
        return l.sum != r.sum ? l.sum > r.sum : l.rank < r.rank;
    });
    return std::pair{all.front().id, all.front().level};
}

std::string reference_outcome(const algorithm_prefs& a, const algorithm_prefs& b) {
    auto c = reference_pick(a.ciphers, b.ciphers, &weft::cipher_pref::cipher,
                            weft::cipher_tie_order);
    if (!c) return "no common cipher";
    auto z = reference_pick(a.compressions, b.compressions, &weft::compression_pref::compression,
                            weft::compression_tie_order);
    if (!z) return "no common compression";
    return std::string(weft::name(c->first)) + "/" + std::string(weft::name(z->first)) + "/" +
           std::to_string(z->second);
}

// A valid random list: a random subset of the ids in random order, with
// preferences drawn mostly from a small range so that ties are common.
algorithm_prefs random_prefs(std::mt19937_64& rng) {
    auto pref = [&rng]() -> std::uint8_t {
        switch (rng() % 4) {
            case 0: return 0;
            case 1: return 255;
            default: return static_cast<std::uint8_t>(rng() % 6);
        }
    };
    algorithm_prefs p;
    for (auto c : weft::all_cipher_ids)
        if (rng() % 3 != 0) p.ciphers.push_back({c, pref()});
    for (auto z : weft::all_compression_ids) {
        if (rng() % 3 == 0) continue;
        const auto r = weft::compression_levels(z);
        const auto level = static_cast<std::uint8_t>(r.min + rng() % (r.max - r.min + 1u));
        p.compressions.push_back({z, level, pref()});
    }
    std::shuffle(p.ciphers.begin(), p.ciphers.end(), rng);
    std::shuffle(p.compressions.begin(), p.compressions.end(), rng);
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(algorithm_choice)

// --------------------------------------------------------- parsing --

BOOST_AUTO_TEST_CASE(defaults_are_the_documented_strings) {
    BOOST_TEST(weft::default_cipher_prefs == "aes-256-gcm:10 chacha20-poly1305:8 aes-128-gcm:5");
    BOOST_TEST(weft::default_compression_prefs == "none:0:5 lz4:1:3 zlib:6:1");
    const algorithm_prefs expected{{{aes256, 10}, {chacha, 8}, {aes128, 5}},
                                   {{none, 0, 5}, {lz4, 1, 3}, {zlib, 6, 1}}};
    BOOST_CHECK(weft::default_prefs() == expected);
}

BOOST_AUTO_TEST_CASE(parse_accepts_any_spacing_and_order) {
    auto c = weft::parse_cipher_prefs("\t chacha20-poly1305:0   aes-128-gcm:255\t");
    BOOST_REQUIRE(c.has_value());
    BOOST_CHECK(*c == (std::vector<weft::cipher_pref>{{chacha, 0}, {aes128, 255}}));
    auto z = weft::parse_compression_prefs("zlib:9:0 lz4:12:255");
    BOOST_REQUIRE(z.has_value());
    BOOST_CHECK(*z == (std::vector<weft::compression_pref>{{zlib, 9, 0}, {lz4, 12, 255}}));
    // Leading zeros are harmless in a config file.
    auto l = weft::parse_cipher_prefs("aes-256-gcm:007");
    BOOST_REQUIRE(l.has_value());
    BOOST_TEST(l->front().preference == 7);
}

BOOST_AUTO_TEST_CASE(cipher_errors_name_the_token) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"aes-256-gcm:10 aes-512-gcm:3", "'aes-512-gcm:3'"},      // unknown name
        {"AES-256-GCM:10", "'AES-256-GCM:10'"},                   // names are lower case
        {"aes-256-gcm:10 chacha20-poly1305", "'chacha20-poly1305'"},  // no preference
        {"aes-256-gcm:", "'aes-256-gcm:'"},                       // empty number
        {"aes-256-gcm:x", "'aes-256-gcm:x'"},                     // not a number
        {"aes-256-gcm:256", "'aes-256-gcm:256'"},                 // over 255
        {"aes-256-gcm:-1", "'aes-256-gcm:-1'"},                   // signed
        {"aes-256-gcm:+1", "'aes-256-gcm:+1'"},
        {"aes-256-gcm:1000", "'aes-256-gcm:1000'"},
        {"aes-256-gcm:1:2", "'aes-256-gcm:1:2'"},                 // a level where none belongs
        {"aes-256-gcm:10 aes-128-gcm:5 aes-256-gcm:1", "'aes-256-gcm:1'"},  // duplicate
        {"", "''"},                                               // empty list
        {"  \t ", "''"},
    };
    for (auto [text, token] : cases) {
        BOOST_TEST_CONTEXT("'" << text << "'") {
            auto r = weft::parse_cipher_prefs(text);
            BOOST_TEST(bad_token(r) == token);
            if (!r) BOOST_TEST(r.error().message.find("ciphers: ") == 0u);
        }
    }
    auto r = weft::parse_cipher_prefs("aes-256-gcm:1 aes-512-gcm:3");
    BOOST_TEST(r.error().message == "ciphers: unknown cipher 'aes-512-gcm' in 'aes-512-gcm:3'");
    r = weft::parse_cipher_prefs("aes-256-gcm:1 aes-256-gcm:2");
    BOOST_TEST(r.error().message == "ciphers: duplicate cipher 'aes-256-gcm' in 'aes-256-gcm:2'");
    r = weft::parse_cipher_prefs(" ");
    BOOST_TEST(r.error().message == "ciphers: empty list");
}

BOOST_AUTO_TEST_CASE(compression_errors_name_the_token) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"none:0:5 lz5:1:3", "'lz5:1:3'"},        // unknown name
        {"none:5", "'none:5'"},                   // no level
        {"none:0:5:1", "'none:0:5:1'"},           // one field too many
        {"none:1:5", "'none:1:5'"},               // level out of range
        {"lz4:0:3", "'lz4:0:3'"},
        {"lz4:13:3", "'lz4:13:3'"},
        {"zlib:0:1", "'zlib:0:1'"},
        {"zlib:10:1", "'zlib:10:1'"},
        {"zlib:x:1", "'zlib:x:1'"},
        {"zlib:6:256", "'zlib:6:256'"},           // preference out of range
        {"zlib:6:", "'zlib:6:'"},
        {"lz4:1:3 none:0:1 lz4:9:9", "'lz4:9:9'"},  // duplicate
        {"", "''"},
    };
    for (auto [text, token] : cases) {
        BOOST_TEST_CONTEXT("'" << text << "'") {
            auto r = weft::parse_compression_prefs(text);
            BOOST_TEST(bad_token(r) == token);
            if (!r) BOOST_TEST(r.error().message.find("compression: ") == 0u);
        }
    }
    auto r = weft::parse_compression_prefs("lz4:13:3");
    BOOST_TEST(r.error().message ==
               "compression: level '13' out of range 1..12 for lz4 in 'lz4:13:3'");
}

BOOST_AUTO_TEST_CASE(parse_prefs_reports_the_first_bad_list) {
    auto r = weft::parse_prefs("aes-256-gcm:1", "lz4:99:1");
    BOOST_TEST(bad_token(r) == "'lz4:99:1'");
    r = weft::parse_prefs("nope:1", "lz4:99:1");
    BOOST_TEST(bad_token(r) == "'nope:1'");
}

BOOST_AUTO_TEST_CASE(format_is_the_inverse_of_parse) {
    const auto d = weft::default_prefs();
    BOOST_TEST(weft::format_cipher_prefs(d.ciphers) == weft::default_cipher_prefs);
    BOOST_TEST(weft::format_compression_prefs(d.compressions) == weft::default_compression_prefs);
    BOOST_TEST(weft::describe(d) ==
               "ciphers [aes-256-gcm:10 chacha20-poly1305:8 aes-128-gcm:5] "
               "compression [none:0:5 lz4:1:3 zlib:6:1]");
    BOOST_TEST(weft::describe(algorithm_prefs{}) == "ciphers [] compression []");
}

// ---------------------------------------------------------- choice --

BOOST_AUTO_TEST_CASE(choice_tables) {
    struct row {
        const char* why;
        std::string_view a_ciphers, a_comp, b_ciphers, b_comp;
        std::string_view expected;
    };
    const row rows[] = {
        {"defaults on both sides", weft::default_cipher_prefs, weft::default_compression_prefs,
         weft::default_cipher_prefs, weft::default_compression_prefs, "aes-256-gcm/none/0"},
        {"highest sum wins over one side's favourite: 10+1 < 8+5",
         "aes-256-gcm:10 chacha20-poly1305:8", "none:0:1",
         "aes-256-gcm:1 chacha20-poly1305:5", "none:0:1", "chacha20-poly1305/none/0"},
        {"three-way tie goes to aes-256-gcm", "aes-128-gcm:5 chacha20-poly1305:5 aes-256-gcm:5",
         "none:0:1", "aes-256-gcm:5 aes-128-gcm:5 chacha20-poly1305:5", "none:0:1",
         "aes-256-gcm/none/0"},
        {"tie chacha (3+7) vs aes-128 (7+3): chacha comes first",
         "chacha20-poly1305:3 aes-128-gcm:7", "none:0:1",
         "aes-128-gcm:3 chacha20-poly1305:7", "none:0:1", "chacha20-poly1305/none/0"},
        {"tie aes-128 vs aes-256, listed aes-128 first", "aes-128-gcm:4 aes-256-gcm:2",
         "none:0:1", "aes-128-gcm:2 aes-256-gcm:4", "none:0:1", "aes-256-gcm/none/0"},
        {"zero preferences still count: the only common cipher", "aes-128-gcm:0", "none:0:0",
         "aes-256-gcm:9 aes-128-gcm:0", "none:0:0", "aes-128-gcm/none/0"},
        {"all zero: tie order decides", "chacha20-poly1305:0 aes-256-gcm:0", "zlib:1:0 lz4:1:0",
         "aes-256-gcm:0 chacha20-poly1305:0", "lz4:1:0 zlib:1:0", "aes-256-gcm/lz4/1"},
        {"one-sided lists: only chacha is on both", "chacha20-poly1305:1", "lz4:3:1",
         weft::default_cipher_prefs, weft::default_compression_prefs,
         "chacha20-poly1305/lz4/3"},
        {"a cipher only one side has cannot win however preferred",
         "aes-256-gcm:255 aes-128-gcm:0", "none:0:1", "aes-128-gcm:0 chacha20-poly1305:255",
         "none:0:1", "aes-128-gcm/none/0"},
        {"255+255 does not overflow", "aes-128-gcm:255 aes-256-gcm:254", "none:0:1",
         "aes-256-gcm:255 aes-128-gcm:255", "none:0:1", "aes-128-gcm/none/0"},
        {"no common cipher", "aes-256-gcm:10", "none:0:5", "chacha20-poly1305:10", "none:0:5",
         "no common cipher"},
        {"no common compression", "aes-256-gcm:10", "none:0:5", "aes-256-gcm:10", "lz4:1:5",
         "no common compression"},
        {"nothing in common: the cipher is reported", "aes-256-gcm:10", "none:0:5",
         "aes-128-gcm:10", "zlib:1:5", "no common cipher"},
        {"level is the higher of the two", "aes-256-gcm:1", "lz4:1:9", "aes-256-gcm:1",
         "lz4:12:9", "aes-256-gcm/lz4/12"},
        {"level max with zlib, preferred on sum", "aes-256-gcm:1", "none:0:1 zlib:6:5",
         "aes-256-gcm:1", "zlib:3:5 none:0:4", "aes-256-gcm/zlib/6"},
        {"level of the winner, not of the loser", "aes-256-gcm:1", "lz4:12:1 zlib:2:9",
         "aes-256-gcm:1", "lz4:1:1 zlib:1:9", "aes-256-gcm/zlib/2"},
        {"compression tie none vs lz4 goes to none", "aes-256-gcm:1", "lz4:9:3 none:0:5",
         "aes-256-gcm:1", "lz4:1:5 none:0:3", "aes-256-gcm/none/0"},
        {"compression tie lz4 vs zlib goes to lz4", "aes-256-gcm:1", "zlib:9:4 lz4:2:4",
         "aes-256-gcm:1", "zlib:1:4 lz4:5:4", "aes-256-gcm/lz4/5"},
        {"default against a compression-keen peer: none 5+0 vs lz4 3+9",
         weft::default_cipher_prefs, weft::default_compression_prefs, weft::default_cipher_prefs,
         "none:0:0 lz4:4:9", "aes-256-gcm/lz4/4"},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.why) {
            const auto a = prefs(r.a_ciphers, r.a_comp);
            const auto b = prefs(r.b_ciphers, r.b_comp);
            BOOST_TEST(choose_both_ways(a, b) == r.expected);
            BOOST_TEST(reference_outcome(a, b) == r.expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(empty_and_unknown_entries) {
    const auto d = weft::default_prefs();
    BOOST_TEST(choose_both_ways(d, algorithm_prefs{}) == "no common cipher");
    BOOST_TEST(choose_both_ways(algorithm_prefs{}, algorithm_prefs{}) == "no common cipher");
    // Hand-built lists with ids outside the enumeration: those entries are
    // ignored, never chosen.
    algorithm_prefs odd{{{static_cast<cipher_id>(9), 255}, {aes128, 1}},
                        {{static_cast<compression_id>(5), 3, 255}, {zlib, 2, 1}}};
    algorithm_prefs odd2{{{static_cast<cipher_id>(9), 255}, {aes128, 1}},
                         {{static_cast<compression_id>(5), 3, 255}, {zlib, 4, 1}}};
    BOOST_TEST(choose_both_ways(odd, odd2) == "aes-128-gcm/zlib/4");
    // A duplicate in a hand-built list: its first entry counts.
    algorithm_prefs dup{{{aes128, 0}, {aes128, 200}, {aes256, 5}}, {{none, 0, 1}}};
    BOOST_TEST(choose_both_ways(dup, d) == "aes-256-gcm/none/0");
}

BOOST_AUTO_TEST_CASE(errors_name_both_lists_and_map_to_wire_codes) {
    const auto a = prefs("aes-256-gcm:10", "none:0:5");
    const auto b = prefs("chacha20-poly1305:7", "none:0:5");
    auto r = weft::choose(a, b);
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message ==
               "no common cipher: ours [aes-256-gcm:10], theirs [chacha20-poly1305:7]");
    BOOST_CHECK(weft::wire_code(r.error().code) == weft::error_msg_code::no_common_cipher);
    BOOST_CHECK(weft::wire_code(choice_errc::no_common_compression) ==
                weft::error_msg_code::no_common_compression);
    auto z = weft::choose(a, prefs("aes-256-gcm:1", "zlib:2:3"));
    BOOST_REQUIRE(!z.has_value());
    BOOST_TEST(z.error().message == "no common compression: ours [none:0:5], theirs [zlib:2:3]");
}

BOOST_AUTO_TEST_CASE(choice_is_symmetric_on_random_lists) {
    const auto seed = test_seed();
    std::cout << "algorithm_choice symmetry test: seed " << seed
              << " (set WEFT_TEST_SEED to repeat)\n";
    std::mt19937_64 rng(seed);
    BOOST_TEST_CONTEXT("seed " << seed) {
        for (int i = 0; i < 20000; ++i) {
            const auto a = random_prefs(rng);
            const auto b = random_prefs(rng);
            const auto ab = weft::choose(a, b);
            const auto ba = weft::choose(b, a);
            // Checked without BOOST_TEST on the happy path: 20000 passing
            // assertions would drown the log.
            const std::string oab = outcome(ab), oba = outcome(ba), ref = reference_outcome(a, b);
            if (oab != oba || oab != ref) {
                BOOST_TEST_CONTEXT("a = " << weft::describe(a) << ", b = " << weft::describe(b)) {
                    BOOST_TEST(oab == oba);
                    BOOST_TEST(oab == ref);
                }
                break;
            }
            // The order of either list never matters.
            auto a2 = a;
            std::reverse(a2.ciphers.begin(), a2.ciphers.end());
            std::reverse(a2.compressions.begin(), a2.compressions.end());
            if (outcome(weft::choose(a2, b)) != oab) {
                BOOST_TEST_CONTEXT("a = " << weft::describe(a) << ", b = " << weft::describe(b)) {
                    BOOST_TEST(outcome(weft::choose(a2, b)) == oab);
                }
                break;
            }
        }
    }
}

// ------------------------------------------------------- PROPOSE --

BOOST_AUTO_TEST_CASE(propose_conversion_round_trips_through_the_wire) {
    const auto d = prefs("chacha20-poly1305:3 aes-128-gcm:200", "zlib:9:1 none:0:0");
    const auto m = weft::to_propose(d, 77);
    BOOST_TEST(m.epoch == 77u);
    auto decoded = weft::decode(weft::encode(m));
    BOOST_REQUIRE(decoded.has_value());
    const auto& back = std::get<weft::propose_msg>(*decoded);
    BOOST_CHECK(back == m);
    BOOST_CHECK(weft::prefs_of(back) == d);
}

BOOST_AUTO_TEST_SUITE_END()
