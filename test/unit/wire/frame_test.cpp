// wire/frame: the header codec against its byte layout, round trips, every
// rejection of parse_header() by its frame_drop code (and the order of the
// checks), the drop reason names, and the nonce against hand-computed bytes.
#include "wire/frame.hpp"

#include <array>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace {

using weft::frame_drop;
using weft::frame_header;
using weft::frame_type;

constexpr std::size_t mtu = 1420;

// A whole frame: the header written by write_header(), then `payload` bytes
// of stand-in ciphertext and a stand-in tag.
std::vector<std::uint8_t> make_frame(const frame_header& h, std::size_t payload) {
    std::vector<std::uint8_t> f(weft::frame_overhead + payload, 0xa5);
    weft::write_header(
        std::span<std::uint8_t, weft::frame_header_size>(f.data(), weft::frame_header_size), h);
    return f;
}

// A valid frame's bytes, then patched by the caller.
std::vector<std::uint8_t> valid_data_frame(std::size_t payload = 100) {
    frame_header h;
    h.type = frame_type::data;
    h.epoch = 3;
    h.sender = 42;
    h.counter = 7;
    return make_frame(h, payload);
}

frame_drop drop_of(const std::vector<std::uint8_t>& f, std::size_t max_payload = mtu) {
    auto r = weft::parse_header(f, max_payload);
    BOOST_REQUIRE(!r.has_value());
    return r.error();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(frame)

BOOST_AUTO_TEST_CASE(layout_constants) {
    BOOST_TEST(weft::frame_header_size == 16u);
    BOOST_TEST(weft::frame_tag_size == 16u);
    BOOST_TEST(weft::frame_overhead == 32u);
    BOOST_TEST(weft::frame_min_size == 32u);
    BOOST_TEST(weft::frame_max_size(mtu) == 1452u);
}

BOOST_AUTO_TEST_CASE(header_bytes_match_the_spec) {
    frame_header h;
    h.type = frame_type::data;
    h.epoch = 0x7f;
    h.compression = weft::frame_compression_zlib;
    h.sender = 0x01020304;
    h.counter = 0x0102030405060708;
    std::array<std::uint8_t, 16> out{};
    weft::write_header(out, h);
    const std::array<std::uint8_t, 16> expected{0x01, 0x7f, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04,
                                                0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    BOOST_TEST(out == expected, boost::test_tools::per_element());

    h.type = frame_type::keepalive;
    h.epoch = 0;
    h.compression = weft::frame_compression_none;
    h.sender = 0xfffffffe;
    h.counter = 0xffffffffffffffff;
    weft::write_header(out, h);
    const std::array<std::uint8_t, 16> keepalive{0x02, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xfe,
                                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    BOOST_TEST(out == keepalive, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(round_trip) {
    const std::array<std::uint32_t, 4> senders{0, 1, 0x80000000u, 0xffffffffu};
    const std::array<std::uint64_t, 5> counters{0, 1, 0xffffffffu, 0x100000000u, ~std::uint64_t{0}};
    const std::array<std::uint8_t, 3> epochs{0, 1, 255};
    int checked = 0;
    for (auto type : {frame_type::data, frame_type::keepalive})
        for (std::uint8_t comp = 0; comp <= weft::frame_compression_max; ++comp) {
            if (type == frame_type::keepalive && comp != 0) continue;
            for (auto epoch : epochs)
                for (auto sender : senders)
                    for (auto counter : counters) {
                        frame_header h{type, epoch, comp, sender, counter};
                        // Keepalives are exactly the overhead; data frames
                        // from empty up to the MTU.
                        for (std::size_t payload : type == frame_type::keepalive
                                                       ? std::vector<std::size_t>{0}
                                                       : std::vector<std::size_t>{0, 1, 100, mtu}) {
                            const auto f = make_frame(h, payload);
                            auto r = weft::parse_header(f, mtu);
                            BOOST_REQUIRE(r.has_value());
                            BOOST_TEST((*r == h));
                            ++checked;
                        }
                    }
        }
    BOOST_TEST(checked > 300);
}

BOOST_AUTO_TEST_CASE(too_short) {
    for (std::size_t size : {0u, 1u, 15u, 16u, 17u, 31u}) {
        BOOST_TEST_CONTEXT("size " << size) {
            std::vector<std::uint8_t> f = valid_data_frame(0);
            f.resize(size);
            BOOST_TEST((drop_of(f) == frame_drop::too_short));
        }
    }
    // Exactly the overhead is the smallest valid frame.
    BOOST_TEST(weft::parse_header(valid_data_frame(0), mtu).has_value());
}

BOOST_AUTO_TEST_CASE(too_long) {
    BOOST_TEST(weft::parse_header(valid_data_frame(mtu), mtu).has_value());
    BOOST_TEST((drop_of(valid_data_frame(mtu + 1)) == frame_drop::too_long));
    BOOST_TEST((drop_of(valid_data_frame(65000)) == frame_drop::too_long));
    // A zero MTU admits only empty payloads.
    BOOST_TEST(weft::parse_header(valid_data_frame(0), 0).has_value());
    BOOST_TEST((drop_of(valid_data_frame(1), 0) == frame_drop::too_long));
    // No max_payload overflows the bound.
    BOOST_TEST(weft::parse_header(valid_data_frame(100), ~std::size_t{0}).has_value());
}

BOOST_AUTO_TEST_CASE(bad_type) {
    for (unsigned type : {0u, 3u, 4u, 0x81u, 0xffu}) {
        BOOST_TEST_CONTEXT("type " << type) {
            auto f = valid_data_frame();
            f[weft::frame_type_offset] = static_cast<std::uint8_t>(type);
            BOOST_TEST((drop_of(f) == frame_drop::bad_type));
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_flags) {
    // Every reserved bit, alone.
    for (unsigned bit = 2; bit < 16; ++bit) {
        BOOST_TEST_CONTEXT("flag bit " << bit) {
            auto f = valid_data_frame();
            const auto flags = static_cast<std::uint16_t>(1u << bit);
            f[weft::frame_flags_offset] = static_cast<std::uint8_t>(flags >> 8);
            f[weft::frame_flags_offset + 1] = static_cast<std::uint8_t>(flags & 0xff);
            BOOST_TEST((drop_of(f) == frame_drop::bad_flags));
        }
    }
    // Compression id 3 names no algorithm.
    auto f = valid_data_frame();
    f[weft::frame_flags_offset + 1] = 3;
    BOOST_TEST((drop_of(f) == frame_drop::bad_flags));
    // Ids 0..2 are fine.
    for (std::uint8_t id = 0; id <= 2; ++id) {
        f[weft::frame_flags_offset + 1] = id;
        auto r = weft::parse_header(f, mtu);
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(r->compression == id);
    }
}

BOOST_AUTO_TEST_CASE(keepalive_shape) {
    frame_header h;
    h.type = frame_type::keepalive;
    BOOST_TEST(weft::parse_header(make_frame(h, 0), mtu).has_value());
    // A keepalive carries nothing: a payload makes it too long ...
    auto longer = make_frame(h, 1);
    BOOST_TEST((drop_of(longer) == frame_drop::too_long));
    // ... and it is never compressed.
    auto compressed = make_frame(h, 0);
    compressed[weft::frame_flags_offset + 1] = weft::frame_compression_lz4;
    BOOST_TEST((drop_of(compressed) == frame_drop::bad_flags));
}

BOOST_AUTO_TEST_CASE(checks_run_cheapest_first) {
    // Short and of a bad type: size wins.
    std::vector<std::uint8_t> f(20, 0);
    BOOST_TEST((drop_of(f) == frame_drop::too_short));
    // Too long and of a bad type: size wins.
    f = valid_data_frame(mtu + 1);
    f[weft::frame_type_offset] = 9;
    BOOST_TEST((drop_of(f) == frame_drop::too_long));
    // Bad type and bad flags: type wins.
    f = valid_data_frame();
    f[weft::frame_type_offset] = 9;
    f[weft::frame_flags_offset] = 0x80;
    BOOST_TEST((drop_of(f) == frame_drop::bad_type));
}

BOOST_AUTO_TEST_CASE(drop_reasons_have_distinct_stable_names) {
    const std::array<std::string, weft::frame_drop_count> expected{"too_short",
                                                                   "too_long",
                                                                   "bad_type",
                                                                   "bad_flags",
                                                                   "unknown_sender",
                                                                   "own_sender",
                                                                   "no_key",
                                                                   "replay",
                                                                   "too_old",
                                                                   "auth_failed",
                                                                   "decompress_failed",
                                                                   "decompress_too_big",
                                                                   "bad_inner_packet",
                                                                   "spoofed_source",
                                                                   "no_route",
                                                                   "queue_full",
                                                                   "not_accepting"};
    std::set<std::string> seen;
    for (std::size_t i = 0; i < weft::frame_drop_count; ++i) {
        const std::string name(weft::to_string(static_cast<frame_drop>(i)));
        BOOST_TEST(name == expected[i]);
        seen.insert(name);
    }
    BOOST_TEST(seen.size() == weft::frame_drop_count);
    BOOST_TEST(weft::to_string(static_cast<frame_drop>(weft::frame_drop_count)) == "unknown");
}

BOOST_AUTO_TEST_CASE(nonce_is_salt_xor_counter) {
    // Hand-computed: salt 00 01 .. 0b, counter 0x0102030405060708.  Bytes
    // 0..3 are the salt's; bytes 4..11 are 04^01 05^02 06^03 07^04 08^05
    // 09^06 0a^07 0b^08.
    const std::array<std::uint8_t, 12> salt{0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
                                            0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b};
    const std::array<std::uint8_t, 12> expected{0x00, 0x01, 0x02, 0x03, 0x05, 0x07,
                                                0x05, 0x03, 0x0d, 0x0f, 0x0d, 0x03};
    BOOST_TEST(weft::make_nonce(salt, 0x0102030405060708) == expected,
               boost::test_tools::per_element());

    // Counter 0 leaves the salt as it is; counter 1 flips the last bit only.
    BOOST_TEST(weft::make_nonce(salt, 0) == salt, boost::test_tools::per_element());
    auto one = salt;
    one[11] ^= 1;
    BOOST_TEST(weft::make_nonce(salt, 1) == one, boost::test_tools::per_element());

    // All-ones salt, counter 0x00000000ffffffff: the high half of the counter
    // (bytes 4..7) keeps the salt, the low half (bytes 8..11) clears it.
    std::array<std::uint8_t, 12> ones{};
    ones.fill(0xff);
    const std::array<std::uint8_t, 12> half{0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                            0xff, 0xff, 0x00, 0x00, 0x00, 0x00};
    BOOST_TEST(weft::make_nonce(ones, 0xffffffffu) == half, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
