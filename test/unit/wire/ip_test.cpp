// wire/ip: strict address and prefix codecs, canonical text, prefix
// arithmetic.  Tables first, then a differential check of contains()/last()
// against a slow bitwise reference on random prefixes.
#include "wire/ip.hpp"

#include <array>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace {

using weft::ip_address;
using weft::ip_family;
using weft::ip_prefix;
using weft::prefix_error;

ip_address v6(std::initializer_list<std::uint16_t> words) {
    ip_address a;
    a.family = ip_family::v6;
    std::size_t i = 0;
    for (auto w : words) {
        a.bytes[i++] = static_cast<std::uint8_t>(w >> 8);
        a.bytes[i++] = static_cast<std::uint8_t>(w & 0xff);
    }
    return a;
}

std::string family_name(ip_family f) {
    return f == ip_family::v4 ? "v4" : "v6";
}

// The bit at position `bit` (0 = most significant) of an address.
bool bit_of(const ip_address& a, unsigned bit) {
    return (a.bytes[bit / 8] >> (7 - bit % 8)) & 1u;
}

// Slow reference: an address is inside a prefix when it has the same family
// and its first `length` bits equal the prefix's.
bool reference_contains(const ip_prefix& p, const ip_address& a) {
    if (a.family != p.address.family) return false;
    for (unsigned b = 0; b < p.length; ++b)
        if (bit_of(a, b) != bit_of(p.address, b)) return false;
    return true;
}

std::uint64_t test_seed() {
    if (const char* s = std::getenv("WEFT_TEST_SEED")) return std::strtoull(s, nullptr, 10);
    return std::random_device{}();
}

ip_address random_address(std::mt19937_64& rng, ip_family f) {
    ip_address a;
    a.family = f;
    for (std::size_t i = 0; i < a.size(); ++i) a.bytes[i] = static_cast<std::uint8_t>(rng());
    return a;
}

ip_prefix random_prefix(std::mt19937_64& rng, ip_family f) {
    ip_prefix p;
    p.address = random_address(rng, f);
    p.length = static_cast<std::uint8_t>(rng() % (p.address.bit_width() + 1));
    for (unsigned b = p.length; b < p.address.bit_width(); ++b)
        p.address.bytes[b / 8] =
            static_cast<std::uint8_t>(p.address.bytes[b / 8] & ~(0x80u >> (b % 8)));
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ip)

BOOST_AUTO_TEST_CASE(parse_ipv4_accepts_dotted_quads) {
    const std::pair<std::string_view, std::array<std::uint8_t, 4>> good[] = {
        {"0.0.0.0", {0, 0, 0, 0}},
        {"1.2.3.4", {1, 2, 3, 4}},
        {"10.0.0.1", {10, 0, 0, 1}},
        {"192.168.100.200", {192, 168, 100, 200}},
        {"255.255.255.255", {255, 255, 255, 255}},
        {"100.0.10.0", {100, 0, 10, 0}},
    };
    for (const auto& [text, bytes] : good) {
        BOOST_TEST_CONTEXT("'" << text << "'") {
            auto a = weft::parse_ipv4(text);
            BOOST_REQUIRE(a.has_value());
            BOOST_TEST(family_name(a->family) == "v4");
            BOOST_TEST(a->size() == 4u);
            for (std::size_t i = 0; i < 4; ++i) BOOST_TEST(a->bytes[i] == bytes[i]);
            for (std::size_t i = 4; i < 16; ++i) BOOST_TEST(a->bytes[i] == 0);
            BOOST_TEST((*a == ip_address::v4(bytes[0], bytes[1], bytes[2], bytes[3])));
            BOOST_TEST(weft::to_string(*a) == std::string(text));
            BOOST_TEST(weft::parse_ip(text).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_ipv4_rejects) {
    const std::string_view bad[] = {
        "",           "1.2.3",       "1.2.3.4.5", "01.2.3.4",   "1.2.3.04",   "1.02.3.4",
        "00.0.0.0",   "256.1.1.1",   "1.2.3.256", "1.2.3.999",  "1..3.4",     "1.2.3.",
        ".1.2.3",     "1.2.3.4 ",    " 1.2.3.4",  "1.2.3.-4",   "+1.2.3.4",   "0x1.2.3.4",
        "1.2.3.4/8",  "::1",         "1.2.3.4a",  "1234.1.1.1", "1.2.3.4.",   "a.b.c.d",
        "1.2.3.0004", "1.2.3.4.5.6", "1,2,3,4",   "1.2.3.4\n",  "4294967295", "1.2.3.1000",
    };
    for (auto text : bad) {
        BOOST_TEST_CONTEXT("'" << text << "'") {
            BOOST_TEST(!weft::parse_ipv4(text).has_value());
        }
    }
    // An embedded NUL must not end the text early.
    BOOST_TEST(!weft::parse_ipv4(std::string_view("1.2.3.4\0", 8)).has_value());
}

BOOST_AUTO_TEST_CASE(parse_ipv6_accepts_rfc4291_text) {
    const std::pair<std::string_view, ip_address> good[] = {
        {"::", v6({})},
        {"::1", v6({0, 0, 0, 0, 0, 0, 0, 1})},
        {"2001:db8::1", v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})},
        {"2001:DB8::1", v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})},
        {"2001:0db8:0000:0000:0000:0000:0000:0001", v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})},
        {"1:2:3:4:5:6:7:8", v6({1, 2, 3, 4, 5, 6, 7, 8})},
        {"fe80::1", v6({0xfe80, 0, 0, 0, 0, 0, 0, 1})},
        {"ff02::1", v6({0xff02, 0, 0, 0, 0, 0, 0, 1})},
        {"::ffff:1.2.3.4", v6({0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304})},
        {"1::", v6({1})},
        {"1:0:0:2::3", v6({1, 0, 0, 2, 0, 0, 0, 3})},
    };
    for (const auto& [text, expected] : good) {
        BOOST_TEST_CONTEXT("'" << text << "'") {
            auto a = weft::parse_ipv6(text);
            BOOST_REQUIRE(a.has_value());
            BOOST_TEST(family_name(a->family) == "v6");
            BOOST_TEST(a->size() == 16u);
            BOOST_TEST((*a == expected));
            auto b = weft::parse_ip(text);
            BOOST_REQUIRE(b.has_value());
            BOOST_TEST((*b == expected));
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_ipv6_rejects) {
    const std::string_view bad[] = {
        "",
        ":",
        ":::",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1::2::3",
        "12345::",
        "g::1",
        "fe80::1%eth0",
        "[::1]",
        "::1 ",
        " ::1",
        "1.2.3.4",
        "2001:db8::/32",
        "::ffff:1.2.3",
        "::ffff:256.1.1.1",
        "2001:db8:0:0:0:0:0:0:1",
        "2001:db8::1::",
        "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000",  // too long
    };
    for (auto text : bad) {
        BOOST_TEST_CONTEXT("'" << text << "'") {
            BOOST_TEST(!weft::parse_ipv6(text).has_value());
        }
    }
    BOOST_TEST(!weft::parse_ipv6(std::string_view("::1\0", 4)).has_value());
}

BOOST_AUTO_TEST_CASE(to_string_writes_the_canonical_form) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {"2001:DB8::1", "2001:db8::1"},
        {"0:0:0:0:0:0:0:0", "::"},
        {"0:0:0:0:0:0:0:1", "::1"},
        {"1:0:0:2:0:0:0:3", "1:0:0:2::3"},                 // the longest zero run is compressed
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // a single zero group is not
        {"::ffff:1.2.3.4", "::ffff:1.2.3.4"},
        {"fe80:0:0:0:0:0:0:1", "fe80::1"},
    };
    for (const auto& [in, out] : cases) {
        BOOST_TEST_CONTEXT("'" << in << "'") {
            auto a = weft::parse_ipv6(in);
            BOOST_REQUIRE(a.has_value());
            BOOST_TEST(weft::to_string(*a) == std::string(out));
        }
    }
    BOOST_TEST(weft::to_string(ip_address::v4(198, 18, 0, 1)) == "198.18.0.1");
    BOOST_TEST(weft::to_string(ip_address::v4(0, 0, 0, 0)) == "0.0.0.0");
}

BOOST_AUTO_TEST_CASE(text_round_trip_on_random_addresses) {
    const auto seed = test_seed();
    BOOST_TEST_MESSAGE("ip text round trip: seed " << seed << " (set WEFT_TEST_SEED to repeat)");
    std::mt19937_64 rng(seed);
    BOOST_TEST_CONTEXT("seed " << seed) {
        for (int i = 0; i < 2000; ++i) {
            ip_address a = random_address(rng, i % 2 ? ip_family::v6 : ip_family::v4);
            // Zero runs and the embedded-IPv4 forms are where the text gets interesting.
            if (a.family == ip_family::v6)
                for (std::size_t k = 0; k < 16; k += 2)
                    if (rng() % 3 == 0) a.bytes[k] = a.bytes[k + 1] = 0;
            const std::string text = weft::to_string(a);
            auto back = a.family == ip_family::v4 ? weft::parse_ipv4(text) : weft::parse_ipv6(text);
            BOOST_TEST_CONTEXT(text) {
                BOOST_REQUIRE(back.has_value());
                BOOST_TEST((*back == a));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(special_address_predicates) {
    BOOST_TEST(weft::parse_ipv4("0.0.0.0")->is_unspecified());
    BOOST_TEST(!weft::parse_ipv4("0.0.0.1")->is_unspecified());
    BOOST_TEST(weft::parse_ipv6("::")->is_unspecified());
    BOOST_TEST(!weft::parse_ipv6("::1")->is_unspecified());
    BOOST_TEST(weft::parse_ipv4("224.0.0.1")->is_multicast());
    BOOST_TEST(weft::parse_ipv4("239.255.255.255")->is_multicast());
    BOOST_TEST(!weft::parse_ipv4("223.255.255.255")->is_multicast());
    BOOST_TEST(!weft::parse_ipv4("240.0.0.0")->is_multicast());
    BOOST_TEST(weft::parse_ipv6("ff02::1")->is_multicast());
    BOOST_TEST(weft::parse_ipv6("ff00::")->is_multicast());
    BOOST_TEST(!weft::parse_ipv6("fe80::1")->is_multicast());
    BOOST_TEST(!weft::parse_ipv6("::ffff:224.0.0.1")->is_multicast());
}

// operator== is written by hand (no memcmp on the receive path): it must
// agree with the ordering for every byte and the family.
BOOST_AUTO_TEST_CASE(equality_looks_at_every_byte_and_the_family) {
    std::mt19937 rng(7);
    for (int round = 0; round < 200; ++round) {
        ip_address a;
        a.family = round % 2 ? ip_family::v6 : ip_family::v4;
        for (auto& b : a.bytes) b = static_cast<std::uint8_t>(rng());
        ip_address same = a;
        BOOST_TEST((a == same));
        BOOST_TEST(!(a != same));
        BOOST_TEST(((a <=> same) == 0));
        for (std::size_t i = 0; i < a.bytes.size(); ++i) {
            ip_address other = a;
            other.bytes[i] ^= static_cast<std::uint8_t>(1u << (round % 8));
            BOOST_TEST(!(a == other), "byte " << i);
            BOOST_TEST(((a <=> other) != 0));
        }
        ip_address family = a;
        family.family = a.family == ip_family::v4 ? ip_family::v6 : ip_family::v4;
        BOOST_TEST(!(a == family));
    }
    BOOST_TEST((*weft::parse_ipv4("198.18.0.1") == ip_address::v4(198, 18, 0, 1)));
    BOOST_TEST(!(*weft::parse_ipv4("198.18.0.1") == ip_address::v4(198, 18, 0, 2)));
}

BOOST_AUTO_TEST_CASE(parse_prefix_table) {
    struct good_case {
        std::string_view text;
        std::string_view canonical;
        unsigned length;
    };
    const good_case good[] = {
        {"10.0.0.0/8", "10.0.0.0/8", 8},
        {"0.0.0.0/0", "0.0.0.0/0", 0},
        {"10.1.2.3/32", "10.1.2.3/32", 32},
        {"10.0.0.128/25", "10.0.0.128/25", 25},
        {"2001:db8::/32", "2001:db8::/32", 32},
        {"2001:DB8:0::/48", "2001:db8::/48", 48},
        {"::/0", "::/0", 0},
        {"::1/128", "::1/128", 128},
        {"2001:db8:0:8::/61", "2001:db8:0:8::/61", 61},
        {"::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104", 104},
    };
    for (const auto& g : good) {
        BOOST_TEST_CONTEXT("'" << g.text << "'") {
            auto r = weft::parse_prefix(g.text);
            BOOST_REQUIRE(r.prefix.has_value());
            BOOST_TEST(r.prefix->length == g.length);
            BOOST_TEST(weft::to_string(*r.prefix) == std::string(g.canonical));
        }
    }

    const std::pair<std::string_view, prefix_error> bad[] = {
        {"10.0.0.0", prefix_error::syntax},
        {"/8", prefix_error::syntax},
        {"10.0.0.0/", prefix_error::syntax},
        {"", prefix_error::syntax},
        {"010.0.0.0/8", prefix_error::bad_address},
        {"10.0.0/8", prefix_error::bad_address},
        {"2001:db8::g/32", prefix_error::bad_address},
        {"fe80::1%eth0/64", prefix_error::bad_address},
        {"10.0.0.0/33", prefix_error::bad_length},
        {"::/129", prefix_error::bad_length},
        {"2001:db8::/129", prefix_error::bad_length},
        {"10.0.0.0/08", prefix_error::bad_length},
        {"10.0.0.0/-1", prefix_error::bad_length},
        {"10.0.0.0/+8", prefix_error::bad_length},
        {"10.0.0.0/1000", prefix_error::bad_length},
        {"10.0.0.0/8 ", prefix_error::bad_length},
        {"10.0.0.0/8/8", prefix_error::bad_length},
        {"10.0.0.0/x", prefix_error::bad_length},
        {"10.0.0.1/24", prefix_error::host_bits_set},
        {"10.0.0.128/24", prefix_error::host_bits_set},
        {"10.0.0.64/25", prefix_error::host_bits_set},
        {"10.0.0.1/0", prefix_error::host_bits_set},
        {"2001:db8::1/64", prefix_error::host_bits_set},
        {"2001:db8:0:c::/61", prefix_error::host_bits_set},
    };
    for (const auto& [text, why] : bad) {
        BOOST_TEST_CONTEXT("'" << text << "'") {
            auto r = weft::parse_prefix(text);
            BOOST_TEST(!r.prefix.has_value());
            BOOST_TEST(std::string(weft::to_string(r.error)) == weft::to_string(why));
        }
    }
}

BOOST_AUTO_TEST_CASE(prefix_error_texts_are_distinct) {
    const prefix_error all[] = {prefix_error::syntax, prefix_error::bad_address,
                                prefix_error::bad_length, prefix_error::host_bits_set};
    for (auto a : all)
        for (auto b : all)
            if (a != b) BOOST_TEST(std::string(weft::to_string(a)) != weft::to_string(b));
    BOOST_TEST(std::string(weft::to_string(prefix_error::host_bits_set)).find("host bits") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(contains_and_last_table) {
    auto pfx = [](std::string_view t) { return *weft::parse_prefix(t).prefix; };
    auto a4 = [](std::string_view t) { return *weft::parse_ipv4(t); };
    auto a6 = [](std::string_view t) { return *weft::parse_ipv6(t); };

    BOOST_TEST(weft::to_string(pfx("10.0.0.0/8").last()) == "10.255.255.255");
    BOOST_TEST(weft::to_string(pfx("10.0.0.128/25").last()) == "10.0.0.255");
    BOOST_TEST(weft::to_string(pfx("10.0.0.0/25").last()) == "10.0.0.127");
    BOOST_TEST(weft::to_string(pfx("10.1.2.3/32").last()) == "10.1.2.3");
    BOOST_TEST(weft::to_string(pfx("0.0.0.0/0").last()) == "255.255.255.255");
    BOOST_TEST(weft::to_string(pfx("2001:db8::/32").last()) ==
               "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
    BOOST_TEST(weft::to_string(pfx("2001:db8:0:8::/61").last()) ==
               "2001:db8:0:f:ffff:ffff:ffff:ffff");
    BOOST_TEST(weft::to_string(pfx("::/0").last()) == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    BOOST_TEST(weft::to_string(pfx("::1/128").last()) == "::1");
    // last() of an IPv4 prefix leaves the unused bytes zero.
    auto l = pfx("0.0.0.0/0").last();
    for (std::size_t i = 4; i < 16; ++i) BOOST_TEST(l.bytes[i] == 0);

    const auto p25 = pfx("10.0.0.128/25");
    BOOST_TEST(p25.contains(a4("10.0.0.128")));
    BOOST_TEST(p25.contains(a4("10.0.0.255")));
    BOOST_TEST(!p25.contains(a4("10.0.0.127")));
    BOOST_TEST(!p25.contains(a4("10.0.1.0")));
    BOOST_TEST(pfx("0.0.0.0/0").contains(a4("203.0.113.9")));
    BOOST_TEST(!pfx("0.0.0.0/0").contains(a6("::")));
    BOOST_TEST(pfx("10.1.2.3/32").contains(a4("10.1.2.3")));
    BOOST_TEST(!pfx("10.1.2.3/32").contains(a4("10.1.2.2")));
    const auto p48 = pfx("2001:db8:1::/48");
    BOOST_TEST(p48.contains(a6("2001:db8:1::")));
    BOOST_TEST(p48.contains(a6("2001:db8:1:ffff:ffff:ffff:ffff:ffff")));
    BOOST_TEST(!p48.contains(a6("2001:db8:2::")));
    BOOST_TEST(!p48.contains(a6("2001:db8:0:ffff:ffff:ffff:ffff:ffff")));
    BOOST_TEST(pfx("::/0").contains(a6("ff02::1")));
    // Same bytes, other family: never inside.
    BOOST_TEST(!pfx("10.0.0.0/8").contains(a6("a00::")));
    BOOST_TEST(!pfx("a00::/8").contains(a4("10.0.0.0")));
}

BOOST_AUTO_TEST_CASE(contains_and_last_match_a_bitwise_reference) {
    const auto seed = test_seed();
    BOOST_TEST_MESSAGE("prefix reference test: seed " << seed << " (set WEFT_TEST_SEED to repeat)");
    std::mt19937_64 rng(seed);
    BOOST_TEST_CONTEXT("seed " << seed) {
        for (int i = 0; i < 3000; ++i) {
            const ip_family f = i % 2 ? ip_family::v6 : ip_family::v4;
            const ip_prefix p = random_prefix(rng, f);
            // Addresses near the prefix: inside with random host bits, or with one
            // bit of the network part flipped, or of the other family.
            ip_address a = p.address;
            for (unsigned b = p.length; b < a.bit_width(); ++b)
                if (rng() & 1)
                    a.bytes[b / 8] = static_cast<std::uint8_t>(a.bytes[b / 8] | (0x80u >> (b % 8)));
            switch (rng() % 4) {
                case 0:
                    if (p.length > 0) {
                        unsigned b = static_cast<unsigned>(rng() % p.length);
                        a.bytes[b / 8] =
                            static_cast<std::uint8_t>(a.bytes[b / 8] ^ (0x80u >> (b % 8)));
                    }
                    break;
                case 1:
                    a = random_address(rng, f);
                    break;
                case 2:
                    a.family = f == ip_family::v4 ? ip_family::v6 : ip_family::v4;
                    break;
                default:
                    break;
            }
            if (a.family == ip_family::v4)
                for (std::size_t k = 4; k < 16; ++k) a.bytes[k] = 0;
            BOOST_TEST_CONTEXT(weft::to_string(p) << " vs " << weft::to_string(a)) {
                BOOST_TEST(p.contains(a) == reference_contains(p, a));
                const ip_address last = p.last();
                BOOST_TEST(p.contains(last));
                BOOST_TEST(p.contains(p.address));
                // contains() is exactly the interval [address, last] within the family.
                if (a.family == f) BOOST_TEST(p.contains(a) == (p.address <= a && a <= last));
                for (unsigned b = p.length; b < last.bit_width(); ++b) BOOST_TEST(bit_of(last, b));
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
