// core/compression: round trips for every algorithm and level at packet
// sizes, incompressible input, compression bombs, truncated and corrupted
// payloads, and the promise that a compressor allocates nothing after its
// construction, measured with the counting global operator new below (zlib's
// allocations are routed through operator new too, so they are counted).
#include "core/compression.hpp"

#include <array>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <new>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "wire/frame.hpp"

// The counting global operator new of this executable (alloc_counter.cpp).
#include "alloc_counter.hpp"
namespace {
std::size_t& new_calls = weft::test::new_calls;
}  // namespace

namespace {

using weft::compression_algorithm;
using weft::compressor;
using weft::frame_drop;

constexpr std::size_t mtu = 1420;

// Allocations since construction.
struct allocation_count {
    std::size_t start = new_calls;
    std::size_t since() const { return new_calls - start; }
};

struct algo_levels {
    compression_algorithm algo;
    std::uint8_t min, max;
};
constexpr std::array<algo_levels, 2> all_algorithms{{
    {compression_algorithm::lz4, weft::lz4_min_level, weft::lz4_max_level},
    {compression_algorithm::zlib, weft::zlib_min_level, weft::zlib_max_level},
}};

const char* name(compression_algorithm a) {
    return a == compression_algorithm::lz4 ? "lz4" : "zlib";
}

// Packet-like, compressible bytes: a fixed header-ish prefix, then words
// from a small vocabulary.  Deterministic for a given size.
std::vector<std::uint8_t> compressible(std::size_t n) {
    static const std::array<std::string, 8> words{"GET ",   "/index.html ",  "HTTP/1.1\r\n",
                                                  "Host: ", "weft.example ", "Accept: */*\r\n",
                                                  "\r\n",   "0000"};
    std::mt19937 rng(static_cast<unsigned>(n));
    std::vector<std::uint8_t> v;
    v.reserve(n + 32);
    const std::uint8_t ip_header[] = {0x45, 0x00, 0x05, 0x8c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06,
                                      0x00, 0x00, 0xc6, 0x13, 0x00, 0x01, 0xc6, 0x13, 0x00, 0x02};
    v.insert(v.end(), std::begin(ip_header), std::end(ip_header));
    while (v.size() < n) {
        const std::string& w = words[rng() % words.size()];
        v.insert(v.end(), w.begin(), w.end());
    }
    v.resize(n);
    return v;
}

std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

// Compresses `in`, which must become smaller, and returns exactly the payload.
std::vector<std::uint8_t> must_compress(compressor& c, compression_algorithm algo,
                                        std::uint8_t level, const std::vector<std::uint8_t>& in) {
    std::vector<std::uint8_t> out(weft::compression_scratch_size(in.size()));
    auto n = c.compress(algo, level, in, out);
    BOOST_REQUIRE(n.has_value());
    BOOST_REQUIRE(*n < in.size());
    out.resize(*n);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(compression)

BOOST_AUTO_TEST_CASE(levels) {
    BOOST_TEST(!weft::valid_compression_level(compression_algorithm::lz4, 0));
    BOOST_TEST(weft::valid_compression_level(compression_algorithm::lz4, 1));
    BOOST_TEST(weft::valid_compression_level(compression_algorithm::lz4, 12));
    BOOST_TEST(!weft::valid_compression_level(compression_algorithm::lz4, 13));
    BOOST_TEST(!weft::valid_compression_level(compression_algorithm::zlib, 0));
    BOOST_TEST(weft::valid_compression_level(compression_algorithm::zlib, 9));
    BOOST_TEST(!weft::valid_compression_level(compression_algorithm::zlib, 10));
    BOOST_TEST(!weft::valid_compression_level(static_cast<compression_algorithm>(3), 1));
    BOOST_TEST(static_cast<int>(compression_algorithm::lz4) == weft::frame_compression_lz4);
    BOOST_TEST(static_cast<int>(compression_algorithm::zlib) == weft::frame_compression_zlib);
}

BOOST_AUTO_TEST_CASE(round_trip_every_algorithm_level_and_size) {
    compressor c;
    const std::vector<std::size_t> sizes{0, 1, 2, 3, 16, 64, 200, 576, 1000, 1419, mtu};
    std::vector<std::uint8_t> out(weft::compression_scratch_size(mtu));
    std::vector<std::uint8_t> back(mtu);
    for (const auto& a : all_algorithms)
        for (unsigned level = a.min; level <= a.max; ++level)
            for (std::size_t size : sizes) {
                BOOST_TEST_CONTEXT(name(a.algo) << " level " << level << ", " << size << " bytes") {
                    const auto in = compressible(size);
                    auto n = c.compress(a.algo, static_cast<std::uint8_t>(level), in, out);
                    if (size <= 1) {
                        BOOST_TEST(!n.has_value());  // nothing is smaller than 0 or 1 byte
                        continue;
                    }
                    if (size >= 200) BOOST_TEST_REQUIRE(n.has_value());
                    if (!n) continue;
                    BOOST_TEST(*n < size);
                    const std::span<const std::uint8_t> payload(out.data(), *n);
                    auto d = c.decompress(a.algo, payload, back);
                    BOOST_REQUIRE(d.has_value());
                    BOOST_REQUIRE_EQUAL(*d, size);
                    BOOST_TEST(std::equal(in.begin(), in.end(), back.begin()));
                    // An output of exactly the packet's size is enough ...
                    std::vector<std::uint8_t> exact(size);
                    auto e = c.decompress(a.algo, payload, exact);
                    BOOST_REQUIRE(e.has_value());
                    BOOST_TEST(*e == size);
                    BOOST_TEST((exact == in));
                    // ... and one byte less is too small.
                    std::vector<std::uint8_t> short_by_one(size - 1);
                    auto s = c.decompress(a.algo, payload, short_by_one);
                    BOOST_REQUIRE(!s.has_value());
                    BOOST_TEST((s.error() == frame_drop::decompress_too_big));
                }
            }
}

BOOST_AUTO_TEST_CASE(each_packet_stands_alone) {
    // No history carries from one call to the next: the same input gives the
    // same bytes whatever came before, and each payload decodes on its own
    // (frames may be lost or reordered).
    compressor c;
    const auto a_in = compressible(1000);
    const auto b_in = compressible(1200);
    for (const auto& a : all_algorithms)
        for (std::uint8_t level : {a.min, a.max}) {
            BOOST_TEST_CONTEXT(name(a.algo) << " level " << int{level}) {
                const auto first = must_compress(c, a.algo, level, a_in);
                const auto other = must_compress(c, a.algo, level, b_in);
                const auto again = must_compress(c, a.algo, level, a_in);
                BOOST_TEST((first == again));
                std::vector<std::uint8_t> back(mtu);
                auto d = c.decompress(a.algo, other, back);
                BOOST_REQUIRE(d.has_value());
                back.resize(*d);
                BOOST_TEST((back == b_in));
            }
        }
}

BOOST_AUTO_TEST_CASE(switching_levels_and_algorithms) {
    compressor c;
    const auto in = compressible(mtu);
    std::vector<std::uint8_t> back(mtu);
    for (std::uint8_t level : std::initializer_list<std::uint8_t>{9, 1, 6, 1, 9, 2, 12, 1}) {
        for (const auto& a : all_algorithms) {
            if (level > a.max) continue;
            const auto payload = must_compress(c, a.algo, level, in);
            auto d = c.decompress(a.algo, payload, back);
            BOOST_REQUIRE(d.has_value());
            BOOST_TEST(std::equal(in.begin(), in.end(), back.begin()));
        }
    }
}

BOOST_AUTO_TEST_CASE(incompressible_input_is_sent_as_is) {
    compressor c;
    std::vector<std::uint8_t> out(weft::compression_scratch_size(mtu));
    for (unsigned seed = 1; seed <= 3; ++seed) {
        const auto in = random_bytes(mtu, seed);
        for (const auto& a : all_algorithms)
            for (unsigned level = a.min; level <= a.max; ++level)
                BOOST_TEST(
                    !c.compress(a.algo, static_cast<std::uint8_t>(level), in, out).has_value(),
                    name(a.algo) << " level " << level << " seed " << seed);
    }
}

BOOST_AUTO_TEST_CASE(too_small_an_output_is_no_compression_and_no_harm) {
    compressor c;
    const auto in = compressible(mtu);
    std::array<std::uint8_t, 10> tiny{};
    std::vector<std::uint8_t> back(mtu);
    for (const auto& a : all_algorithms)
        for (std::uint8_t level : {a.min, static_cast<std::uint8_t>(a.min + 1), a.max}) {
            BOOST_TEST_CONTEXT(name(a.algo) << " level " << int{level}) {
                BOOST_TEST(!c.compress(a.algo, level, in, tiny).has_value());
                // The state recovers: the next packet compresses normally.
                const auto payload = must_compress(c, a.algo, level, in);
                auto d = c.decompress(a.algo, payload, back);
                BOOST_REQUIRE(d.has_value());
                BOOST_TEST(std::equal(in.begin(), in.end(), back.begin()));
            }
        }
}

BOOST_AUTO_TEST_CASE(bombs_stop_at_the_bound) {
    compressor c;
    const std::vector<std::uint8_t> zeros(std::size_t{1} << 20, 0);
    std::vector<std::uint8_t> mtu_buffer(mtu);
    std::vector<std::uint8_t> big(zeros.size());
    for (const auto& a : all_algorithms)
        for (std::uint8_t level : {a.min, a.max}) {
            BOOST_TEST_CONTEXT(name(a.algo) << " level " << int{level}) {
                const auto bomb = must_compress(c, a.algo, level, zeros);
                BOOST_TEST_MESSAGE(name(a.algo) << " level " << int{level} << ": 1 MiB of zeros in "
                                                << bomb.size() << " bytes");
                // It is a real bomb: with room enough, it is 1 MiB of zeros.
                auto whole = c.decompress(a.algo, bomb, big);
                BOOST_REQUIRE(whole.has_value());
                BOOST_TEST(*whole == zeros.size());

                const allocation_count allocs;
                const auto start = std::chrono::steady_clock::now();
                auto r = c.decompress(a.algo, bomb, mtu_buffer);
                const auto elapsed = std::chrono::steady_clock::now() - start;
                const std::size_t allocated = allocs.since();
                BOOST_REQUIRE(!r.has_value());
                BOOST_TEST((r.error() == frame_drop::decompress_too_big));
                BOOST_TEST(allocated == 0u);
                // Microseconds in practice; the bound only catches a decoder
                // that runs through the whole megabyte over and over.
                BOOST_TEST(std::chrono::duration<double>(elapsed).count() < 0.5);
            }
        }
}

BOOST_AUTO_TEST_CASE(a_bomb_that_fits_in_one_frame) {
    // The attack as it arrives: at most one MTU of payload that expands far
    // beyond it.
    compressor c;
    std::vector<std::uint8_t> mtu_buffer(mtu);
    for (const auto& a : all_algorithms) {
        const std::vector<std::uint8_t> zeros(
            a.algo == compression_algorithm::lz4 ? 300'000 : 1'000'000, 0);
        const auto bomb = must_compress(c, a.algo, a.max, zeros);
        BOOST_TEST(bomb.size() <= mtu, name(a.algo) << ": " << bomb.size() << " bytes");
        auto r = c.decompress(a.algo, bomb, mtu_buffer);
        BOOST_REQUIRE(!r.has_value());
        BOOST_TEST((r.error() == frame_drop::decompress_too_big));
    }
}

BOOST_AUTO_TEST_CASE(truncated_payloads) {
    compressor c;
    const auto in = compressible(1000);
    std::vector<std::uint8_t> back(mtu);
    for (const auto& a : all_algorithms)
        for (std::uint8_t level : {a.min, a.max}) {
            const auto payload = must_compress(c, a.algo, level, in);
            for (std::size_t len = 0; len < payload.size(); ++len) {
                BOOST_TEST_CONTEXT(name(a.algo) << " level " << int{level} << ", " << len << " of "
                                                << payload.size() << " bytes") {
                    auto r = c.decompress(a.algo, std::span(payload).first(len), back);
                    if (a.algo == compression_algorithm::zlib || len == 0 ||
                        len + 1 == payload.size()) {
                        // A deflate stream cut anywhere lacks its end; an LZ4
                        // block cut by its last byte ends inside a literal run.
                        BOOST_REQUIRE(!r.has_value());
                        BOOST_TEST((r.error() == frame_drop::decompress_failed));
                    } else if (r.has_value()) {
                        // An LZ4 block cut right after a literal run is a
                        // valid, shorter block (the format has no checksum);
                        // it can never be the whole packet.
                        BOOST_TEST(*r < in.size());
                    } else {
                        BOOST_TEST((r.error() == frame_drop::decompress_failed));
                    }
                }
            }
        }
}

BOOST_AUTO_TEST_CASE(malformed_payloads) {
    compressor c;
    std::vector<std::uint8_t> back(mtu);
    struct vector_case {
        compression_algorithm algo;
        const char* what;
        std::vector<std::uint8_t> bytes;
    };
    const std::vector<vector_case> cases{
        {compression_algorithm::lz4, "empty", {}},
        // token: 1 literal, match of 8; the offset 5 reaches before the start.
        {compression_algorithm::lz4,
         "offset before the start",
         {0x14, 'a', 0x05, 0x00, 'b', 'c', 'd', 'e', 'f'}},
        // token: literal run of 15+255+255+16 bytes, of which only 2 follow.
        {compression_algorithm::lz4,
         "literal run past the end",
         {0xf0, 0xff, 0xff, 0x10, 'a', 'b'}},
        {compression_algorithm::zlib, "empty", {}},
        // BFINAL=1, BTYPE=11: the reserved block type.
        {compression_algorithm::zlib, "reserved block type", {0x07}},
        // Stored block whose NLEN is not the complement of LEN.
        {compression_algorithm::zlib,
         "stored lengths",
         {0x01, 0x05, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'}},
        // Fixed Huffman: length 3 at distance 1 before any output, then end
        // of block.  Bits (first first): 1 | 1 0 | 0000001 | 00000 | 0000000.
        // Also shows that the dictionary used to preallocate the window is
        // gone.
        {compression_algorithm::zlib, "distance too far back", {0x03, 0x02, 0x00}},
        // A valid empty final stored block (01 00 00 ff ff) with a byte after it.
        {compression_algorithm::zlib, "bytes after the end", {0x01, 0x00, 0x00, 0xff, 0xff, 0x00}},
        // The zlib format (header 78 9c) is not raw deflate.
        {compression_algorithm::zlib,
         "zlib header",
         {0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}},
    };
    for (const auto& v : cases) {
        BOOST_TEST_CONTEXT(name(v.algo) << ": " << v.what) {
            auto r = c.decompress(v.algo, v.bytes, back);
            BOOST_REQUIRE(!r.has_value());
            BOOST_TEST((r.error() == frame_drop::decompress_failed));
        }
    }
    // Sanity of the vectors above: the stored block without the extra byte
    // is a valid empty stream.
    const std::vector<std::uint8_t> empty_stored{0x01, 0x00, 0x00, 0xff, 0xff};
    auto ok = c.decompress(compression_algorithm::zlib, empty_stored, back);
    BOOST_REQUIRE(ok.has_value());
    BOOST_TEST(*ok == 0u);
}

BOOST_AUTO_TEST_CASE(random_corruption_never_escapes_the_bound) {
    // Damaged payloads must decode to at most out.size() bytes or be dropped
    // with a decompression reason; the sanitizer builds check the memory.
    compressor c;
    const auto in = compressible(mtu);
    std::mt19937 rng(20240601);
    std::vector<std::uint8_t> back(mtu);
    int failed = 0;
    for (const auto& a : all_algorithms) {
        const auto payload = must_compress(c, a.algo, a.min, in);
        for (int i = 0; i < 3000; ++i) {
            auto bad = payload;
            const int flips = 1 + static_cast<int>(rng() % 3);
            for (int f = 0; f < flips; ++f)
                bad[rng() % bad.size()] = static_cast<std::uint8_t>(rng());
            auto r = c.decompress(a.algo, bad, back);
            if (r.has_value()) {
                BOOST_REQUIRE(*r <= back.size());
            } else {
                BOOST_REQUIRE((r.error() == frame_drop::decompress_failed ||
                               r.error() == frame_drop::decompress_too_big));
                ++failed;
            }
        }
    }
    BOOST_TEST_MESSAGE("random corruption: " << failed << " of 6000 dropped");
    BOOST_TEST(failed > 0);
}

BOOST_AUTO_TEST_CASE(no_allocation_after_construction) {
    // Everything the packet path can ask of a compressor, bad input included,
    // on a fresh compressor: not one allocation, zlib's included.
    const allocation_count construction;
    compressor c;
    // The streams, deflate's four buffers, inflate's state and its window.
    BOOST_TEST(construction.since() >= 7u);

    // Inputs and buffers first: the measured part must not allocate them.
    const auto packet = compressible(mtu);
    const auto noise = random_bytes(mtu, 7);
    const std::vector<std::uint8_t> zeros(300'000, 0);
    std::vector<std::uint8_t> scratch(weft::compression_scratch_size(zeros.size()));
    std::vector<std::uint8_t> back(mtu);
    std::vector<std::uint8_t> payloads[2];
    std::vector<std::uint8_t> bombs[2];
    for (std::size_t i = 0; i < 2; ++i) {
        payloads[i].resize(weft::compression_scratch_size(mtu));
        bombs[i].resize(scratch.size());
    }
    std::array<std::size_t, 2> payload_size{}, bomb_size{};
    std::size_t good = 0, dropped = 0, skipped = 0;

    const allocation_count allocs;
    for (int round = 0; round < 3; ++round)
        for (std::size_t i = 0; i < all_algorithms.size(); ++i) {
            const auto& a = all_algorithms[i];
            for (unsigned level = a.min; level <= a.max; ++level) {
                const auto lv = static_cast<std::uint8_t>(level);
                if (auto n = c.compress(a.algo, lv, packet, payloads[i])) {
                    payload_size[i] = *n;
                    ++good;
                }
                if (!c.compress(a.algo, lv, noise, scratch)) ++skipped;
                if (!c.compress(a.algo, lv, packet, std::span(scratch).first(10))) ++skipped;
                if (auto n = c.compress(a.algo, lv, zeros, bombs[i])) bomb_size[i] = *n;
            }
            const std::span<const std::uint8_t> payload(payloads[i].data(), payload_size[i]);
            if (c.decompress(a.algo, payload, back)) ++good;
            if (!c.decompress(a.algo, std::span(bombs[i]).first(bomb_size[i]), back)) ++dropped;
            for (std::size_t len = 0; len < payload.size(); len += 7)
                if (!c.decompress(a.algo, payload.first(len), back)) ++dropped;
            if (!c.decompress(a.algo, noise, back)) ++dropped;
        }
    const std::size_t allocated = allocs.since();
    BOOST_TEST(allocated == 0u);
    BOOST_TEST(good == 3u * (12 + 9 + 2));
    BOOST_TEST(skipped == 3u * 2 * (12 + 9));
    BOOST_TEST(dropped > 100u);
}

BOOST_AUTO_TEST_CASE(a_moved_compressor_works) {
    compressor a;
    compressor b = std::move(a);
    const auto in = compressible(500);
    const auto payload = must_compress(b, compression_algorithm::zlib, 6, in);
    std::vector<std::uint8_t> back(mtu);
    auto d = b.decompress(compression_algorithm::zlib, payload, back);
    BOOST_REQUIRE(d.has_value());
    BOOST_TEST(*d == in.size());
}

BOOST_AUTO_TEST_SUITE_END()
