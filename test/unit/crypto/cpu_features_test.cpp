#include "crypto/cpu_features.hpp"

#include <openssl/crypto.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace {

using weft::crypto::ia32cap_override;
using weft::crypto::ia32cap_without_ifma;

// The kernel's view of the first CPU's flags: nullopt where /proc/cpuinfo
// has none (not x86).
std::optional<bool> kernel_says_ifma() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) != 0) continue;
        std::istringstream words(line.substr(line.find(':') + 1));
        std::string w;
        while (words >> w)
            if (w == "avx512ifma") return true;
        return false;
    }
    return std::nullopt;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cpu_features)

BOOST_AUTO_TEST_CASE(masks_ifma_only_on_openssl_3_0_with_ifma_and_no_setting) {
    BOOST_TEST(ia32cap_override(nullptr, true, 3, 0).value_or("none") == ia32cap_without_ifma);
    BOOST_TEST(ia32cap_without_ifma == ":~0x200000");  // keep everything, clear leaf 7 EBX bit 21
}

BOOST_AUTO_TEST_CASE(leaves_the_administrators_setting_alone) {
    BOOST_TEST(!ia32cap_override(":~0", true, 3, 0).has_value());
    BOOST_TEST(!ia32cap_override("", true, 3, 0).has_value());  // set, if empty: still theirs
    BOOST_TEST(!ia32cap_override(":~0x200000", true, 3, 0).has_value());  // after the re-exec
}

BOOST_AUTO_TEST_CASE(leaves_cpus_without_ifma_and_other_openssl_series_alone) {
    BOOST_TEST(!ia32cap_override(nullptr, false, 3, 0).has_value());
    BOOST_TEST(!ia32cap_override(nullptr, true, 3, 1).has_value());
    BOOST_TEST(!ia32cap_override(nullptr, true, 3, 2).has_value());
    BOOST_TEST(!ia32cap_override(nullptr, true, 1, 0).has_value());
}

BOOST_AUTO_TEST_CASE(cpuid_agrees_with_the_kernel) {
    auto kernel = kernel_says_ifma();
    if (!kernel) {
        BOOST_TEST(!weft::crypto::cpu_has_avx512ifma());
        return;
    }
    BOOST_TEST(weft::crypto::cpu_has_avx512ifma() == *kernel);
}

BOOST_AUTO_TEST_CASE(this_process_gets_the_decision_for_its_own_environment) {
    // The test runner's libcrypto is the daemon's: 3.0 on Debian 12.
    const char* before = std::getenv("OPENSSL_ia32cap");
    const std::optional<std::string> saved =
        before ? std::optional<std::string>(before) : std::nullopt;
    ::unsetenv("OPENSSL_ia32cap");
    const bool expect = weft::crypto::cpu_has_avx512ifma() && OPENSSL_version_major() == 3 &&
                        OPENSSL_version_minor() == 0;
    BOOST_TEST(weft::crypto::ia32cap_override_here().has_value() == expect);
    ::setenv("OPENSSL_ia32cap", ":~0", 1);
    BOOST_TEST(!weft::crypto::ia32cap_override_here().has_value());
    if (saved)
        ::setenv("OPENSSL_ia32cap", saved->c_str(), 1);
    else
        ::unsetenv("OPENSSL_ia32cap");
}

BOOST_AUTO_TEST_SUITE_END()
