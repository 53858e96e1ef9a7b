// The strict UTF-8 decoder every text parser uses (base/utf8.hpp).
#include "base/utf8.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

BOOST_AUTO_TEST_SUITE(utf8)

using weft::decode_utf8;
using weft::first_invalid_utf8;

BOOST_AUTO_TEST_CASE(well_formed_sequences_decode_to_their_code_points) {
    BOOST_TEST(decode_utf8("A", 0).length == 1u);
    BOOST_TEST(decode_utf8("A", 0).code_point == 0x41u);
    BOOST_TEST(decode_utf8("\xc3\xa9", 0).code_point == 0xe9u);
    BOOST_TEST(decode_utf8("\xe2\x80\xa6", 0).length == 3u);
    BOOST_TEST(decode_utf8("\xe2\x80\xa6", 0).code_point == 0x2026u);
    BOOST_TEST(decode_utf8("\xf4\x8f\xbf\xbf", 0).code_point == 0x10ffffu);
    BOOST_TEST(decode_utf8("x\xc2\x80", 1).code_point == 0x80u);
}

BOOST_AUTO_TEST_CASE(every_malformed_form_is_refused) {
    for (const std::string& bad : {
             std::string("\x80"),              // continuation where a sequence starts
             std::string("\xc0\xaf"),          // overlong '/'
             std::string("\xe0\x80\xaf"),      // overlong, three bytes
             std::string("\xf0\x80\x80\xaf"),  // overlong, four bytes
             std::string("\xed\xa0\x80"),      // surrogate U+D800
             std::string("\xf4\x90\x80\x80"),  // above U+10FFFF
             std::string("\xf8\x88\x80\x80\x80"),
             std::string("\xc3"),              // truncated
             std::string("\xe2\x80"),          // truncated
             std::string("\xc3(")}) {          // bad continuation
        BOOST_TEST(decode_utf8(bad, 0).length == 0u, "accepted: " << bad.size() << " bytes");
        BOOST_TEST(!weft::valid_utf8(bad));
    }
    BOOST_TEST(first_invalid_utf8("ok\xc3\xa9\xff") == 4u);
    BOOST_TEST(first_invalid_utf8("ok\xc3\xa9") == std::string_view::npos);
    BOOST_TEST(weft::valid_utf8(""));
}

BOOST_AUTO_TEST_CASE(controls_are_c0_del_and_c1) {
    BOOST_TEST(weft::is_control_character(0x00));
    BOOST_TEST(weft::is_control_character(0x1b));
    BOOST_TEST(weft::is_control_character(0x7f));
    BOOST_TEST(weft::is_control_character(0x9b));
    BOOST_TEST(!weft::is_control_character(0x20));
    BOOST_TEST(!weft::is_control_character(0xa0));
    BOOST_TEST(!weft::is_control_character(0x2026));
}

BOOST_AUTO_TEST_SUITE_END()
