#include "crypto/cpu_features.hpp"

#include <openssl/crypto.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace weft::crypto {

std::optional<std::string_view> ia32cap_override(const char* current, bool cpu_has_ifma,
                                                 unsigned openssl_major,
                                                 unsigned openssl_minor) noexcept {
    if (current != nullptr || !cpu_has_ifma) return std::nullopt;
    if (openssl_major != 3 || openssl_minor != 0) return std::nullopt;
    return ia32cap_without_ifma;
}

bool cpu_has_avx512ifma() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
    return (ebx & (1u << 21)) != 0;
#else
    return false;
#endif
}

std::optional<std::string_view> ia32cap_override_here() noexcept {
    return ia32cap_override(std::getenv("OPENSSL_ia32cap"), cpu_has_avx512ifma(),
                            OPENSSL_version_major(), OPENSSL_version_minor());
}

void run_under_tuned_openssl(char** argv) noexcept {
    auto cap = ia32cap_override_here();
    if (!cap) return;
    const std::string value(*cap);
    if (::setenv("OPENSSL_ia32cap", value.c_str(), 1) != 0) return;
    ::execv("/proc/self/exe", argv);
    ::unsetenv("OPENSSL_ia32cap");
}

}  // namespace weft::crypto
