// Running weftd under the OpenSSL CPU features that suit per-packet sealing
// (crypto/cpu_features.hpp says which and why).
#pragma once

namespace weft {

// Call first thing in main(), before anything is opened.  When
// crypto::should_mask_ifma_here() says so, sets OPENSSL_ia32cap and
// re-executes the program (/proc/self/exe: same pid, arguments and
// descriptors); the new image finds the variable set and carries on.
// Returns when nothing needed doing, when the program was started through
// the dynamic loader (ld.so as the executable: re-executing it would not
// start the program) or is linked statically (no interpreter either: not
// told apart), or when the exec failed (then with a line on stderr):
// OpenSSL's own choice stands.  Either way the process is named after
// argv[0], as it would be without a re-exec.
void run_under_tuned_openssl(char** argv) noexcept;

}  // namespace weft
