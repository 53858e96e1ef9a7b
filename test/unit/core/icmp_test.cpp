// core/icmp: the "destination unreachable" answer to an unrouted packet.
// Every field of the v4 and v6 answers is checked, both checksums against a
// checksum written independently here (the sum over a correct header or
// message, its checksum included, folds to 0xffff), and every rule that
// says "no answer".
#include "core/icmp.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <vector>

#include "core/ip_packet.hpp"
#include "wire/ip.hpp"

namespace {

using weft::build_icmp_unreachable;
using weft::ip_address;
using bytes = std::vector<std::uint8_t>;

ip_address addr(const char* text) {
    auto a = weft::parse_ip(text);
    BOOST_TEST_REQUIRE(a.has_value());
    return *a;
}

unsigned get16(const bytes& b, std::size_t off) {
    return unsigned{b[off]} << 8 | b[off + 1];
}
void put16(bytes& b, std::size_t off, unsigned v) {
    b[off] = static_cast<std::uint8_t>(v >> 8);
    b[off + 1] = static_cast<std::uint8_t>(v);
}

// The plain RFC 1071 sum, folded, not complemented: 0xffff over data that
// includes a correct checksum.
unsigned ones_sum(const bytes& data, unsigned start = 0) {
    unsigned long sum = start;
    for (std::size_t i = 0; i < data.size(); i += 2) {
        unsigned hi = data[i];
        unsigned lo = i + 1 < data.size() ? data[i + 1] : 0;
        sum += hi * 256 + lo;
    }
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<unsigned>(sum);
}

unsigned v6_pseudo_sum(const ip_address& src, const ip_address& dst, std::size_t length,
                       unsigned next_header) {
    bytes pseudo;
    pseudo.insert(pseudo.end(), src.bytes.begin(), src.bytes.end());
    pseudo.insert(pseudo.end(), dst.bytes.begin(), dst.bytes.end());
    pseudo.push_back(static_cast<std::uint8_t>(length >> 24));
    pseudo.push_back(static_cast<std::uint8_t>(length >> 16));
    pseudo.push_back(static_cast<std::uint8_t>(length >> 8));
    pseudo.push_back(static_cast<std::uint8_t>(length));
    pseudo.insert(pseudo.end(), {0, 0, 0, static_cast<std::uint8_t>(next_header)});
    return ones_sum(pseudo);
}

bytes v4_packet(const char* src, const char* dst, std::uint8_t proto, std::size_t payload,
                std::uint8_t first_payload_byte = 0, unsigned frag_field = 0,
                std::size_t options = 0) {
    std::size_t hl = 20 + options;
    bytes p(hl + payload);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i * 7 + 3);
    p[0] = static_cast<std::uint8_t>(0x40 | (hl / 4));
    put16(p, 2, static_cast<unsigned>(p.size()));
    put16(p, 6, frag_field);
    p[8] = 17;
    p[9] = proto;
    auto s = addr(src), d = addr(dst);
    std::copy_n(s.bytes.begin(), 4, p.begin() + 12);
    std::copy_n(d.bytes.begin(), 4, p.begin() + 16);
    for (std::size_t i = 20; i < hl; ++i) p[i] = 1;
    if (payload > 0) p[hl] = first_payload_byte;
    return p;
}

bytes v6_packet(const char* src, const char* dst, std::uint8_t next, std::size_t payload,
                std::uint8_t first_payload_byte = 0) {
    bytes p(40 + payload);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i * 5 + 1);
    p[0] = 0x60;
    p[1] = p[2] = p[3] = 0;
    put16(p, 4, static_cast<unsigned>(payload));
    p[6] = next;
    p[7] = 9;
    auto s = addr(src), d = addr(dst);
    std::copy_n(s.bytes.begin(), 16, p.begin() + 8);
    std::copy_n(d.bytes.begin(), 16, p.begin() + 24);
    if (payload > 0) p[40] = first_payload_byte;
    return p;
}

std::size_t answer(const bytes& packet, bytes& out) {
    out.assign(weft::icmp_unreachable_max_size, 0xee);
    std::size_t n = build_icmp_unreachable(packet, out);
    out.resize(n);
    return n;
}

void check_v4_answer(const bytes& original, const bytes& a, std::size_t quote) {
    BOOST_TEST_REQUIRE(a.size() == 20 + 8 + quote);
    BOOST_TEST(a[0] == 0x45);
    BOOST_TEST(a[1] == 0xc0);
    BOOST_TEST(get16(a, 2) == a.size());
    BOOST_TEST(get16(a, 4) == 0u);       // identification: atomic datagram
    BOOST_TEST(get16(a, 6) == 0x4000u);  // DF, offset 0
    BOOST_TEST(a[8] == 64);
    BOOST_TEST(a[9] == 1);
    BOOST_TEST(ones_sum(bytes(a.begin(), a.begin() + 20)) == 0xffffu);
    BOOST_TEST(get16(a, 10) != 0u);
    // Source: the original destination; destination: the original source.
    BOOST_TEST(bytes(a.begin() + 12, a.begin() + 16) ==
               bytes(original.begin() + 16, original.begin() + 20));
    BOOST_TEST(bytes(a.begin() + 16, a.begin() + 20) ==
               bytes(original.begin() + 12, original.begin() + 16));
    BOOST_TEST(a[20] == 3);
    BOOST_TEST(a[21] == 0);
    BOOST_TEST(ones_sum(bytes(a.begin() + 20, a.end())) == 0xffffu);
    BOOST_TEST(get16(a, 24) == 0u);
    BOOST_TEST(get16(a, 26) == 0u);
    BOOST_TEST(bytes(a.begin() + 28, a.end()) ==
               bytes(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(quote)));
    // And the answer is itself a packet our parser accepts.
    auto info = weft::parse_ip_packet(a);
    BOOST_TEST_REQUIRE(info.has_value());
    BOOST_TEST(info->protocol == 1);
}

void check_v6_answer(const bytes& original, const bytes& a, std::size_t quote) {
    BOOST_TEST_REQUIRE(a.size() == 40 + 8 + quote);
    BOOST_TEST(a[0] == 0x60);
    BOOST_TEST(a[1] == 0);
    BOOST_TEST(a[2] == 0);
    BOOST_TEST(a[3] == 0);
    BOOST_TEST(get16(a, 4) == 8 + quote);
    BOOST_TEST(a[6] == 58);
    BOOST_TEST(a[7] == 64);
    BOOST_TEST(bytes(a.begin() + 8, a.begin() + 24) ==
               bytes(original.begin() + 24, original.begin() + 40));
    BOOST_TEST(bytes(a.begin() + 24, a.begin() + 40) ==
               bytes(original.begin() + 8, original.begin() + 24));
    BOOST_TEST(a[40] == 1);
    BOOST_TEST(a[41] == 0);
    BOOST_TEST(get16(a, 44) == 0u);
    BOOST_TEST(get16(a, 46) == 0u);
    BOOST_TEST(bytes(a.begin() + 48, a.end()) ==
               bytes(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(quote)));

    ip_address src, dst;
    src.family = dst.family = weft::ip_family::v6;
    std::copy_n(a.begin() + 8, 16, src.bytes.begin());
    std::copy_n(a.begin() + 24, 16, dst.bytes.begin());
    bytes icmp(a.begin() + 40, a.end());
    BOOST_TEST(ones_sum(icmp, v6_pseudo_sum(src, dst, icmp.size(), 58)) == 0xffffu);
    // Without the pseudo-header the sum must not verify: it is really used.
    BOOST_TEST(ones_sum(icmp) != 0xffffu);
    auto info = weft::parse_ip_packet(a);
    BOOST_TEST_REQUIRE(info.has_value());
    BOOST_TEST(info->protocol == 58);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(icmp)

BOOST_AUTO_TEST_CASE(v4_small_packet_quoted_whole) {
    auto p = v4_packet("198.19.1.1", "198.19.200.2", 17, 100);
    bytes a;
    BOOST_TEST(answer(p, a) == 20u + 8 + 120);
    check_v4_answer(p, a, p.size());
}

BOOST_AUTO_TEST_CASE(v4_large_packet_quoted_to_576) {
    auto p = v4_packet("198.19.1.1", "198.19.200.2", 6, 1380);
    bytes a;
    BOOST_TEST(answer(p, a) == 576u);
    check_v4_answer(p, a, 576 - 28);
}

BOOST_AUTO_TEST_CASE(v4_odd_length_and_options) {
    auto p = v4_packet("198.19.1.1", "198.19.200.2", 17, 33, 0, 0, 12);
    bytes a;
    BOOST_TEST(answer(p, a) == 28u + 65);
    check_v4_answer(p, a, p.size());
}

BOOST_AUTO_TEST_CASE(v4_informational_icmp_and_first_fragment_answered) {
    bytes a;
    auto echo = v4_packet("198.19.1.1", "198.19.200.2", 1, 64, 8);
    BOOST_TEST(answer(echo, a) > 0u);
    check_v4_answer(echo, a, echo.size());
    auto first = v4_packet("198.19.1.1", "198.19.200.2", 17, 64, 0, 0x2000);
    BOOST_TEST(answer(first, a) > 0u);
    check_v4_answer(first, a, first.size());
}

BOOST_AUTO_TEST_CASE(v6_small_packet_quoted_whole) {
    auto p = v6_packet("2001:db8::1", "2001:db8:ff::2", 17, 77);
    bytes a;
    BOOST_TEST(answer(p, a) == 40u + 8 + 117);
    check_v6_answer(p, a, p.size());
}

BOOST_AUTO_TEST_CASE(v6_large_packet_quoted_to_1280) {
    auto p = v6_packet("2001:db8::1", "2001:db8:ff::2", 6, 1400);
    bytes a;
    BOOST_TEST(answer(p, a) == 1280u);
    check_v6_answer(p, a, 1280 - 48);
}

BOOST_AUTO_TEST_CASE(v6_informational_icmp_answered) {
    bytes a;
    auto echo = v6_packet("2001:db8::1", "2001:db8:ff::2", 58, 16, 128);
    BOOST_TEST(answer(echo, a) > 0u);
    check_v6_answer(echo, a, echo.size());
}

BOOST_AUTO_TEST_CASE(never_answer_icmp_errors) {
    bytes a;
    for (int type : {3, 4, 5, 11, 12}) {
        auto p = v4_packet("198.19.1.1", "198.19.200.2", 1, 36, static_cast<std::uint8_t>(type));
        BOOST_TEST(answer(p, a) == 0u, "ICMPv4 type " << type);
    }
    for (int type : {0, 1, 2, 3, 4, 100, 127}) {
        auto p =
            v6_packet("2001:db8::1", "2001:db8:ff::2", 58, 36, static_cast<std::uint8_t>(type));
        BOOST_TEST(answer(p, a) == 0u, "ICMPv6 type " << type);
    }
    // An ICMP packet with no room for its type: cannot tell, so no answer.
    auto bare4 = v4_packet("198.19.1.1", "198.19.200.2", 1, 0);
    BOOST_TEST(answer(bare4, a) == 0u);
    auto bare6 = v6_packet("2001:db8::1", "2001:db8:ff::2", 58, 0);
    BOOST_TEST(answer(bare6, a) == 0u);
}

BOOST_AUTO_TEST_CASE(never_answer_non_first_fragments) {
    bytes a;
    // Offset 1 (8 bytes), and a payload whose first byte would be an echo.
    auto p4 = v4_packet("198.19.1.1", "198.19.200.2", 17, 40, 8, 0x0001);
    BOOST_TEST(answer(p4, a) == 0u);
    auto p6 = v6_packet("2001:db8::1", "2001:db8:ff::2", 44, 40, 17);
    put16(p6, 42, 0x0010);  // fragment offset 2, M = 0
    BOOST_TEST(answer(p6, a) == 0u);
    put16(p6, 42, 0x0001);  // the first fragment is answered
    BOOST_TEST(answer(p6, a) > 0u);
}

BOOST_AUTO_TEST_CASE(never_answer_sources_that_are_not_one_host) {
    bytes a;
    for (const char* src : {"0.0.0.0", "0.1.2.3", "127.0.0.1", "224.0.0.1", "239.1.2.3",
                            "240.0.0.1", "255.255.255.255"}) {
        auto p = v4_packet(src, "198.19.200.2", 17, 20);
        BOOST_TEST(answer(p, a) == 0u, "source " << src);
    }
    for (const char* src : {"::", "::1", "ff02::1", "ff0e::5"}) {
        auto p = v6_packet(src, "2001:db8:ff::2", 17, 20);
        BOOST_TEST(answer(p, a) == 0u, "source " << src);
    }
}

BOOST_AUTO_TEST_CASE(never_answer_to_multicast_or_broadcast_destinations) {
    bytes a;
    for (const char* dst : {"224.0.0.5", "239.255.0.1", "255.255.255.255", "0.0.0.0"}) {
        auto p = v4_packet("198.19.1.1", dst, 17, 20);
        BOOST_TEST(answer(p, a) == 0u, "destination " << dst);
    }
    for (const char* dst : {"ff02::1", "ff0e::1", "::"}) {
        auto p = v6_packet("2001:db8::1", dst, 17, 20);
        BOOST_TEST(answer(p, a) == 0u, "destination " << dst);
    }
}

BOOST_AUTO_TEST_CASE(unparseable_packet_gets_no_answer) {
    bytes a;
    auto p = v4_packet("198.19.1.1", "198.19.200.2", 17, 20);
    put16(p, 2, 99);
    BOOST_TEST(answer(p, a) == 0u);
    BOOST_TEST(answer(bytes{}, a) == 0u);
}

BOOST_AUTO_TEST_CASE(small_output_buffer_shortens_the_quote) {
    auto p = v4_packet("198.19.1.1", "198.19.200.2", 17, 200);
    // Room for the headers, the original header and 8 bytes: the minimum.
    bytes out(28 + 28);
    BOOST_TEST(build_icmp_unreachable(p, out) == 56u);
    check_v4_answer(p, out, 28);
    bytes too_small(28 + 27);
    BOOST_TEST(build_icmp_unreachable(p, too_small) == 0u);

    auto p6 = v6_packet("2001:db8::1", "2001:db8:ff::2", 17, 200);
    bytes out6(48 + 100);
    BOOST_TEST(build_icmp_unreachable(p6, out6) == 148u);
    check_v6_answer(p6, out6, 100);
    bytes too_small6(48 + 47);
    BOOST_TEST(build_icmp_unreachable(p6, too_small6) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
