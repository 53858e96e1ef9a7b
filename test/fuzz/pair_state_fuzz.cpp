// Fuzz target: the pair state file codec.  Decoding arbitrary bytes must
// never crash, and whatever decodes must be an encodable state whose
// encoding is exactly the input (one encoding per state: no field the
// decoder ignores, no second spelling of a value).
//
// A mutated input almost never carries a matching SHA-256, so on its own the
// fuzzer would stop at bad_checksum.  Each input is therefore also tried
// with its trailing checksum recomputed, which sends it through the content
// checks; the production decoder is not changed for fuzzing.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "base/check.hpp"
#include "core/pair_state.hpp"
#include "crypto/digest.hpp"

namespace {

void check_round_trip(std::span<const std::uint8_t> in) {
    auto decoded = weft::decode_pair_state(in);
    if (!decoded) {
        WEFT_CHECK(!decoded.error().message.empty());
        return;
    }
    WEFT_CHECK(weft::pair_state_problem(*decoded) == nullptr);
    const auto again = weft::encode_pair_state(*decoded);
    WEFT_CHECK(again.size() == in.size());
    WEFT_CHECK(std::equal(in.begin(), in.end(), again.data()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace L = weft::pair_state_layout;
    const std::span<const std::uint8_t> in(data, size);
    check_round_trip(in);

    if (size >= L::min_checkable_size && size <= L::max_size) {
        std::vector<std::uint8_t> fixed(in.begin(), in.end());
        const std::size_t body = size - L::checksum_size;
        const auto sum = weft::crypto::sha256(std::span<const std::uint8_t>(fixed).first(body));
        std::copy(sum.begin(), sum.end(), fixed.begin() + static_cast<std::ptrdiff_t>(body));
        check_round_trip(fixed);
    }
    return 0;
}
