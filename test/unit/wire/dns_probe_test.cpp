// wire/dns_probe: name encoding and its limits, the query bytes, and
// check_reply: what a live server may send (any RCODE, compression, TC)
// and every rejection by its reason.
#include "wire/dns_probe.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

namespace dns = weft::dns;
using bytes = std::vector<std::uint8_t>;
using dns::reply_errc;

bytes query(std::uint16_t id = 0x1234, const char* name = ".", std::uint16_t qtype = dns::type_ns) {
    auto q = dns::build_query(id, name, qtype);
    BOOST_REQUIRE(q.has_value());
    return std::move(q).value();
}

void put16(bytes& b, std::size_t off, std::uint16_t v) {
    b[off] = static_cast<std::uint8_t>(v >> 8);
    b[off + 1] = static_cast<std::uint8_t>(v & 0xff);
}

// A reply to `q` as a server writes it: the same id and question, QR|RD|RA,
// `rcode`, and `answers` NS records whose owner is a pointer to the question.
bytes reply_to(const bytes& q, std::uint8_t rcode = 0, std::uint16_t answers = 1) {
    bytes r(q);
    put16(r, dns::off::flags, static_cast<std::uint16_t>(0x8180 | rcode));
    put16(r, dns::off::ancount, answers);
    const bytes rdata{1, 'a', 4, 't', 'e', 's', 't', 0};
    for (std::uint16_t i = 0; i < answers; ++i) {
        bytes rr{0xc0, 0x0c, 0,    2,    0, 1,
                 0,    0,    0x0e, 0x10, 0, static_cast<std::uint8_t>(rdata.size())};
        rr.insert(rr.end(), rdata.begin(), rdata.end());
        r.insert(r.end(), rr.begin(), rr.end());
    }
    return r;
}

void expect(const bytes& q, const bytes& r, reply_errc want) {
    auto got = dns::check_reply(q, r);
    BOOST_REQUIRE(!got.has_value());
    BOOST_TEST(static_cast<int>(got.error()) == static_cast<int>(want),
               "got " << dns::to_string(got.error()) << ", wanted " << dns::to_string(want));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_probe)

BOOST_AUTO_TEST_CASE(encode_name_forms) {
    BOOST_TEST(*dns::encode_name(".") == bytes{0}, boost::test_tools::per_element());
    BOOST_TEST(*dns::encode_name("") == bytes{0}, boost::test_tools::per_element());
    bytes want{7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0};
    BOOST_TEST(*dns::encode_name("example.org") == want, boost::test_tools::per_element());
    BOOST_TEST(*dns::encode_name("example.org.") == want, boost::test_tools::per_element());
    BOOST_TEST(dns::encode_name("_dns.x-1.Example").has_value());
}

BOOST_AUTO_TEST_CASE(encode_name_rejects) {
    auto err = [](const std::string& n) {
        auto r = dns::encode_name(n);
        BOOST_REQUIRE(!r.has_value());
        return r.error();
    };
    using E = dns::query_errc;
    BOOST_TEST((err("a..b") == E::empty_label));
    BOOST_TEST((err(".a") == E::empty_label));
    BOOST_TEST((err("a..") == E::empty_label));
    BOOST_TEST((err("..") == E::empty_label));
    BOOST_TEST((err(std::string(64, 'a')) == E::label_too_long));
    BOOST_TEST(dns::encode_name(std::string(63, 'a')).has_value());
    // 3 x 63-byte labels + one of 61: 3*64 + 62 + 1 = 255 bytes, the most.
    std::string l63(63, 'a'), l61(61, 'b');
    BOOST_TEST(dns::encode_name(l63 + "." + l63 + "." + l63 + "." + l61).has_value());
    BOOST_TEST((err(l63 + "." + l63 + "." + l63 + "." + l61 + "b") == E::name_too_long));
    BOOST_TEST((err("a b") == E::bad_character));
    BOOST_TEST((err("a!") == E::bad_character));
    BOOST_TEST((err("\xc3\xa9t\xc3\xa9") == E::bad_character));
}

BOOST_AUTO_TEST_CASE(query_bytes) {
    bytes want{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1};
    BOOST_TEST(query() == want, boost::test_tools::per_element());
    auto q = query(0xbeef, "a.b", 1);
    bytes want2{0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 1, 'b', 0, 0, 1, 0, 1};
    BOOST_TEST(q == want2, boost::test_tools::per_element());
    BOOST_TEST(!dns::build_query(1, "a..b").has_value());
}

BOOST_AUTO_TEST_CASE(any_rcode_is_an_answer) {
    auto q = query();
    for (int code : {0, 1, 2, 3, 4, 5, 9}) {
        auto rcode = static_cast<std::uint8_t>(code);
        auto r = dns::check_reply(q, reply_to(q, rcode));
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(r->rcode == rcode);
        BOOST_TEST(r->answers == 1u);
        BOOST_TEST(!r->truncated);
    }
    auto empty = dns::check_reply(q, reply_to(q, 5, 0));  // REFUSED, no records
    BOOST_REQUIRE(empty.has_value());
    BOOST_TEST(empty->answers == 0u);
}

BOOST_AUTO_TEST_CASE(records_in_every_section) {
    auto q = query();
    auto r = reply_to(q, 0, 2);
    put16(r, dns::off::ancount, 1);
    put16(r, dns::off::nscount, 0);
    put16(r, dns::off::arcount, 1);
    BOOST_TEST(dns::check_reply(q, r).has_value());
    // An uncompressed owner name works as well as a pointer.
    auto u = q;
    put16(u, dns::off::flags, 0x8180);
    put16(u, dns::off::arcount, 1);
    bytes rr{1, 'x', 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 0, 0, 1};
    u.insert(u.end(), rr.begin(), rr.end());
    BOOST_TEST(dns::check_reply(q, u).has_value());
}

BOOST_AUTO_TEST_CASE(question_case_may_differ) {
    auto q = query(7, "Example.ORG");
    auto r = reply_to(q);
    r[13] = 'e';  // "Example" -> "example"
    r[21] = 'o';
    BOOST_TEST(dns::check_reply(q, r).has_value());
}

BOOST_AUTO_TEST_CASE(truncated_reply_may_stop_early) {
    auto q = query();
    auto r = reply_to(q, 0, 3);
    put16(r, dns::off::flags, 0x8380);  // TC
    r.resize(r.size() - 10);
    auto got = dns::check_reply(q, r);
    BOOST_REQUIRE(got.has_value());
    BOOST_TEST(got->truncated);
    // The same cut without TC is malformed.
    put16(r, dns::off::flags, 0x8180);
    expect(q, r, reply_errc::malformed_record);
}

BOOST_AUTO_TEST_CASE(rejections) {
    auto q = query();
    const auto good = reply_to(q);

    expect(q, bytes(good.begin(), good.begin() + 11), reply_errc::too_short);
    expect(q, {}, reply_errc::too_short);

    auto r = good;
    r[1] ^= 1;
    expect(q, r, reply_errc::id_mismatch);

    r = good;
    put16(r, dns::off::flags, 0x0180);  // QR clear: our own query reflected
    expect(q, r, reply_errc::not_response);
    expect(q, q, reply_errc::not_response);

    r = good;
    put16(r, dns::off::flags, 0x8180 | (2u << 11));  // opcode STATUS
    expect(q, r, reply_errc::opcode_mismatch);

    r = good;
    put16(r, dns::off::qdcount, 0);
    expect(q, r, reply_errc::bad_counts);
    put16(r, dns::off::qdcount, 2);
    expect(q, r, reply_errc::bad_counts);
    r = good;
    put16(r, dns::off::nscount, dns::max_section_records + 1);
    expect(q, r, reply_errc::bad_counts);
    r = good;
    put16(r, dns::off::arcount, 0xffff);
    expect(q, r, reply_errc::bad_counts);

    r = good;
    r[14] = 1;  // QTYPE NS -> A
    expect(q, r, reply_errc::question_mismatch);
    r = good;
    r[16] = 3;  // QCLASS IN -> CH
    expect(q, r, reply_errc::question_mismatch);
    auto qa = query(0x1234, "a");
    auto ra = reply_to(qa);
    ra[13] = 'b';
    expect(qa, ra, reply_errc::question_mismatch);
    expect(qa, bytes(ra.begin(), ra.begin() + 16), reply_errc::question_mismatch);

    r = good;
    put16(r, dns::off::ancount, 5);  // claims records it does not carry
    expect(q, r, reply_errc::malformed_record);
    r = good;
    r[17] = 0xc0, r[18] = 0x30;  // pointer forwards
    expect(q, r, reply_errc::malformed_record);
    r = good;
    r[17] = 0xc0, r[18] = 0x02;  // pointer into the header
    expect(q, r, reply_errc::malformed_record);
    r = good;
    r[17] = 0x40;  // extended label type
    expect(q, r, reply_errc::malformed_record);
    r = good;
    r[17] = 0x80;  // reserved label type
    expect(q, r, reply_errc::malformed_record);
    r = good;
    put16(r, 17 + 10, 200);  // RDLENGTH past the end
    expect(q, r, reply_errc::malformed_record);

    r = good;
    r.push_back(0);
    expect(q, r, reply_errc::trailing_bytes);
}

BOOST_AUTO_TEST_CASE(bad_query_is_reported) {
    auto q = query();
    auto r = reply_to(q);
    expect(bytes{1, 2, 3}, r, reply_errc::bad_query);
    auto bad = q;
    put16(bad, dns::off::qdcount, 2);
    expect(bad, r, reply_errc::bad_query);
    bad = q;
    bad.push_back(0);
    expect(bad, r, reply_errc::bad_query);
}

BOOST_AUTO_TEST_CASE(names_of_reasons) {
    BOOST_TEST(std::string(dns::to_string(reply_errc::id_mismatch)) ==
               "id does not match the query");
    BOOST_TEST(std::string(dns::to_string(dns::query_errc::empty_label)) ==
               "empty label in the query name");
}

// Random datagrams (with our id and QR set, to get past the first checks)
// are essentially never an answer; mutating a good reply never crashes.
BOOST_AUTO_TEST_CASE(random_and_mutated_replies) {
    std::mt19937_64 rng(std::random_device{}());
    auto q = query();
    const auto good = reply_to(q, 0, 3);
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        bytes r(12 + rng() % 60);
        for (auto& b : r) b = static_cast<std::uint8_t>(rng());
        r[0] = 0x12, r[1] = 0x34, r[2] |= 0x80;
        if (dns::check_reply(q, r)) ++accepted;
        auto m = good;
        m[rng() % m.size()] = static_cast<std::uint8_t>(rng());
        if (rng() % 3 == 0) m.resize(rng() % m.size());
        (void)dns::check_reply(q, m);
    }
    BOOST_TEST(accepted == 0);
}

BOOST_AUTO_TEST_SUITE_END()
