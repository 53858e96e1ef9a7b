// base/inet_checksum against a byte-by-byte RFC 1071 reference, at every
// length and alignment, in pieces, and on the RFC's own example.
#include "base/inet_checksum.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <random>
#include <vector>

using namespace weft;

namespace {

// The slow, obvious sum: 16-bit big-endian words, an odd byte padded.
std::uint16_t reference(const std::vector<std::uint8_t>& d, std::size_t from, std::size_t n) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < n; i += 2) {
        std::uint32_t w = std::uint32_t{d[from + i]} << 8;
        if (i + 1 < n) w |= d[from + i + 1];
        sum += w;
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(inet_checksum)

BOOST_AUTO_TEST_CASE(rfc_1071_example) {
    // RFC 1071 section 3: the sum of these bytes is ddf2 (byte order independent).
    const std::uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    BOOST_TEST(checksum_fold(checksum_add(0, d)) == 0xddf2);
    BOOST_TEST(internet_checksum(d) == 0x220d);
}

BOOST_AUTO_TEST_CASE(every_length_and_alignment_matches_the_reference) {
    BOOST_TEST_MESSAGE("checksum_add takes the " << (checksum_add_uses_avx2() ? "AVX2" : "portable") << " path here");
    std::mt19937 rng(7);
    std::vector<std::uint8_t> d(300);
    for (int round = 0; round < 20; ++round) {
        for (auto& b : d) b = static_cast<std::uint8_t>(rng());
        if (round == 0) std::fill(d.begin(), d.end(), 0xff);  // carries everywhere
        for (std::size_t from = 0; from < 8; ++from) {
            for (std::size_t n = 0; n + from <= 290; ++n) {
                const std::span<const std::uint8_t> piece(d.data() + from, n);
                BOOST_TEST_REQUIRE(internet_checksum(piece) == reference(d, from, n),
                                   "length " << n << " at offset " << from << " round " << round);
                // Both paths (AVX2 where the CPU has it, and the portable
                // loop) give the same running sum, not just the same fold.
                BOOST_TEST_REQUIRE(checksum_add(5, piece) == checksum_add_portable(5, piece),
                                   "length " << n << " at offset " << from << " round " << round);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(pieces_of_even_length_then_any_add_up_to_the_whole) {
    std::mt19937 rng(11);
    std::vector<std::uint8_t> d(257);
    for (auto& b : d) b = static_cast<std::uint8_t>(rng());
    for (std::size_t cut = 0; cut <= d.size(); cut += 2) {
        std::uint64_t sum = checksum_add(0, std::span<const std::uint8_t>(d.data(), cut));
        sum = checksum_add(sum, std::span<const std::uint8_t>(d.data() + cut, d.size() - cut));
        BOOST_TEST_REQUIRE(static_cast<std::uint16_t>(~checksum_fold(sum)) == reference(d, 0, d.size()));
    }
}

BOOST_AUTO_TEST_CASE(a_message_with_its_checksum_filled_in_sums_to_zero) {
    std::vector<std::uint8_t> m = {0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01,
                                   0x00, 0x00, 0xc6, 0x13, 0x00, 0x01, 0xc6, 0x13, 0x00, 0x02};
    const std::uint16_t c = internet_checksum(m);
    m[10] = static_cast<std::uint8_t>(c >> 8);
    m[11] = static_cast<std::uint8_t>(c);
    BOOST_TEST(internet_checksum(m) == 0);
    m[15] ^= 1;  // one bit off
    BOOST_TEST(internet_checksum(m) != 0);
}

BOOST_AUTO_TEST_CASE(a_large_sum_folds_without_losing_carries) {
    std::vector<std::uint8_t> big(65536, 0xff);
    std::uint64_t sum = 0;
    std::uint64_t portable = 0;
    for (int i = 0; i < 1000; ++i) {  // 64 MiB of 0xffff words
        sum = checksum_add(sum, big);
        portable = checksum_add_portable(portable, big);
    }
    BOOST_TEST(checksum_fold(sum) == 0xffff);
    BOOST_TEST(checksum_fold(portable) == 0xffff);
}

BOOST_AUTO_TEST_CASE(packet_sized_pieces_match_the_reference_on_both_paths) {
    // Lengths a data path sees (full segments, jumbo, a 64 KiB super-packet)
    // run many 64-byte steps; carries everywhere in the first round.
    std::mt19937 rng(13);
    std::vector<std::uint8_t> d(65536 + 8);
    for (int round = 0; round < 3; ++round) {
        for (auto& b : d) b = round == 0 ? 0xff : static_cast<std::uint8_t>(rng());
        for (std::size_t n : {1399u, 1400u, 1448u, 1460u, 9000u, 65535u, 65536u}) {
            for (std::size_t from : {0u, 1u, 3u, 8u}) {
                const std::span<const std::uint8_t> piece(d.data() + from, n);
                const std::uint16_t want = reference(d, from, n);
                BOOST_TEST_REQUIRE(internet_checksum(piece) == want, "length " << n << " at offset " << from);
                BOOST_TEST_REQUIRE(static_cast<std::uint16_t>(~checksum_fold(checksum_add_portable(0, piece))) == want,
                                   "portable, length " << n << " at offset " << from);
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
