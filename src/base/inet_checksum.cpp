#include "base/inet_checksum.hpp"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace weft {

namespace {

// The sum of the host-order 32-bit words of p[0..n), n a multiple of 32, in
// 64 bits (a ones' complement sum is independent of byte order up to a final
// swap, done by finish()).
std::uint64_t sum_blocks_portable(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t acc = 0;
    for (; n >= 32; p += 32, n -= 32) {
        std::uint32_t w[8];
        std::memcpy(w, p, 32);
        acc += std::uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
    }
    return acc;
}

#if defined(__x86_64__)
// The same with AVX2: each 32-bit word is widened into a 64-bit lane and
// added there, so no carry is lost; 64 bytes per step.  Measured at 1400
// bytes: 57 ns against 134 for the portable loop (HOWTO §13).
__attribute__((target("avx2"))) std::uint64_t sum_blocks_avx2(const std::uint8_t* p, std::size_t n) noexcept {
    const __m256i zero = _mm256_setzero_si256();
    __m256i lo = zero, hi = zero;
    for (; n >= 64; p += 64, n -= 64) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
        lo = _mm256_add_epi64(lo, _mm256_unpacklo_epi32(a, zero));
        hi = _mm256_add_epi64(hi, _mm256_unpackhi_epi32(a, zero));
        lo = _mm256_add_epi64(lo, _mm256_unpacklo_epi32(b, zero));
        hi = _mm256_add_epi64(hi, _mm256_unpackhi_epi32(b, zero));
    }
    if (n >= 32) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        lo = _mm256_add_epi64(lo, _mm256_unpacklo_epi32(a, zero));
        hi = _mm256_add_epi64(hi, _mm256_unpackhi_epi32(a, zero));
    }
    const __m256i s = _mm256_add_epi64(lo, hi);
    const __m128i t = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    return static_cast<std::uint64_t>(_mm_cvtsi128_si64(t)) + static_cast<std::uint64_t>(_mm_extract_epi64(t, 1));
}

// Decided once, before main.  A caller in another static initialiser that
// ran first would see false and take the portable loop: same result.
const bool cpu_has_avx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}();
#endif

// Adds the words after the blocks (fewer than 32 bytes) to `acc`, folds,
// swaps into network order and adds the result to `sum`.
[[gnu::hot]] std::uint64_t finish(std::uint64_t sum, std::uint64_t acc, const std::uint8_t* p, std::size_t n) noexcept {
    for (; n >= 4; p += 4, n -= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        acc += w;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, 2);
        acc += w;
        p += 2;
        n -= 2;
    }
    const std::uint16_t folded = checksum_fold(acc);
    std::uint8_t bytes[2];
    std::memcpy(bytes, &folded, 2);
    sum += static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);  // the host-order sum read in network order
    if (n == 1) sum += std::uint64_t{p[0]} << 8;
    return sum;
}

// The 32-byte blocks of `data` through `sum_blocks`, the rest through finish().
template <class SumBlocks>
[[gnu::hot]] std::uint64_t add_with(SumBlocks sum_blocks, std::uint64_t sum, std::span<const std::uint8_t> data) noexcept {
    const std::size_t blocks = data.size() & ~std::size_t{31};
    return finish(sum, sum_blocks(data.data(), blocks), data.data() + blocks, data.size() - blocks);
}

}  // namespace

[[gnu::hot]] std::uint64_t checksum_add(std::uint64_t sum, std::span<const std::uint8_t> data) noexcept {
#if defined(__x86_64__)
    if (cpu_has_avx2) return add_with(sum_blocks_avx2, sum, data);
#endif
    return add_with(sum_blocks_portable, sum, data);
}

std::uint64_t checksum_add_portable(std::uint64_t sum, std::span<const std::uint8_t> data) noexcept {
    return add_with(sum_blocks_portable, sum, data);
}

bool checksum_add_uses_avx2() noexcept {
#if defined(__x86_64__)
    return cpu_has_avx2;
#else
    return false;
#endif
}

[[gnu::hot]] std::uint16_t checksum_fold(std::uint64_t sum) noexcept {
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

}  // namespace weft
