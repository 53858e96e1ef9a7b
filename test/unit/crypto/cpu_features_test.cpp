#include "crypto/cpu_features.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace {

using weft::crypto::ia32cap_without_ifma;
using weft::crypto::should_mask_ifma;

// Whether the kernel lists `flag` for the first CPU: nullopt where
// /proc/cpuinfo has no flags line (not x86).
std::optional<bool> kernel_has(std::string_view flag) {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) != 0) continue;
        std::istringstream words(line.substr(line.find(':') + 1));
        std::string w;
        while (words >> w)
            if (w == flag) return true;
        return false;
    }
    return std::nullopt;
}

struct capability_words {
    std::uint64_t first = 0, leaf7 = 0;
};

// The capability vector the openssl program ends up with (`openssl version
// -c`) under `env` ("-u OPENSSL_ia32cap" or "OPENSSL_ia32cap=VALUE").
std::optional<capability_words> openssl_caps(const std::string& env) {
    const std::string cmd = "env " + env + " openssl version -c 2>/dev/null";
    FILE* f = ::popen(cmd.c_str(), "r");
    if (!f) return std::nullopt;
    char line[512] = {};
    std::optional<capability_words> caps;
    while (std::fgets(line, sizeof line, f)) {
        const char* at = std::strstr(line, "OPENSSL_ia32cap=0x");
        unsigned long long a = 0, b = 0;
        if (at && std::sscanf(at, "OPENSSL_ia32cap=0x%llx:0x%llx", &a, &b) == 2)
            caps = capability_words{a, b};
    }
    ::pclose(f);
    return caps;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cpu_features)

BOOST_AUTO_TEST_CASE(masks_only_on_openssl_3_0_with_ifma_and_no_setting) {
    BOOST_TEST(should_mask_ifma(nullptr, true, 3, 0));
    BOOST_TEST(!should_mask_ifma(nullptr, false, 3, 0));  // nothing to mask
    BOOST_TEST(!should_mask_ifma(nullptr, true, 3, 1));   // not measured
    BOOST_TEST(!should_mask_ifma(nullptr, true, 3, 2));
    BOOST_TEST(!should_mask_ifma(nullptr, true, 1, 1));
}

BOOST_AUTO_TEST_CASE(leaves_any_setting_alone) {
    BOOST_TEST(!should_mask_ifma(":~0", true, 3, 0));         // the administrator's
    BOOST_TEST(!should_mask_ifma("", true, 3, 0));            // theirs too (the daemon warns)
    BOOST_TEST(!should_mask_ifma(":~0x200000", true, 3, 0));  // after the re-exec: once only
}

// The value, as OpenSSL itself parses it: the first word and every leaf-7
// bit but IFMA stay as detected.  (Without the ':' the first word would be
// zeroed; without the '~' the leaf-7 word would be replaced.)
BOOST_AUTO_TEST_CASE(the_value_clears_exactly_ifma_in_openssls_parser) {
#if !defined(__x86_64__) && !defined(__i386__)
    BOOST_TEST_MESSAGE("not x86: OpenSSL has no ia32cap words to check");
    return;
#endif
    auto natural = openssl_caps("-u OPENSSL_ia32cap");
    auto masked = openssl_caps("OPENSSL_ia32cap=" + std::string(ia32cap_without_ifma));
    BOOST_TEST_REQUIRE(natural.has_value());
    BOOST_TEST_REQUIRE(masked.has_value());
    BOOST_TEST(masked->first == natural->first);
    BOOST_TEST(masked->leaf7 == (natural->leaf7 & ~(std::uint64_t{1} << 21)));
    if (weft::crypto::usable_avx512ifma())
        BOOST_TEST((natural->leaf7 & (std::uint64_t{1} << 21)) != 0u);
}

// The kernel lists avx512ifma only when the CPU has it and the AVX-512
// register state is enabled: the same condition.
BOOST_AUTO_TEST_CASE(ifma_detection_agrees_with_the_kernel) {
    auto kernel = kernel_has("avx512ifma");
    if (!kernel) {
        BOOST_TEST(!weft::crypto::usable_avx512ifma());
        return;
    }
    BOOST_TEST(weft::crypto::usable_avx512ifma() == *kernel);
}

// What the daemon logs is this process's capability vector: the words the
// openssl program reports when started with the same OPENSSL_ia32cap.
BOOST_AUTO_TEST_CASE(reports_what_libcrypto_runs_with) {
    const std::string s(weft::crypto::openssl_cpu_settings());
#if !defined(__x86_64__) && !defined(__i386__)
    BOOST_TEST_MESSAGE("not x86: " << s);
    return;
#endif
    unsigned long long first = 0, leaf7 = 0;
    BOOST_TEST_REQUIRE(std::sscanf(s.c_str(), "OPENSSL_ia32cap=0x%llx:0x%llx", &first, &leaf7) == 2, s);
    const char* env = std::getenv("OPENSSL_ia32cap");
    auto program = openssl_caps(env ? "OPENSSL_ia32cap='" + std::string(env) + "'" : "-u OPENSSL_ia32cap");
    BOOST_TEST_REQUIRE(program.has_value());
    BOOST_TEST(first == program->first);
    BOOST_TEST(leaf7 == program->leaf7);
}

BOOST_AUTO_TEST_SUITE_END()
