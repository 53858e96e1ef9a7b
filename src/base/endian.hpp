// Big-endian integer access over byte spans, through memcpy only (never by
// casting to a packed struct).  Callers check lengths first; these check
// again and abort on a programmer error.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>

#include "base/check.hpp"

namespace weft {

template <class U>
constexpr U byteswap_if_little(U v) noexcept {
    if constexpr (std::endian::native == std::endian::big || sizeof(U) == 1) {
        return v;
    } else if constexpr (sizeof(U) == 2) {
        return static_cast<U>(__builtin_bswap16(v));
    } else if constexpr (sizeof(U) == 4) {
        return static_cast<U>(__builtin_bswap32(v));
    } else {
        return static_cast<U>(__builtin_bswap64(v));
    }
}

template <class U>
inline U load_be(std::span<const std::uint8_t> in, std::size_t offset) noexcept {
    WEFT_CHECK(offset <= in.size() && in.size() - offset >= sizeof(U));
    U v;
    std::memcpy(&v, in.data() + offset, sizeof(U));
    return byteswap_if_little(v);
}

template <class U>
inline void store_be(std::span<std::uint8_t> out, std::size_t offset, U v) noexcept {
    WEFT_CHECK(offset <= out.size() && out.size() - offset >= sizeof(U));
    v = byteswap_if_little(v);
    std::memcpy(out.data() + offset, &v, sizeof(U));
}

inline std::uint16_t load_be16(std::span<const std::uint8_t> in, std::size_t off) noexcept {
    return load_be<std::uint16_t>(in, off);
}
inline std::uint32_t load_be32(std::span<const std::uint8_t> in, std::size_t off) noexcept {
    return load_be<std::uint32_t>(in, off);
}
inline std::uint64_t load_be64(std::span<const std::uint8_t> in, std::size_t off) noexcept {
    return load_be<std::uint64_t>(in, off);
}

}  // namespace weft
