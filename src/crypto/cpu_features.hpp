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
// once with it set (app/openssl_cpu.hpp).  An OPENSSL_ia32cap already in the
// environment is the administrator's and is left alone: "OPENSSL_ia32cap=:~0"
// keeps every feature OpenSSL detects.
#pragma once

#include <string_view>

namespace weft::crypto {

// OPENSSL_ia32cap value that masks AVX512-IFMA (CPUID leaf 7, EBX bit 21)
// and keeps every other detected feature: the ':' keeps the detected first
// word, the '~' after it clears bits of the leaf-7 word.
inline constexpr std::string_view ia32cap_without_ifma = ":~0x200000";

// Whether to run under ia32cap_without_ifma: only when `current` (the
// variable's value, null when unset) is unset, the CPU and the kernel offer
// AVX512-IFMA, and the OpenSSL loaded is 3.0 (the only series measured).
bool should_mask_ifma(const char* current, bool usable_ifma, unsigned openssl_major,
                      unsigned openssl_minor) noexcept;

// AVX512-IFMA is usable: CPUID has it and the kernel has enabled the
// AVX-512 register state (XCR0), as OpenSSL itself requires.  False on other
// architectures.
bool usable_avx512ifma() noexcept;

// should_mask_ifma() for this process: its environment, CPU and libcrypto.
bool should_mask_ifma_here() noexcept;

// What libcrypto runs with, as `openssl version -c` prints it, e.g.
// "OPENSSL_ia32cap=0xfffa32034f8bffff:0x1b415fdef19f27eb env::~0x200000".
std::string_view openssl_cpu_settings() noexcept;

}  // namespace weft::crypto
