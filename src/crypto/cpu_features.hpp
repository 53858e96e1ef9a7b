// Which of its CPU-specific code paths libcrypto uses, where weft knows
// better than its defaults.
//
// OpenSSL 3.0 chooses between its assembly variants once, when libcrypto is
// loaded, from CPUID masked by the OPENSSL_ia32cap environment variable.  On
// CPUs with AVX512-IFMA it seals and opens ChaCha20-Poly1305 with a Poly1305
// variant whose per-key set-up costs more than it saves on messages the size
// of packets: each packet has its own Poly1305 key, so the data plane pays
// that set-up on every frame.  Without it a seal takes about a quarter less
// (HOWTO, "OpenSSL's CPU features", has the figures).  AES-GCM, TLS with
// ECDSA or Ed25519 keys and the node list's signatures do not use IFMA; RSA
// private-key operations (TLS handshakes with RSA keys only) lose their
// IFMA speed-up.
//
// The variable is only read before main() runs, so weftd re-executes itself
// once with it set (app/weftd/main.cpp).  An OPENSSL_ia32cap already in the
// environment is the administrator's and is left alone: "OPENSSL_ia32cap=:~0"
// keeps every feature OpenSSL detects.
#pragma once

#include <optional>
#include <string_view>

namespace weft::crypto {

// OPENSSL_ia32cap value that masks AVX512-IFMA (CPUID leaf 7, EBX bit 21)
// and keeps every other detected feature.
inline constexpr std::string_view ia32cap_without_ifma = ":~0x200000";

// The OPENSSL_ia32cap to run under, or nothing to leave OpenSSL's choice:
// nothing when `current` (the variable's value, null when unset) is set,
// when the CPU lacks AVX512-IFMA, or when the OpenSSL loaded is not 3.0 (the
// only series measured).
std::optional<std::string_view> ia32cap_override(const char* current, bool cpu_has_ifma,
                                                 unsigned openssl_major,
                                                 unsigned openssl_minor) noexcept;

// CPUID says AVX512-IFMA (false on other architectures).
bool cpu_has_avx512ifma() noexcept;

// ia32cap_override() for this process: its environment, CPU and libcrypto.
std::optional<std::string_view> ia32cap_override_here() noexcept;

// Call first thing in main(), before anything is opened: when
// ia32cap_override_here() says so, sets OPENSSL_ia32cap and re-executes the
// program (/proc/self/exe, same pid, arguments and descriptors); the new
// image finds the variable set and carries on.  Returns only when no
// re-execution was needed or possible (no /proc): OpenSSL's choice stands.
void run_under_tuned_openssl(char** argv) noexcept;

}  // namespace weft::crypto
