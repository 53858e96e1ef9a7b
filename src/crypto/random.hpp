// Cryptographically secure random bytes from OpenSSL's DRBG.
#pragma once

#include <cstdint>
#include <span>

namespace weft::crypto {

// Fills `out`.  A DRBG failure is unrecoverable (no safe fallback exists):
// it aborts with a message rather than return predictable bytes.
void random_bytes(std::span<std::uint8_t> out) noexcept;

}  // namespace weft::crypto
