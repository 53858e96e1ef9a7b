// The Internet checksum (RFC 1071), the one implementation every header
// weft builds or checks uses: IPv4 headers, TCP segments split or joined
// on the data path, ICMP answers and the nameserver checker's echo
// requests.
//
//   sum = checksum_add(0, header); sum = checksum_add(sum, payload);
//   field = ~checksum_fold(sum)          (internet_checksum() for one piece)
//
// A message whose checksum field is right sums to 0xffff, so its
// internet_checksum() is 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace weft {

// The running sum of `data` added to `sum`, not folded.  Only the last
// piece of a message may have an odd length (its last byte is padded with
// a zero).  Fast: 64 bytes per step with AVX2 where the CPU has it, 32
// otherwise; no allocation.
std::uint64_t checksum_add(std::uint64_t sum, std::span<const std::uint8_t> data) noexcept;
// The same sum without SIMD, what checksum_add() does on CPUs without AVX2;
// public so the tests check both paths on any machine.
std::uint64_t checksum_add_portable(std::uint64_t sum, std::span<const std::uint8_t> data) noexcept;
// Whether checksum_add() takes the AVX2 path on this CPU.
bool checksum_add_uses_avx2() noexcept;
// Folds a running sum to 16 bits (not complemented).
std::uint16_t checksum_fold(std::uint64_t sum) noexcept;
// The checksum of one piece as stored in a header: the complemented fold.
inline std::uint16_t internet_checksum(std::span<const std::uint8_t> data) noexcept {
    return static_cast<std::uint16_t>(~checksum_fold(checksum_add(0, data)));
}

}  // namespace weft
