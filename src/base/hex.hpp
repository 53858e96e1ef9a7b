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

namespace weft {
// Text from a peer, made safe for a log line: control characters and
// non-ASCII bytes become \xNN, and at most `max` bytes are kept, so a peer
// can neither forge log lines nor flood them.
std::string printable(std::string_view text, std::size_t max = 200);
}  // namespace weft
