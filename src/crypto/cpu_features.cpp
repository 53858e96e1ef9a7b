#include "crypto/cpu_features.hpp"

#include <openssl/crypto.h>

#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace weft::crypto {

bool should_mask_ifma(const char* current, bool usable_ifma, unsigned openssl_major,
                      unsigned openssl_minor) noexcept {
    return current == nullptr && usable_ifma && openssl_major == 3 && openssl_minor == 0;
}

bool usable_avx512ifma() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0 || (ecx & (1u << 27)) == 0)
        return false;  // OSXSAVE
    unsigned lo = 0, hi = 0;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    // SSE, AVX, opmask, ZMM0-15 upper halves and ZMM16-31 enabled by the OS.
    constexpr unsigned avx512_state = 0x02 | 0x04 | 0x20 | 0x40 | 0x80;
    if ((lo & avx512_state) != avx512_state) return false;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
    return (ebx & (1u << 21)) != 0;
#else
    return false;
#endif
}

bool should_mask_ifma_here() noexcept {
    return should_mask_ifma(std::getenv("OPENSSL_ia32cap"), usable_avx512ifma(),
                            OPENSSL_version_major(), OPENSSL_version_minor());
}

std::string_view openssl_cpu_settings() noexcept {
    const char* s = OPENSSL_info(OPENSSL_INFO_CPU_SETTINGS);
    return s ? std::string_view(s) : std::string_view("none reported");
}

}  // namespace weft::crypto
