#include <boost/test/unit_test.hpp>

#include "base/endian.hpp"
#include "base/hex.hpp"

BOOST_AUTO_TEST_SUITE(hex_and_base64)

BOOST_AUTO_TEST_CASE(hex_round_trip_and_rejections) {
    std::vector<std::uint8_t> v{0x00, 0x01, 0xab, 0xff};
    BOOST_TEST(weft::to_hex(v) == "0001abff");
    BOOST_TEST(*weft::from_hex("0001ABff") == v);
    BOOST_TEST(!weft::from_hex("abc"));
    BOOST_TEST(!weft::from_hex("zz"));
    BOOST_TEST(!weft::from_hex("0x"));
}

BOOST_AUTO_TEST_CASE(base64_rfc4648_vectors) {
    const std::pair<std::string, std::string> vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, enc] : vectors) {
        std::vector<std::uint8_t> bytes(plain.begin(), plain.end());
        BOOST_TEST(weft::to_base64(bytes) == enc);
        auto dec = weft::from_base64(enc);
        BOOST_REQUIRE(dec);
        BOOST_TEST(*dec == bytes);
    }
}

BOOST_AUTO_TEST_CASE(base64_rejects_non_canonical) {
    BOOST_TEST(!weft::from_base64("Zg="));        // bad length
    BOOST_TEST(!weft::from_base64("Zh=="));       // non-zero padding bits
    BOOST_TEST(!weft::from_base64("Zm9v\n"));     // whitespace
    BOOST_TEST(!weft::from_base64("Z=9v"));       // padding in the middle
    BOOST_TEST(!weft::from_base64("Zm9v===="));   // padding-only group
    BOOST_TEST(!weft::from_base64("Zm-v"));       // url alphabet
}

BOOST_AUTO_TEST_CASE(big_endian_helpers) {
    std::array<std::uint8_t, 8> b{};
    weft::store_be<std::uint32_t>(b, 2, 0x01020304u);
    BOOST_TEST(b[2] == 1);
    BOOST_TEST(b[5] == 4);
    BOOST_TEST(weft::load_be32(b, 2) == 0x01020304u);
    weft::store_be<std::uint64_t>(b, 0, 0x1122334455667788ull);
    BOOST_TEST(weft::load_be64(b, 0) == 0x1122334455667788ull);
    BOOST_TEST(weft::load_be16(b, 6) == 0x7788u);
}

BOOST_AUTO_TEST_SUITE_END()
