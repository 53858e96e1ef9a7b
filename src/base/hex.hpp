// Hex and base64 codecs, strict: decoders reject anything that is not the
// canonical alphabet (no whitespace, exact padding).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

std::string to_hex(std::span<const std::uint8_t> bytes);
// Accepts upper or lower case; nullopt on odd length or a non-hex character.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text);

std::string to_base64(std::span<const std::uint8_t> bytes);
// Standard alphabet with '=' padding; nullopt on anything non-canonical.
std::optional<std::vector<std::uint8_t>> from_base64(std::string_view text);

}  // namespace weft
