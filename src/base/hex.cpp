#include "base/hex.hpp"

#include <array>

namespace weft {

namespace {
constexpr std::string_view hex_digits = "0123456789abcdef";
constexpr std::string_view b64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr std::array<int, 256> make_b64_table() {
    std::array<int, 256> t{};
    for (auto& v : t) v = -1;
    for (std::size_t i = 0; i < b64_alphabet.size(); ++i)
        t[static_cast<unsigned char>(b64_alphabet[i])] = static_cast<int>(i);
    return t;
}
constexpr auto b64_table = make_b64_table();
}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        out.push_back(hex_digits[b >> 4]);
        out.push_back(hex_digits[b & 0x0f]);
    }
    return out;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    std::vector<std::uint8_t> out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    return out;
}

std::string to_base64(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        std::uint32_t v = std::uint32_t{bytes[i]} << 16 | std::uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
        out.push_back(b64_alphabet[v >> 18 & 63]);
        out.push_back(b64_alphabet[v >> 12 & 63]);
        out.push_back(b64_alphabet[v >> 6 & 63]);
        out.push_back(b64_alphabet[v & 63]);
    }
    std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        std::uint32_t v = std::uint32_t{bytes[i]} << 16;
        out.push_back(b64_alphabet[v >> 18 & 63]);
        out.push_back(b64_alphabet[v >> 12 & 63]);
        out.append("==");
    } else if (rest == 2) {
        std::uint32_t v = std::uint32_t{bytes[i]} << 16 | std::uint32_t{bytes[i + 1]} << 8;
        out.push_back(b64_alphabet[v >> 18 & 63]);
        out.push_back(b64_alphabet[v >> 12 & 63]);
        out.push_back(b64_alphabet[v >> 6 & 63]);
        out.push_back('=');
    }
    return out;
}

std::optional<std::vector<std::uint8_t>> from_base64(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::vector<std::uint8_t> out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        bool last = i + 4 == text.size();
        int pad = 0;
        if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
        std::uint32_t v = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            if (j >= 4 - static_cast<std::size_t>(pad)) {
                v <<= 6;
                continue;
            }
            int d = b64_table[static_cast<unsigned char>(text[i + j])];
            if (d < 0) return std::nullopt;
            v = v << 6 | static_cast<std::uint32_t>(d);
        }
        out.push_back(static_cast<std::uint8_t>(v >> 16));
        if (pad < 2) out.push_back(static_cast<std::uint8_t>(v >> 8));
        if (pad < 1) out.push_back(static_cast<std::uint8_t>(v));
        // Canonical form: the bits dropped by padding must be zero.
        if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0)) return std::nullopt;
    }
    return out;
}

}  // namespace weft

namespace weft {
std::string printable(std::string_view text, std::size_t max) {
    std::string out;
    for (char ch : text.substr(0, max)) {
        auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out.push_back(ch);
        } else {
            out += "\\x";
            out.push_back("0123456789abcdef"[c >> 4]);
            out.push_back("0123456789abcdef"[c & 15]);
        }
    }
    if (text.size() > max) out += "...";
    return out;
}
}  // namespace weft
