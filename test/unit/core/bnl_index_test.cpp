#include <boost/test/unit_test.hpp>

#include "core/bnl_index.hpp"

BOOST_AUTO_TEST_SUITE(bnl_index_lookups)

BOOST_AUTO_TEST_CASE(name_id_and_longest_prefix_owner) {
    auto list = weft::parse_bnl(
        "network = t\n"
        "[node a]\nid = 1\nipv4 = 198.18.0.1\nsubnet = 198.19.0.0/16\nsubnet = 2001:db8::/32\n"
        "[node b]\nid = 7\nipv4 = 198.18.0.2\nsubnet = 198.20.1.0/24\nsubnet = 2001:dba:1::/48\n");
    BOOST_REQUIRE(list.has_value());
    weft::bnl_index idx(std::move(list).value());
    BOOST_TEST(idx.by_name("b")->id == 7u);
    BOOST_TEST(idx.by_id(1)->name == "a");
    BOOST_TEST(!idx.by_name("c"));
    BOOST_TEST(!idx.by_id(2));
    BOOST_TEST(idx.owner(*weft::parse_ip("198.19.200.3"))->name == "a");
    BOOST_TEST(idx.owner(*weft::parse_ip("198.20.1.9"))->name == "b");
    BOOST_TEST(!idx.owner(*weft::parse_ip("198.20.2.9")));
    BOOST_TEST(idx.owner(*weft::parse_ip("2001:dba:1::5"))->name == "b");
    BOOST_TEST(idx.owner(*weft::parse_ip("2001:db8:ffff::1"))->name == "a");
    BOOST_TEST(!idx.owner(*weft::parse_ip("198.18.0.1")));  // endpoints are not subnets
}

BOOST_AUTO_TEST_SUITE_END()
