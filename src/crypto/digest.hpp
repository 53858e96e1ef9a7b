// Message digests.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace weft::crypto {

using sha256_digest = std::array<std::uint8_t, 32>;

sha256_digest sha256(std::span<const std::uint8_t> data) noexcept;

}  // namespace weft::crypto
