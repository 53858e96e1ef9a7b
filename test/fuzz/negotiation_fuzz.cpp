// Fuzz target: the negotiation message codec (src/wire/NEGOTIATION.md).
// The input is read as a stream would be: a header, then the body it
// announces (bytes after it belong to the next message).  Checks:
//  - decode() over the whole input agrees with the two-step header/body path;
//  - whatever decodes is encodable and re-encodes to exactly the input
//    frame, unless PROPOSE entries with unknown ids were skipped (then the
//    re-encoding is shorter), and always decodes back to the same value;
//  - a decoded PROPOSE gives the same choice in both argument orders;
//  - make_error_msg() turns any bytes into an encodable ERROR.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

#include "base/check.hpp"
#include "core/algorithm_choice.hpp"
#include "core/key_schedule.hpp"
#include "wire/negotiation.hpp"

namespace {

bool same_outcome(const weft::result<weft::algorithm_choice, weft::choice_error>& a,
                  const weft::result<weft::algorithm_choice, weft::choice_error>& b) {
    if (a.has_value() != b.has_value()) return false;
    return a.has_value() ? *a == *b : a.error().code == b.error().code;
}

void check_choice(const weft::propose_msg& p) {
    static const weft::algorithm_prefs defaults = weft::default_prefs();
    const auto theirs = weft::prefs_of(p);
    WEFT_CHECK(weft::to_propose(theirs, p.epoch) == p);
    WEFT_CHECK(same_outcome(weft::choose(theirs, defaults), weft::choose(defaults, theirs)));
    const auto self = weft::choose(theirs, theirs);
    if (!self) return;
    // A choice from decoded lists always names known ids at a valid level.
    WEFT_CHECK(weft::valid_level(self->compression, self->level));
    WEFT_CHECK(weft::exporter_length(self->cipher) != 0);
    WEFT_CHECK(weft::key_context(1, 2, self->cipher, self->compression, self->level, p.epoch) ==
               weft::key_context(2, 1, self->cipher, self->compression, self->level, p.epoch));
}

void check_reencode(const weft::message& m, weft::msg_type type,
                    std::span<const std::uint8_t> frame) {
    WEFT_CHECK(weft::type_of(m) == type);
    WEFT_CHECK(weft::check_encodable(m).has_value());
    const auto again = weft::encode(m);
    if (again.size() == frame.size()) {
        WEFT_CHECK(std::equal(again.begin(), again.end(), frame.begin()));
    } else {
        // Only skipping unknown PROPOSE entries changes the bytes, and it can
        // only remove them.
        WEFT_CHECK(type == weft::msg_type::propose);
        WEFT_CHECK(again.size() < frame.size());
    }
    const auto back = weft::decode(again);
    WEFT_CHECK(back.has_value());
    WEFT_CHECK(*back == m);

    if (const auto* p = std::get_if<weft::propose_msg>(&m)) check_choice(*p);
    if (const auto* e = std::get_if<weft::error_msg>(&m))
        WEFT_CHECK(weft::make_error_msg(e->code, e->text) == *e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);

    const auto clean =
        weft::make_error_msg(weft::error_msg_code::internal,
                             std::string_view(reinterpret_cast<const char*>(data), size));
    WEFT_CHECK(weft::check_encodable(clean).has_value());

    const auto whole = weft::decode(in);
    if (size < weft::msg_header_size) {
        WEFT_CHECK(!whole && whole.error().code == weft::neg_errc::truncated);
        return 0;
    }
    const auto header = weft::decode_header(in.first<weft::msg_header_size>());
    if (!header) {
        WEFT_CHECK(!whole && whole.error().code == header.error().code);
        return 0;
    }
    WEFT_CHECK(header->length <= weft::body_limit(header->type));
    const auto rest = in.subspan(weft::msg_header_size);
    if (rest.size() < header->length) {
        WEFT_CHECK(!whole && whole.error().code == weft::neg_errc::truncated);
        return 0;
    }
    const auto body = weft::decode_body(header->type, rest.first(header->length));
    if (rest.size() == header->length) {
        WEFT_CHECK(whole.has_value() == body.has_value());
        if (whole) WEFT_CHECK(*whole == *body);
        else WEFT_CHECK(whole.error().code == body.error().code);
    } else {
        WEFT_CHECK(!whole && whole.error().code == weft::neg_errc::trailing_bytes);
    }
    if (!body) return 0;
    check_reencode(*body, header->type, in.first(weft::msg_header_size + header->length));
    return 0;
}
