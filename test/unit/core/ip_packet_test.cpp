// core/ip_packet: strict IPv4/IPv6 parsing from hand-built packets, the
// IPv6 extension-header walk, fragments, and a random-bytes sweep that must
// never read out of bounds (run under the sanitizers).
#include "core/ip_packet.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <random>
#include <vector>

#include "wire/ip.hpp"

namespace {

using weft::ip_address;
using weft::ip_family;
using weft::parse_ip_packet;
using bytes = std::vector<std::uint8_t>;

ip_address addr(const char* text) {
    auto a = weft::parse_ip(text);
    BOOST_TEST_REQUIRE(a.has_value());
    return *a;
}

void put16(bytes& b, std::size_t off, unsigned v) {
    b[off] = static_cast<std::uint8_t>(v >> 8);
    b[off + 1] = static_cast<std::uint8_t>(v & 0xff);
}

// IPv4: `options` bytes of options (a multiple of 4), `payload` bytes after.
bytes v4_packet(const char* src, const char* dst, std::uint8_t proto, std::size_t payload,
                unsigned frag_field = 0, std::size_t options = 0) {
    std::size_t hl = 20 + options;
    bytes p(hl + payload, 0xab);
    p[0] = static_cast<std::uint8_t>(0x40 | (hl / 4));
    p[1] = 0;
    put16(p, 2, static_cast<unsigned>(p.size()));
    put16(p, 4, 0x1234);
    put16(p, 6, frag_field);
    p[8] = 64;
    p[9] = proto;
    put16(p, 10, 0xdead);  // deliberately wrong checksum: not verified
    auto s = addr(src), d = addr(dst);
    std::copy_n(s.bytes.begin(), 4, p.begin() + 12);
    std::copy_n(d.bytes.begin(), 4, p.begin() + 16);
    for (std::size_t i = 20; i < hl; ++i) p[i] = 1;  // NOP options
    return p;
}

// IPv6 with the given extension headers: each entry is (type, total length
// in bytes); `proto` is the upper layer after the chain.
struct ext {
    std::uint8_t type;
    std::size_t length;
    unsigned frag_offset_field = 0;  // fragment header: offset<<3 | M
};

bytes v6_packet(const char* src, const char* dst, std::vector<ext> chain, std::uint8_t proto,
                std::size_t payload) {
    std::size_t ext_len = 0;
    for (auto& e : chain) ext_len += e.length;
    bytes p(40 + ext_len + payload, 0xcd);
    p[0] = 0x60;
    p[1] = p[2] = p[3] = 0;
    put16(p, 4, static_cast<unsigned>(ext_len + payload));
    p[6] = chain.empty() ? proto : chain[0].type;
    p[7] = 64;
    auto s = addr(src), d = addr(dst);
    std::copy_n(s.bytes.begin(), 16, p.begin() + 8);
    std::copy_n(d.bytes.begin(), 16, p.begin() + 24);
    std::size_t off = 40;
    for (std::size_t i = 0; i < chain.size(); ++i) {
        const ext& e = chain[i];
        p[off] = i + 1 < chain.size() ? chain[i + 1].type : proto;
        if (e.type == 44) {
            p[off + 1] = 0;
            put16(p, off + 2, e.frag_offset_field);
        } else if (e.type == 51) {
            p[off + 1] = static_cast<std::uint8_t>(e.length / 4 - 2);
        } else {
            p[off + 1] = static_cast<std::uint8_t>(e.length / 8 - 1);
        }
        off += e.length;
    }
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ip_packet)

BOOST_AUTO_TEST_CASE(ipv4_udp) {
    auto p = v4_packet("198.19.1.1", "198.19.2.2", 17, 30);
    auto info = parse_ip_packet(p);
    BOOST_TEST_REQUIRE(info.has_value());
    BOOST_TEST((info->family == ip_family::v4));
    BOOST_TEST((info->src == addr("198.19.1.1")));
    BOOST_TEST((info->dst == addr("198.19.2.2")));
    BOOST_TEST(info->protocol == 17);
    BOOST_TEST(!info->is_fragment_non_first);
    BOOST_TEST(info->header_length == 20u);
}

BOOST_AUTO_TEST_CASE(ipv4_options_and_empty_payload) {
    auto p = v4_packet("198.19.1.1", "198.19.2.2", 6, 0, 0, 8);
    auto info = parse_ip_packet(p);
    BOOST_TEST_REQUIRE(info.has_value());
    BOOST_TEST(info->header_length == 28u);
    BOOST_TEST(info->protocol == 6);
}

BOOST_AUTO_TEST_CASE(ipv4_checksum_not_verified) {
    // The builder writes 0xdead; the packet still parses (see ip_packet.hpp).
    auto p = v4_packet("198.19.1.1", "198.19.2.2", 17, 8);
    BOOST_TEST(parse_ip_packet(p).has_value());
}

BOOST_AUTO_TEST_CASE(ipv4_fragments) {
    auto first = v4_packet("198.19.1.1", "198.19.2.2", 17, 8, 0x2000);  // MF, offset 0
    auto df = v4_packet("198.19.1.1", "198.19.2.2", 17, 8, 0x4000);
    auto middle = v4_packet("198.19.1.1", "198.19.2.2", 17, 8, 0x2001);
    auto last = v4_packet("198.19.1.1", "198.19.2.2", 17, 8, 0x0fff);
    BOOST_TEST(!parse_ip_packet(first)->is_fragment_non_first);
    BOOST_TEST(!parse_ip_packet(df)->is_fragment_non_first);
    BOOST_TEST(parse_ip_packet(middle)->is_fragment_non_first);
    BOOST_TEST(parse_ip_packet(last)->is_fragment_non_first);
}

BOOST_AUTO_TEST_CASE(ipv4_refused) {
    auto good = v4_packet("198.19.1.1", "198.19.2.2", 17, 12);
    BOOST_TEST(parse_ip_packet(good).has_value());

    auto p = good;
    p[0] = 0x44;  // IHL 4
    BOOST_TEST(!parse_ip_packet(p).has_value());
    p = good;
    p[0] = 0x4f;  // IHL 15 = 60 bytes > total 32
    BOOST_TEST(!parse_ip_packet(p).has_value());
    p = good;
    put16(p, 2, 33);  // total length larger than the span
    BOOST_TEST(!parse_ip_packet(p).has_value());
    put16(p, 2, 31);  // smaller: trailing bytes are refused too
    BOOST_TEST(!parse_ip_packet(p).has_value());
    p = good;
    p.push_back(0);  // span longer than the packet
    BOOST_TEST(!parse_ip_packet(p).has_value());
    p = good;
    p[0] = 0x55;  // version 5
    BOOST_TEST(!parse_ip_packet(p).has_value());

    bytes short_header(good.begin(), good.begin() + 19);
    put16(short_header, 2, 19);
    BOOST_TEST(!parse_ip_packet(short_header).has_value());
    BOOST_TEST(!parse_ip_packet({}).has_value());
}

BOOST_AUTO_TEST_CASE(ipv6_udp) {
    auto p = v6_packet("2001:db8::1", "2001:db8:1::2", {}, 17, 20);
    auto info = parse_ip_packet(p);
    BOOST_TEST_REQUIRE(info.has_value());
    BOOST_TEST((info->family == ip_family::v6));
    BOOST_TEST((info->src == addr("2001:db8::1")));
    BOOST_TEST((info->dst == addr("2001:db8:1::2")));
    BOOST_TEST(info->protocol == 17);
    BOOST_TEST(info->header_length == 40u);
    BOOST_TEST(!info->is_fragment_non_first);
}

BOOST_AUTO_TEST_CASE(ipv6_extension_chain) {
    // hop-by-hop (8), routing (24), destination options (16), AH (24), TCP
    auto p = v6_packet("2001:db8::1", "2001:db8::2", {{0, 8}, {43, 24}, {60, 16}, {51, 24}}, 6, 20);
    auto info = parse_ip_packet(p);
    BOOST_TEST_REQUIRE(info.has_value());
    BOOST_TEST(info->protocol == 6);
    BOOST_TEST(info->header_length == 40u + 8 + 24 + 16 + 24);
}

BOOST_AUTO_TEST_CASE(ipv6_fragments) {
    auto first = v6_packet("2001:db8::1", "2001:db8::2", {{44, 8, 0x0001}}, 58, 16);
    auto info = parse_ip_packet(first);
    BOOST_TEST_REQUIRE(info.has_value());
    BOOST_TEST(!info->is_fragment_non_first);
    BOOST_TEST(info->protocol == 58);
    BOOST_TEST(info->header_length == 48u);

    // A later fragment: what follows the fragment header is payload bytes,
    // so the walk stops even if they look like another extension header.
    auto later = v6_packet("2001:db8::1", "2001:db8::2", {{44, 8, 0x0008}}, 0, 16);
    info = parse_ip_packet(later);
    BOOST_TEST_REQUIRE(info.has_value());
    BOOST_TEST(info->is_fragment_non_first);
    BOOST_TEST(info->protocol == 0);
    BOOST_TEST(info->header_length == 48u);
}

BOOST_AUTO_TEST_CASE(ipv6_chain_stops_at_esp_and_no_next_header) {
    auto esp = v6_packet("2001:db8::1", "2001:db8::2", {{60, 8}}, 50, 32);
    BOOST_TEST(parse_ip_packet(esp)->protocol == 50);
    BOOST_TEST(parse_ip_packet(esp)->header_length == 48u);
    auto none = v6_packet("2001:db8::1", "2001:db8::2", {}, 59, 0);
    BOOST_TEST(parse_ip_packet(none)->protocol == 59);
}

BOOST_AUTO_TEST_CASE(ipv6_refused) {
    auto good = v6_packet("2001:db8::1", "2001:db8::2", {}, 17, 8);
    auto p = good;
    put16(p, 4, 9);
    BOOST_TEST(!parse_ip_packet(p).has_value());
    put16(p, 4, 7);
    BOOST_TEST(!parse_ip_packet(p).has_value());
    p = good;
    put16(p, 4, 0);  // a jumbogram's payload length: refused
    BOOST_TEST(!parse_ip_packet(p).has_value());
    bytes short_header(good.begin(), good.begin() + 39);
    BOOST_TEST(!parse_ip_packet(short_header).has_value());

    // An extension header whose length runs past the end.
    auto chain = v6_packet("2001:db8::1", "2001:db8::2", {{60, 16}}, 17, 0);
    chain[41] = 2;  // claims 24 bytes, 16 present
    BOOST_TEST(!parse_ip_packet(chain).has_value());
    // The chain names an extension header but the packet ends.
    auto cut = v6_packet("2001:db8::1", "2001:db8::2", {}, 60, 4);
    BOOST_TEST(!parse_ip_packet(cut).has_value());

    // Nine extension headers: more than the walk allows.
    std::vector<ext> nine(9, ext{60, 8});
    auto many = v6_packet("2001:db8::1", "2001:db8::2", nine, 17, 8);
    BOOST_TEST(!parse_ip_packet(many).has_value());
    std::vector<ext> eight(8, ext{60, 8});
    auto enough = v6_packet("2001:db8::1", "2001:db8::2", eight, 17, 8);
    BOOST_TEST(parse_ip_packet(enough).has_value());
}

BOOST_AUTO_TEST_CASE(random_bytes_stay_in_bounds) {
    std::mt19937 rng(20240611);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<std::size_t> len(0, 120);
    for (int round = 0; round < 20000; ++round) {
        bytes p(len(rng));
        for (auto& b : p) b = static_cast<std::uint8_t>(byte(rng));
        if (!p.empty()) p[0] = static_cast<std::uint8_t>((round % 2 ? 0x40 : 0x60) | (p[0] & 0x0f));
        // Make the length fields agree often enough to reach the deep paths.
        if (p.size() >= 40 && round % 4 < 2) {
            if (round % 2)
                put16(p, 2, static_cast<unsigned>(p.size()));
            else
                put16(p, 4, static_cast<unsigned>(p.size() - 40));
        }
        auto info = parse_ip_packet(p);
        if (info) BOOST_TEST(info->header_length <= p.size());
    }
}

BOOST_AUTO_TEST_SUITE_END()
