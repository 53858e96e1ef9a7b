#include "core/prefix_table.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wire/ip.hpp"

namespace {

using weft::ip_address;
using weft::ip_family;
using weft::ip_prefix;
using table = weft::prefix_table<int>;

ip_prefix pfx(std::string_view text) {
    auto r = weft::parse_prefix(text);
    BOOST_REQUIRE_MESSAGE(r.prefix, "bad test prefix " << text);
    return *r.prefix;
}

ip_address addr(std::string_view text) {
    auto r = weft::parse_ip(text);
    BOOST_REQUIRE_MESSAGE(r, "bad test address " << text);
    return *r;
}

// The value lookup() finds, or -1 for none.
int value_at(const table& t, std::string_view address) {
    const int* v = t.lookup(addr(address));
    return v ? *v : -1;
}

// The prefix lookup_prefix() matched, as text, or "none".
std::string matched(const table& t, std::string_view address) {
    auto m = t.lookup_prefix(addr(address));
    return m ? weft::to_string(m->first) : std::string("none");
}

// Every entry as "prefix=value", space-separated, in for_each order.
std::string entries(const table& t) {
    std::string out;
    t.for_each([&out](const ip_prefix& p, const int& v) {
        out += (out.empty() ? "" : " ") + weft::to_string(p) + "=" + std::to_string(v);
    });
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prefix_table)

BOOST_AUTO_TEST_CASE(empty_table_matches_nothing) {
    table t;
    BOOST_TEST(t.size() == 0u);
    BOOST_TEST(t.node_count() == 0u);
    BOOST_TEST(t.lookup(addr("10.0.0.1")) == nullptr);
    BOOST_TEST(t.lookup(addr("::")) == nullptr);
    BOOST_TEST(!t.lookup_prefix(addr("0.0.0.0")));
    BOOST_TEST(t.find_exact(pfx("0.0.0.0/0")) == nullptr);
    BOOST_TEST(!t.erase(pfx("0.0.0.0/0")));
    BOOST_TEST(entries(t).empty());
}

BOOST_AUTO_TEST_CASE(nested_prefixes_longest_wins) {
    table t;
    BOOST_TEST(t.insert(pfx("10.1.2.0/24"), 3));  // inserted out of order on purpose
    BOOST_TEST(t.insert(pfx("10.0.0.0/8"), 1));
    BOOST_TEST(t.insert(pfx("10.1.2.3/32"), 5));
    BOOST_TEST(t.insert(pfx("10.1.0.0/16"), 2));
    BOOST_TEST(t.insert(pfx("10.1.2.128/25"), 4));
    BOOST_TEST(t.size() == 5u);

    BOOST_TEST(value_at(t, "10.1.2.3") == 5);
    BOOST_TEST(value_at(t, "10.1.2.2") == 3);
    BOOST_TEST(value_at(t, "10.1.2.4") == 3);
    BOOST_TEST(value_at(t, "10.1.2.127") == 3);
    BOOST_TEST(value_at(t, "10.1.2.128") == 4);
    BOOST_TEST(value_at(t, "10.1.2.255") == 4);
    BOOST_TEST(value_at(t, "10.1.3.0") == 2);
    BOOST_TEST(value_at(t, "10.1.255.255") == 2);
    BOOST_TEST(value_at(t, "10.2.0.0") == 1);
    BOOST_TEST(value_at(t, "10.0.255.255") == 1);
    BOOST_TEST(value_at(t, "10.255.255.255") == 1);
    BOOST_TEST(value_at(t, "9.255.255.255") == -1);
    BOOST_TEST(value_at(t, "11.0.0.0") == -1);

    BOOST_TEST(matched(t, "10.1.2.200") == "10.1.2.128/25");
    BOOST_TEST(matched(t, "10.1.2.3") == "10.1.2.3/32");
    BOOST_TEST(matched(t, "10.9.9.9") == "10.0.0.0/8");
    BOOST_TEST(matched(t, "192.168.0.1") == "none");
    auto m = t.lookup_prefix(addr("10.1.7.7"));
    BOOST_REQUIRE(m);
    BOOST_TEST(*m->second == 2);
}

BOOST_AUTO_TEST_CASE(ipv6_nested_prefixes) {
    table t;
    t.insert(pfx("fd00::/8"), 1);
    t.insert(pfx("fd00:1234::/32"), 2);
    t.insert(pfx("fd00:1234:5678::/48"), 3);
    t.insert(pfx("fd00:1234:5678:9abc::/64"), 4);
    t.insert(pfx("fd00:1234:5678:9abc::/65"), 5);
    BOOST_TEST(value_at(t, "fd00:1234:5678:9abc::1") == 5);
    BOOST_TEST(value_at(t, "fd00:1234:5678:9abc:7fff:ffff:ffff:ffff") == 5);
    BOOST_TEST(value_at(t, "fd00:1234:5678:9abc:8000::") == 4);
    BOOST_TEST(value_at(t, "fd00:1234:5678:9abd::") == 3);
    BOOST_TEST(value_at(t, "fd00:1234:5679::") == 2);
    BOOST_TEST(value_at(t, "fd00:1235::") == 1);
    BOOST_TEST(value_at(t, "fdff:ffff::") == 1);
    BOOST_TEST(value_at(t, "fe00::") == -1);
    BOOST_TEST(value_at(t, "fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == -1);
    BOOST_TEST(matched(t, "fd00:1234:5678:9abc:ffff::") == "fd00:1234:5678:9abc::/64");
}

BOOST_AUTO_TEST_CASE(default_routes) {
    table t;
    BOOST_TEST(t.insert(pfx("0.0.0.0/0"), 40));
    BOOST_TEST(value_at(t, "0.0.0.0") == 40);
    BOOST_TEST(value_at(t, "255.255.255.255") == 40);
    BOOST_TEST(value_at(t, "::") == -1);  // a v4 default is not a v6 default
    BOOST_TEST(t.insert(pfx("::/0"), 60));
    BOOST_TEST(value_at(t, "::") == 60);
    BOOST_TEST(value_at(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == 60);
    BOOST_TEST(matched(t, "1.2.3.4") == "0.0.0.0/0");
    BOOST_TEST(matched(t, "2001:db8::1") == "::/0");

    t.insert(pfx("128.0.0.0/1"), 41);
    BOOST_TEST(value_at(t, "127.255.255.255") == 40);
    BOOST_TEST(value_at(t, "128.0.0.0") == 41);
    BOOST_TEST(t.erase(pfx("0.0.0.0/0")));
    BOOST_TEST(value_at(t, "127.255.255.255") == -1);
    BOOST_TEST(value_at(t, "128.0.0.0") == 41);
    BOOST_TEST(value_at(t, "::1") == 60);
}

BOOST_AUTO_TEST_CASE(host_routes_32_and_128) {
    table t;
    t.insert(pfx("192.0.2.1/32"), 1);
    t.insert(pfx("192.0.2.0/32"), 0);  // differs in the very last bit
    t.insert(pfx("255.255.255.255/32"), 2);
    t.insert(pfx("0.0.0.0/32"), 3);
    BOOST_TEST(value_at(t, "192.0.2.1") == 1);
    BOOST_TEST(value_at(t, "192.0.2.0") == 0);
    BOOST_TEST(value_at(t, "192.0.2.2") == -1);
    BOOST_TEST(value_at(t, "192.0.1.255") == -1);
    BOOST_TEST(value_at(t, "255.255.255.255") == 2);
    BOOST_TEST(value_at(t, "255.255.255.254") == -1);
    BOOST_TEST(value_at(t, "0.0.0.0") == 3);
    BOOST_TEST(value_at(t, "0.0.0.1") == -1);

    t.insert(pfx("2001:db8::1/128"), 11);
    t.insert(pfx("2001:db8::/128"), 10);
    t.insert(pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), 12);
    t.insert(pfx("::/128"), 13);
    BOOST_TEST(value_at(t, "2001:db8::1") == 11);
    BOOST_TEST(value_at(t, "2001:db8::") == 10);
    BOOST_TEST(value_at(t, "2001:db8::2") == -1);
    BOOST_TEST(value_at(t, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff") == -1);
    BOOST_TEST(value_at(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == 12);
    BOOST_TEST(value_at(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe") == -1);
    BOOST_TEST(value_at(t, "::") == 13);
    BOOST_TEST(value_at(t, "::1") == -1);
    // Bit 63 and bit 64 sit on either side of the key's word boundary.
    t.insert(pfx("2001:db8:0:0:8000::/65"), 14);
    BOOST_TEST(value_at(t, "2001:db8:0:0:8000::1") == 14);
    BOOST_TEST(value_at(t, "2001:db8:0:0:7fff:ffff:ffff:ffff") == -1);
    BOOST_TEST(value_at(t, "2001:db8:0:1::") == -1);
}

BOOST_AUTO_TEST_CASE(families_never_match_each_other) {
    table t;
    t.insert(pfx("10.0.0.0/8"), 4);
    // The v6 addresses whose leading bytes equal a v4 one, and the mapped
    // and compatible forms, are still v6 addresses.
    BOOST_TEST(value_at(t, "a00::") == -1);
    BOOST_TEST(value_at(t, "::ffff:10.1.2.3") == -1);
    BOOST_TEST(value_at(t, "::10.1.2.3") == -1);
    t.insert(pfx("::ffff:0:0/96"), 6);
    t.insert(pfx("a00::/8"), 7);
    BOOST_TEST(value_at(t, "10.1.2.3") == 4);
    BOOST_TEST(value_at(t, "::ffff:10.1.2.3") == 6);
    BOOST_TEST(value_at(t, "a00::1") == 7);
    BOOST_TEST(value_at(t, "11.0.0.0") == -1);
    // Same bytes, same length, different family: two entries.
    BOOST_TEST(t.insert(pfx("0.0.0.0/0"), 40));
    BOOST_TEST(t.insert(pfx("::/0"), 60));
    BOOST_TEST(t.size() == 5u);
    BOOST_TEST(*t.find_exact(pfx("0.0.0.0/0")) == 40);
    BOOST_TEST(*t.find_exact(pfx("::/0")) == 60);
    BOOST_TEST(t.find_exact(pfx("::/8")) == nullptr);
    BOOST_TEST(t.erase(pfx("::/0")));
    BOOST_TEST(*t.find_exact(pfx("0.0.0.0/0")) == 40);
    BOOST_TEST(value_at(t, "11.0.0.0") == 40);
    BOOST_TEST(value_at(t, "b00::") == -1);
}

BOOST_AUTO_TEST_CASE(insert_replaces_value) {
    table t;
    BOOST_TEST(t.insert(pfx("10.0.0.0/24"), 1));
    BOOST_TEST(!t.insert(pfx("10.0.0.0/24"), 2));
    BOOST_TEST(t.size() == 1u);
    BOOST_TEST(*t.find_exact(pfx("10.0.0.0/24")) == 2);
    BOOST_TEST(value_at(t, "10.0.0.9") == 2);
    // Other lengths at the same address are other prefixes.
    BOOST_TEST(t.insert(pfx("10.0.0.0/25"), 3));
    BOOST_TEST(t.insert(pfx("10.0.0.0/23"), 4));
    BOOST_TEST(t.size() == 3u);
    BOOST_TEST(!t.insert(pfx("10.0.0.0/25"), 5));
    BOOST_TEST(value_at(t, "10.0.0.1") == 5);
    BOOST_TEST(value_at(t, "10.0.0.128") == 2);
    BOOST_TEST(value_at(t, "10.0.1.0") == 4);
}

BOOST_AUTO_TEST_CASE(erase_keeps_trie_compressed) {
    table t;
    // Two siblings need a valueless fork at their common /23.
    t.insert(pfx("10.0.0.0/24"), 1);
    t.insert(pfx("10.0.1.0/24"), 2);
    BOOST_TEST(t.node_count() == 3u);
    // The fork is not an entry.
    BOOST_TEST(t.find_exact(pfx("10.0.0.0/23")) == nullptr);
    BOOST_TEST(!t.erase(pfx("10.0.0.0/23")));
    BOOST_TEST(value_at(t, "10.0.0.1") == 1);
    BOOST_TEST(t.size() == 2u);
    // Giving the fork a value uses the same node.
    BOOST_TEST(t.insert(pfx("10.0.0.0/23"), 3));
    BOOST_TEST(t.node_count() == 3u);
    // Erasing it again leaves the fork in place, valueless.
    BOOST_TEST(t.erase(pfx("10.0.0.0/23")));
    BOOST_TEST(t.node_count() == 3u);
    BOOST_TEST(t.find_exact(pfx("10.0.0.0/23")) == nullptr);
    BOOST_TEST(value_at(t, "10.0.1.1") == 2);
    // Erasing a leaf under a valueless fork merges the fork away.
    BOOST_TEST(t.erase(pfx("10.0.0.0/24")));
    BOOST_TEST(t.node_count() == 1u);
    BOOST_TEST(value_at(t, "10.0.0.1") == -1);
    BOOST_TEST(value_at(t, "10.0.1.1") == 2);
    BOOST_TEST(t.erase(pfx("10.0.1.0/24")));
    BOOST_TEST(t.node_count() == 0u);
    BOOST_TEST(t.size() == 0u);
    BOOST_TEST(value_at(t, "10.0.1.1") == -1);
}

BOOST_AUTO_TEST_CASE(erase_inner_nodes) {
    table t;
    t.insert(pfx("fd00::/8"), 8);
    t.insert(pfx("fd00:1::/32"), 32);
    t.insert(pfx("fd00:1:2::/48"), 48);
    t.insert(pfx("fd00:1:2:3::/64"), 3);
    t.insert(pfx("fd00:1:2:4::/64"), 4);
    t.insert(pfx("fd00:1:2:8000::/64"), 5);
    BOOST_TEST(t.node_count() == 7u);  // six values and a fork at fd00:1:2::/61

    // An inner node with one child: the child moves up.
    BOOST_TEST(t.erase(pfx("fd00:1::/32")));
    BOOST_TEST(t.node_count() == 6u);
    BOOST_TEST(value_at(t, "fd00:1:9::") == 8);
    BOOST_TEST(value_at(t, "fd00:1:2:9::") == 48);
    BOOST_TEST(value_at(t, "fd00:1:2:3::1") == 3);
    // An inner node with two children stays, as a valueless fork.
    BOOST_TEST(t.erase(pfx("fd00:1:2::/48")));
    BOOST_TEST(t.node_count() == 6u);
    BOOST_TEST(t.find_exact(pfx("fd00:1:2::/48")) == nullptr);
    BOOST_TEST(value_at(t, "fd00:1:2:9::") == 8);
    BOOST_TEST(value_at(t, "fd00:1:2:3::1") == 3);
    BOOST_TEST(value_at(t, "fd00:1:2:4::1") == 4);
    BOOST_TEST(value_at(t, "fd00:1:2:8000::1") == 5);
    // The root, with one child.
    BOOST_TEST(t.erase(pfx("fd00::/8")));
    BOOST_TEST(t.node_count() == 5u);
    BOOST_TEST(value_at(t, "fd00:1:2:9::") == -1);
    BOOST_TEST(value_at(t, "fd00:1:2:4::1") == 4);
    BOOST_TEST(t.size() == 3u);
    // A leaf under a valueless fork under a valueless fork.
    BOOST_TEST(t.erase(pfx("fd00:1:2:4::/64")));
    BOOST_TEST(t.node_count() == 3u);
    BOOST_TEST(value_at(t, "fd00:1:2:3::1") == 3);
    BOOST_TEST(value_at(t, "fd00:1:2:4::1") == -1);
    BOOST_TEST(t.erase(pfx("fd00:1:2:8000::/64")));
    BOOST_TEST(t.node_count() == 1u);
    BOOST_TEST(value_at(t, "fd00:1:2:3::1") == 3);
    // Absent: never stored, wrong length, wrong family.
    BOOST_TEST(!t.erase(pfx("fd00:1:2:4::/64")));
    BOOST_TEST(!t.erase(pfx("fd00:1:2::/63")));
    BOOST_TEST(!t.erase(pfx("fd00:1:2:3::/65")));
    BOOST_TEST(!t.erase(pfx("0.0.0.0/0")));
    BOOST_TEST(t.size() == 1u);
    BOOST_TEST(value_at(t, "fd00:1:2:3::1") == 3);
}

BOOST_AUTO_TEST_CASE(for_each_visits_in_order) {
    table t;
    t.insert(pfx("fd00::/8"), 6);
    t.insert(pfx("10.1.0.0/16"), 2);
    t.insert(pfx("10.0.0.0/8"), 1);
    t.insert(pfx("9.0.0.0/8"), 0);
    t.insert(pfx("10.0.0.0/16"), 3);
    t.insert(pfx("::/0"), 5);
    BOOST_TEST(entries(t) ==
               "9.0.0.0/8=0 10.0.0.0/8=1 10.0.0.0/16=3 10.1.0.0/16=2 ::/0=5 fd00::/8=6");
}

BOOST_AUTO_TEST_CASE(copy_move_and_clear) {
    table t;
    t.insert(pfx("10.0.0.0/8"), 1);
    t.insert(pfx("fd00::/8"), 2);
    table copy = t;
    copy.insert(pfx("10.0.0.0/8"), 9);
    BOOST_TEST(value_at(t, "10.0.0.1") == 1);  // deep copy
    BOOST_TEST(value_at(copy, "10.0.0.1") == 9);

    table moved = std::move(copy);
    BOOST_TEST(value_at(moved, "10.0.0.1") == 9);
    BOOST_TEST(value_at(moved, "fd00::1") == 2);
    // A moved-from table is empty and usable.
    BOOST_TEST(copy.size() == 0u);  // NOLINT(bugprone-use-after-move)
    BOOST_TEST(value_at(copy, "10.0.0.1") == -1);
    copy.insert(pfx("10.0.0.0/8"), 3);
    BOOST_TEST(value_at(copy, "10.0.0.1") == 3);

    moved = std::move(copy);
    BOOST_TEST(value_at(moved, "10.0.0.1") == 3);
    BOOST_TEST(value_at(moved, "fd00::1") == -1);

    t.clear();
    BOOST_TEST(t.size() == 0u);
    BOOST_TEST(t.node_count() == 0u);
    BOOST_TEST(value_at(t, "10.0.0.1") == -1);
    BOOST_TEST(t.insert(pfx("10.0.0.0/8"), 4));
    BOOST_TEST(value_at(t, "10.0.0.1") == 4);
}

BOOST_AUTO_TEST_CASE(erased_nodes_are_reused) {
    table t;
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < 64; ++i) {
            ip_prefix p = pfx("10.0.0.0/24");
            p.address.bytes[2] = static_cast<std::uint8_t>(i * 3);
            BOOST_TEST(t.insert(p, i));
        }
        BOOST_TEST(t.size() == 64u);
        BOOST_TEST(t.node_count() <= 127u);
        for (int i = 0; i < 64; ++i) {
            ip_prefix p = pfx("10.0.0.0/24");
            p.address.bytes[2] = static_cast<std::uint8_t>(i * 3);
            BOOST_TEST(t.erase(p));
        }
        BOOST_TEST(t.node_count() == 0u);
    }
    // Churn does not grow the storage: 127 nodes of 16 bytes and their value
    // slots, with the vectors' growth slack.
    BOOST_TEST(t.memory_bytes() <= 256u * (16u + sizeof(std::optional<int>)));
}

BOOST_AUTO_TEST_CASE(move_only_values) {
    weft::prefix_table<std::unique_ptr<int>> t;
    BOOST_TEST(t.insert(pfx("10.0.0.0/8"), std::make_unique<int>(7)));
    BOOST_TEST(!t.insert(pfx("10.0.0.0/8"), std::make_unique<int>(8)));
    const auto* v = t.lookup(addr("10.2.3.4"));
    BOOST_REQUIRE(v);
    BOOST_TEST(**v == 8);
}

// Differential test: random inserts, erases and lookups checked against a
// slow reference that scans every stored prefix with ip_prefix::contains.
namespace {

constexpr std::uint64_t default_seed = 0x5eed'0c0f'fee0'2024;

std::uint64_t test_seed() {
    if (const char* env = std::getenv("WEFT_PREFIX_TABLE_SEED"))
        return std::stoull(env, nullptr, 0);
    return default_seed;
}

struct reference {
    std::map<ip_prefix, int> entries;

    std::optional<std::pair<ip_prefix, int>> lookup(const ip_address& a) const {
        std::optional<std::pair<ip_prefix, int>> best;
        for (const auto& [p, v] : entries)
            if (p.contains(a) && (!best || p.length > best->first.length)) best.emplace(p, v);
        return best;
    }
};

unsigned width(ip_family f) {
    return f == ip_family::v4 ? 32u : 128u;
}

bool get_bit(const ip_address& a, unsigned i) {
    return (a.bytes[i / 8] >> (7 - i % 8)) & 1;
}

void set_bit(ip_address& a, unsigned i, bool on) {
    auto mask = static_cast<std::uint8_t>(0x80u >> (i % 8));
    a.bytes[i / 8] = static_cast<std::uint8_t>(on ? a.bytes[i / 8] | mask : a.bytes[i / 8] & ~mask);
}

ip_prefix masked(ip_address a, unsigned len) {
    for (unsigned i = len; i < width(a.family); ++i) set_bit(a, i, false);
    return ip_prefix{a, static_cast<std::uint8_t>(len)};
}

// a + 1 or a - 1 within the family, wrapping around.
ip_address step(ip_address a, bool up) {
    for (std::size_t i = a.size(); i-- > 0;) {
        auto before = a.bytes[i];
        a.bytes[i] = static_cast<std::uint8_t>(up ? before + 1 : before - 1);
        if (up ? before != 0xff : before != 0) break;
    }
    return a;
}

// Draws prefixes that nest and share long runs of bits, so the trie gets deep
// chains, forks at every depth, and erases that merge.  The addresses come
// from a few anchors with their low bits randomised from a random point on;
// a "dense" generator keeps everything inside one small region so almost
// every prefix overlaps others.
class generator {
  public:
    generator(std::uint64_t seed, bool dense) : rng_(seed), dense_(dense) {
        for (ip_family f : {ip_family::v4, ip_family::v6})
            for (int i = 0; i < 8; ++i) anchors_.push_back(random_bits(f));
    }

    std::mt19937_64& rng() { return rng_; }
    std::uint64_t below(std::uint64_t n) { return rng_() % n; }

    ip_address random_bits(ip_family f) {
        ip_address a;
        a.family = f;
        for (std::size_t i = 0; i < a.size(); ++i) a.bytes[i] = static_cast<std::uint8_t>(rng_());
        return a;
    }

    ip_address address(ip_family f) {
        const unsigned w = width(f);
        ip_address a = anchors_[below(8) + (f == ip_family::v4 ? 0 : 8)];
        unsigned from = dense_ ? w - w / 8 : static_cast<unsigned>(below(w + 1));
        ip_address noise = random_bits(f);
        for (unsigned i = from; i < w; ++i) set_bit(a, i, get_bit(noise, i));
        return a;
    }

    ip_prefix prefix() {
        ip_family f = below(2) == 0 ? ip_family::v4 : ip_family::v6;
        const unsigned w = width(f);
        // A /0 now and then, and short prefixes rarely, so that lookups
        // still miss often.
        unsigned len = 0;
        if (below(2000) != 0) {
            unsigned lo = dense_ ? w - w / 8 - 2 : below(16) == 0 ? 1 : w / 4;
            len = lo + static_cast<unsigned>(below(w - lo + 1));
        }
        return masked(address(f), len);
    }

    // An address on or just beside the edges of p, or inside it.
    ip_address near(const ip_prefix& p) {
        const unsigned w = width(p.address.family);
        switch (below(6)) {
            case 0:
                return p.address;
            case 1:
                return p.last();
            case 2:
                return step(p.address, false);
            case 3:
                return step(p.last(), true);
            case 4: {  // inside, the first host bit flipped
                ip_address a = p.address;
                if (p.length < w) set_bit(a, p.length, true);
                return a;
            }
            default: {  // outside, the last prefix bit flipped, host bits random
                ip_address a = p.address;
                ip_address noise = random_bits(p.address.family);
                for (unsigned i = p.length; i < w; ++i) set_bit(a, i, get_bit(noise, i));
                if (p.length > 0) set_bit(a, p.length - 1, !get_bit(a, p.length - 1));
                return a;
            }
        }
    }

  private:
    std::mt19937_64 rng_;
    bool dense_;
    std::vector<ip_address> anchors_;
};

void check_lookup(const table& t, const reference& ref, const ip_address& a) {
    auto want = ref.lookup(a);
    const int* got = t.lookup(a);
    auto got_prefix = t.lookup_prefix(a);
    BOOST_REQUIRE_MESSAGE(
        (got == nullptr) == !want && (!want || *got == want->second),
        "lookup(" << weft::to_string(a) << "): table "
                  << (got ? std::to_string(*got) : std::string("none")) << ", reference "
                  << (want ? weft::to_string(want->first) + " -> " + std::to_string(want->second)
                           : std::string("none")));
    BOOST_REQUIRE_MESSAGE(
        got_prefix.has_value() == want.has_value() &&
            (!want || (got_prefix->first == want->first && got_prefix->second == got)),
        "lookup_prefix(" << weft::to_string(a) << ") differs from the reference");
}

void check_whole(const table& t, const reference& ref) {
    BOOST_REQUIRE_EQUAL(t.size(), ref.entries.size());
    // for_each promises the order of ip_prefix's operator<=>, which is the
    // reference map's order.
    std::vector<std::pair<ip_prefix, int>> seen;
    t.for_each([&seen](const ip_prefix& p, const int& v) { seen.emplace_back(p, v); });
    std::vector<std::pair<ip_prefix, int>> want(ref.entries.begin(), ref.entries.end());
    BOOST_REQUIRE_MESSAGE(seen == want, "for_each differs from the reference");
    // Path compression: fewer valueless nodes than values, per family.
    BOOST_REQUIRE_LE(t.node_count(), 2 * t.size());
}

void run_differential(std::uint64_t seed, bool dense) {
    BOOST_TEST_CONTEXT("seed " << seed << (dense ? " dense" : " sparse")) {
        generator gen(seed, dense);
        table t;
        reference ref;
        int next_value = 0;
        constexpr int rounds = 6;
        constexpr int ops_per_round = 2500;
        constexpr int lookups_per_round = 4000;
        for (int round = 0; round < rounds; ++round) {
            for (int op = 0; op < ops_per_round; ++op) {
                std::uint64_t kind = gen.below(10);
                if (kind < 6) {
                    // Mostly fresh prefixes, some replacements.
                    ip_prefix p = kind == 0 && !ref.entries.empty()
                                      ? std::next(ref.entries.begin(),
                                                  static_cast<long>(gen.below(ref.entries.size())))
                                            ->first
                                      : gen.prefix();
                    int v = next_value++;
                    bool was_new = ref.entries.insert_or_assign(p, v).second;
                    BOOST_REQUIRE_MESSAGE(t.insert(p, v) == was_new,
                                          "insert(" << weft::to_string(p) << ") new-ness");
                } else {
                    // Half existing prefixes, half probably absent ones.
                    ip_prefix p = kind < 8 && !ref.entries.empty()
                                      ? std::next(ref.entries.begin(),
                                                  static_cast<long>(gen.below(ref.entries.size())))
                                            ->first
                                      : gen.prefix();
                    bool was_there = ref.entries.erase(p) == 1;
                    BOOST_REQUIRE_MESSAGE(t.erase(p) == was_there,
                                          "erase(" << weft::to_string(p) << ")");
                }
            }
            check_whole(t, ref);
            for (int i = 0; i < lookups_per_round; ++i) {
                std::uint64_t kind = gen.below(4);
                if (kind == 0 || ref.entries.empty()) {
                    ip_family f = gen.below(2) == 0 ? ip_family::v4 : ip_family::v6;
                    check_lookup(t, ref, gen.below(2) == 0 ? gen.address(f) : gen.random_bits(f));
                } else {
                    auto it = std::next(ref.entries.begin(),
                                        static_cast<long>(gen.below(ref.entries.size())));
                    check_lookup(t, ref, gen.near(it->first));
                    if (kind == 1) {
                        // find_exact on a stored prefix and on a neighbour.
                        const int* v = t.find_exact(it->first);
                        BOOST_REQUIRE(v != nullptr && *v == it->second);
                        ip_prefix other = gen.prefix();
                        auto r = ref.entries.find(other);
                        const int* w = t.find_exact(other);
                        BOOST_REQUIRE_MESSAGE(
                            r == ref.entries.end() ? w == nullptr : w != nullptr && *w == r->second,
                            "find_exact(" << weft::to_string(other) << ")");
                    }
                }
            }
        }
        // Empty it in random order: every node must go.
        std::vector<ip_prefix> left;
        for (const auto& e : ref.entries) left.push_back(e.first);
        std::shuffle(left.begin(), left.end(), gen.rng());
        for (std::size_t i = 0; i < left.size(); ++i) {
            BOOST_REQUIRE_MESSAGE(t.erase(left[i]), "erase(" << weft::to_string(left[i]) << ")");
            ref.entries.erase(left[i]);
            if (i % 64 == 0) {
                check_whole(t, ref);
                check_lookup(t, ref, gen.near(left[i]));
            }
        }
        BOOST_TEST(t.size() == 0u);
        BOOST_TEST(t.node_count() == 0u);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(matches_linear_reference_on_random_data) {
    const std::uint64_t seed = test_seed();
    // Printed unconditionally so a failure in any log level can be replayed.
    std::cout << "prefix_table differential test: seed " << seed
              << " (override with WEFT_PREFIX_TABLE_SEED)\n";
    run_differential(seed, false);
    run_differential(seed + 1, true);
}

BOOST_AUTO_TEST_SUITE_END()
