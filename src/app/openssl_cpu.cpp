#include "app/openssl_cpu.hpp"

#include <sys/auxv.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "crypto/cpu_features.hpp"

namespace weft {

void run_under_tuned_openssl(char** argv) noexcept {
    if (!crypto::should_mask_ifma_here()) return;
    // No program interpreter: either ld.so itself is the executable
    // (`ld.so weftd ...`) or the program is static.
    if (::getauxval(AT_BASE) == 0) return;
    const std::string value(crypto::ia32cap_without_ifma);
    if (::setenv("OPENSSL_ia32cap", value.c_str(), 1) != 0) return;
    ::execv("/proc/self/exe", argv);
    const int err = errno;
    ::unsetenv("OPENSSL_ia32cap");
    std::fprintf(stderr,
                 "weft: cannot re-execute with OPENSSL_ia32cap=%s (/proc/self/exe: %s); OpenSSL "
                 "keeps its own CPU features\n",
                 value.c_str(), std::strerror(err));
}

}  // namespace weft
