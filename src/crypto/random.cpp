#include "crypto/random.hpp"

#include <openssl/rand.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

namespace weft::crypto {

void random_bytes(std::span<std::uint8_t> out) noexcept {
    while (!out.empty()) {
        int n = out.size() > INT_MAX ? INT_MAX : static_cast<int>(out.size());
        if (RAND_bytes(out.data(), n) != 1) {
            std::fputs("weft: RAND_bytes failed; refusing to continue without randomness\n", stderr);
            std::abort();
        }
        out = out.subspan(static_cast<std::size_t>(n));
    }
}

}  // namespace weft::crypto
