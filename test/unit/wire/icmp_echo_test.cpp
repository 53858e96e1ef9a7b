// wire/icmp_echo: the RFC 1071 checksum, request bytes for both families,
// what counts as our echo reply, and the IPv4 header strip of raw sockets.
#include "wire/icmp_echo.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <vector>

namespace {

namespace ie = weft::icmp_echo;
using bytes = std::vector<std::uint8_t>;
using weft::ip_family;

ie::token make_token() {
    ie::token t{};
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::uint8_t>(0xa0 + i);
    return t;
}

// The reply a host sends to `request`: type changed, checksum redone (v4).
bytes reply_to(ip_family f, bytes m) {
    m[ie::off_type] = f == ip_family::v4 ? ie::v4_reply : ie::v6_reply;
    if (f == ip_family::v4) {
        m[2] = m[3] = 0;
        auto c = ie::internet_checksum(m);
        m[2] = static_cast<std::uint8_t>(c >> 8), m[3] = static_cast<std::uint8_t>(c & 0xff);
    }
    return m;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(icmp_echo)

BOOST_AUTO_TEST_CASE(checksum_rfc1071_example) {
    // RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2.
    BOOST_TEST(ie::internet_checksum(bytes{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}) ==
               0x220du);
    BOOST_TEST(ie::internet_checksum(bytes{0x01}) == 0xfeffu);  // odd length: padded with zero
    BOOST_TEST(ie::internet_checksum(bytes{}) == 0xffffu);
}

BOOST_AUTO_TEST_CASE(request_bytes) {
    auto t = make_token();
    auto v4 = ie::build_request(ip_family::v4, 0x0102, 0x0304, t);
    BOOST_REQUIRE(v4.size() == ie::message_size);
    BOOST_TEST(v4[0] == 8u);
    BOOST_TEST(v4[1] == 0u);
    BOOST_TEST(v4[4] == 1u);
    BOOST_TEST(v4[5] == 2u);
    BOOST_TEST(v4[6] == 3u);
    BOOST_TEST(v4[7] == 4u);
    BOOST_TEST(ie::internet_checksum(v4) == 0u);  // a correct checksum sums to zero
    BOOST_TEST(v4[8] == 0xa0u);
    auto v6 = ie::build_request(ip_family::v6, 1, 2, t);
    BOOST_TEST(v6[0] == 128u);
    BOOST_TEST(v6[2] == 0u);
    BOOST_TEST(v6[3] == 0u);  // the kernel fills it
}

BOOST_AUTO_TEST_CASE(accepts_our_reply) {
    auto t = make_token();
    for (auto f : {ip_family::v4, ip_family::v6}) {
        auto r = reply_to(f, ie::build_request(f, 9, 0xfffe, t));
        auto seq = ie::check_reply(f, r, t);
        BOOST_REQUIRE(seq.has_value());
        BOOST_TEST(*seq == 0xfffeu);
        // The identifier is not checked (ping sockets rewrite it).
        r[4] ^= 0xff;
        BOOST_TEST(ie::check_reply(f, reply_to(f, r), t).has_value());
    }
}

BOOST_AUTO_TEST_CASE(rejections) {
    auto t = make_token();
    const auto good4 = reply_to(ip_family::v4, ie::build_request(ip_family::v4, 1, 1, t));
    auto r = good4;
    BOOST_TEST(!ie::check_reply(ip_family::v4, ie::build_request(ip_family::v4, 1, 1, t),
                                t));                        // a request
    BOOST_TEST(!ie::check_reply(ip_family::v6, good4, t));  // type 0 is not ICMPv6 echo reply
    r[1] = 1;
    BOOST_TEST(!ie::check_reply(ip_family::v4, r, t));  // code, checksum off too
    r = good4;
    r[3] ^= 1;
    BOOST_TEST(!ie::check_reply(ip_family::v4, r, t));  // checksum
    auto other = t;
    other[0] ^= 1;
    BOOST_TEST(!ie::check_reply(ip_family::v4, good4, other));  // not our token
    r = good4;
    r.push_back(0);
    BOOST_TEST(!ie::check_reply(ip_family::v4, r, t));  // length
    BOOST_TEST(!ie::check_reply(ip_family::v4, bytes(good4.begin(), good4.begin() + 8), t));
    BOOST_TEST(!ie::check_reply(ip_family::v4, bytes{}, t));
    auto good6 = reply_to(ip_family::v6, ie::build_request(ip_family::v6, 1, 1, t));
    good6[1] = 3;
    BOOST_TEST(!ie::check_reply(ip_family::v6, good6, t));
}

BOOST_AUTO_TEST_CASE(strip_ipv4_header) {
    bytes payload{1, 2, 3};
    bytes p(20, 0);
    p[0] = 0x45;
    p[3] = 23;
    p.insert(p.end(), payload.begin(), payload.end());
    auto s = ie::strip_ipv4_header(p);
    BOOST_REQUIRE(s.has_value());
    BOOST_TEST(bytes(s->begin(), s->end()) == payload, boost::test_tools::per_element());
    auto opt = p;
    opt[0] = 0x46;  // 24-byte header: options
    opt.insert(opt.begin() + 20, 4, 0);
    opt[3] = 27;
    BOOST_TEST(ie::strip_ipv4_header(opt)->size() == 3u);
    auto bad = p;
    bad[0] = 0x65;
    BOOST_TEST(!ie::strip_ipv4_header(bad));  // version 6
    bad = p;
    bad[0] = 0x44;
    BOOST_TEST(!ie::strip_ipv4_header(bad));  // IHL below 5
    bad = p;
    bad[0] = 0x4f;
    BOOST_TEST(!ie::strip_ipv4_header(bad));  // IHL past the end
    bad = p;
    bad[3] = 24;
    BOOST_TEST(!ie::strip_ipv4_header(bad));  // total length mismatch
    BOOST_TEST(!ie::strip_ipv4_header(bytes(19, 0x45)));
}

BOOST_AUTO_TEST_SUITE_END()
