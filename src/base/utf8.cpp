#include "base/utf8.hpp"

namespace weft {

utf8_char decode_utf8(std::string_view s, std::size_t i) noexcept {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) return {1, c};
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        cp = c & 0x1fu;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        cp = c & 0x0fu;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        cp = c & 0x07u;
    } else {
        return {};  // a continuation byte or 0xf8..0xff where a sequence must start
    }
    if (s.size() - i < len) return {};
    for (std::size_t k = 1; k < len; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xc0) != 0x80) return {};
        cp = cp << 6 | (cc & 0x3fu);
    }
    static constexpr std::uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {};
    return {len, cp};
}

std::size_t first_invalid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = decode_utf8(s, i).length;
        if (n == 0) return i;
        i += n;
    }
    return std::string_view::npos;
}

}  // namespace weft
