// Fuzz target: the control socket's request line and answer parsers
// (src/wire/CONTROL.md).  Checks:
//  - parse_control_request never throws and gives a one-line reason;
//  - what it accepts re-serialises to a line it accepts again as the same
//    request, with the input's framing (one LF, at most 4096 bytes);
//  - parse_control_reply never throws; an accepted failure answer carries a
//    one-line error, and an accepted answer survives serialise + parse.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/check.hpp"
#include "wire/control.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    const auto req = weft::parse_control_request(in);
    if (req) {
        WEFT_CHECK(size <= weft::control_request_max && size > 0 && data[size - 1] == '\n');
        WEFT_CHECK(std::count(in.begin(), in.end(), std::uint8_t{'\n'}) == 1);
        WEFT_CHECK(req->peer.empty() == (req->command != weft::control_command::renegotiate));
        const std::string again = weft::serialise(*req);
        const auto back = weft::parse_control_request(std::span<const std::uint8_t>(
            reinterpret_cast<const std::uint8_t*>(again.data()), again.size()));
        WEFT_CHECK(back.has_value() && *back == *req);
    } else {
        WEFT_CHECK(!req.error().empty());
        WEFT_CHECK(req.error().find('\n') == std::string::npos);
    }

    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto reply = weft::parse_control_reply(text);
    if (reply) {
        if (reply->ok) {
            const auto back = weft::parse_control_reply(weft::serialise_reply_ok(reply->result));
            WEFT_CHECK(back.has_value() && back->ok && back->result == reply->result);
        } else {
            WEFT_CHECK(reply->error.find('\n') == std::string::npos);
            const auto back = weft::parse_control_reply(weft::serialise_reply_error(reply->error));
            WEFT_CHECK(back.has_value() && !back->ok && back->error == reply->error);
        }
    }
    const std::string line = weft::one_line(text, 64);
    WEFT_CHECK(line.find('\n') == std::string::npos && line.size() <= 67);
    return 0;
}
