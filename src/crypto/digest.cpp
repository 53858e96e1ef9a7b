#include "crypto/digest.hpp"

#include <openssl/evp.h>

#include "base/check.hpp"

namespace weft::crypto {

sha256_digest sha256(std::span<const std::uint8_t> data) noexcept {
    sha256_digest out{};
    unsigned len = 0;
    // EVP_Digest only fails on allocation failure or a broken provider.
    WEFT_CHECK(EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) == 1);
    WEFT_CHECK(len == out.size());
    return out;
}

}  // namespace weft::crypto
