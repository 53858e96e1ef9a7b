// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF.  One decoder for every parser that takes text from outside (the
// node list, negotiation ERROR texts, the control socket).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace weft {

struct utf8_char {
    std::size_t length = 0;  // 0: s[i] does not start a well-formed sequence
    std::uint32_t code_point = 0;
};

// The character starting at s[i] (i < s.size()).
utf8_char decode_utf8(std::string_view s, std::size_t i) noexcept;

// Index of the first byte that is not part of well-formed UTF-8, or npos.
std::size_t first_invalid_utf8(std::string_view s) noexcept;
inline bool valid_utf8(std::string_view s) noexcept { return first_invalid_utf8(s) == std::string_view::npos; }

// C0 controls, DEL and the C1 controls U+0080..U+009F (a C1 CSI drives a
// terminal as ESC [ does).
constexpr bool is_control_character(std::uint32_t cp) noexcept {
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

}  // namespace weft
