// Fuzz target: the original CSV node-list importer.  Whatever it accepts
// must be a valid list that survives the canonical text round trip.
#include <cstdint>
#include <string_view>

#include "base/check.hpp"
#include "wire/bnl.hpp"
#include "wire/bnl_csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto list = weft::parse_bnl_csv(text, "fuzz");
    if (!list) return 0;
    WEFT_CHECK(weft::validate_bnl(*list).has_value());
    auto again = weft::parse_bnl(weft::serialise_bnl(*list));
    WEFT_CHECK(again.has_value());
    WEFT_CHECK(*again == *list);
    return 0;
}
