#include "app/openssl_cpu.hpp"

#include <sys/auxv.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "crypto/cpu_features.hpp"

namespace weft {

void run_under_tuned_openssl(char** argv) noexcept {
    // The kernel names a process after the file it executes, and for
    // /proc/self/exe that is "exe": ps, pgrep weftd, killall and systemd's
    // status would show that after a re-exec.  So the name is set from
    // argv[0] every time (a no-op when it already is that).
    if (argv != nullptr && argv[0] != nullptr && argv[0][0] != '\0') {
        const char* slash = std::strrchr(argv[0], '/');
        const char* base = slash ? slash + 1 : argv[0];
        if (*base != '\0') ::prctl(PR_SET_NAME, base, 0, 0, 0);  // truncated to 15 bytes
    }
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
