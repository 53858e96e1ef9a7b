#include "wire/control.hpp"

#include <algorithm>
#include <array>

#include "base/utf8.hpp"
#include "wire/bnl.hpp"

namespace weft {

namespace {

using json = nlohmann::json;

constexpr std::array<std::string_view, 5> command_names{"status", "bnl", "push", "reload",
                                                        "renegotiate"};

// nlohmann's messages start with "[json.exception.parse_error.101] ".
std::string_view strip_exception_id(std::string_view what) noexcept {
    if (!what.empty() && what.front() == '[') {
        const auto end = what.find("] ");
        if (end != std::string_view::npos) what.remove_prefix(end + 2);
    }
    return what;
}

// The request schema, checked while parsing: one flat object whose values
// are strings.  The first problem stops the parse.
class request_sax {
  public:
    std::string error;
    std::optional<std::string> command, peer;

    bool null() { return wrong_type("null"); }
    bool boolean(bool) { return wrong_type("a boolean"); }
    bool number_integer(json::number_integer_t) { return wrong_type("a number"); }
    bool number_unsigned(json::number_unsigned_t) { return wrong_type("a number"); }
    bool number_float(json::number_float_t, const json::string_t&) {
        return wrong_type("a number");
    }
    bool binary(json::binary_t&) { return wrong_type("binary"); }
    bool string(json::string_t& v) {
        if (depth_ == 0) return fail("the request must be a JSON object, not a string");
        (key_ == "command" ? command : peer) = std::move(v);
        return true;
    }
    bool start_object(std::size_t) {
        if (depth_ > 0) return wrong_type("an object");
        ++depth_;
        return true;
    }
    bool key(json::string_t& k) {
        if (k != "command" && k != "peer") return fail("unknown key '" + one_line(k, 64) + "'");
        if ((k == "command" && command) || (k == "peer" && peer))
            return fail("key '" + k + "' given twice");
        key_ = std::move(k);
        return true;
    }
    bool end_object() {
        --depth_;
        return true;
    }
    bool start_array(std::size_t) { return wrong_type("an array"); }
    bool end_array() { return true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
        return fail("JSON syntax error: " + std::string(strip_exception_id(ex.what())));
    }

  private:
    int depth_ = 0;
    std::string key_;

    bool fail(std::string why) {
        if (error.empty()) error = std::move(why);
        return false;
    }
    bool wrong_type(const char* what) {
        if (depth_ == 0) return fail(std::string("the request must be a JSON object, not ") + what);
        return fail("'" + key_ + "' must be a string, not " + what);
    }
};

// Deepest nesting of arrays and objects, stopping once past `limit`, so a
// hostile answer cannot make the DOM parser build a huge stack.
std::size_t nesting_depth(std::string_view text, std::size_t limit) noexcept {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) return deepest;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

constexpr std::size_t reply_max_depth = 64;

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string_view to_string(control_command c) noexcept {
    const auto i = static_cast<std::size_t>(c);
    return i < command_names.size() ? command_names[i] : std::string_view("unknown");
}

std::optional<control_command> parse_control_command(std::string_view name) noexcept {
    for (std::size_t i = 0; i < command_names.size(); ++i)
        if (command_names[i] == name) return static_cast<control_command>(i);
    return std::nullopt;
}

std::string one_line(std::string_view text, std::size_t max) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        const utf8_char c = decode_utf8(text, i);
        if (c.length == 0 || is_control_character(c.code_point))
            out += '?';
        else
            out += text.substr(i, c.length);
        i += c.length == 0 ? 1 : c.length;
    }
    if (out.size() <= max) return out;
    if (max < 3) return std::string(max, '.');
    // Cut at a character boundary so that "..." still fits within max.
    std::size_t keep = max - 3;
    while (keep > 0 && (static_cast<unsigned char>(out[keep]) & 0xc0) == 0x80) --keep;
    out.resize(keep);
    return out + "...";
}

result<control_request, std::string> parse_control_request(std::span<const std::uint8_t> line) {
    using R = result<control_request, std::string>;
    if (line.size() > control_request_max)
        return unexpected{std::string("request longer than ") +
                          std::to_string(control_request_max) + " bytes"};
    if (line.empty() || line.back() != '\n')
        return unexpected{std::string("request not terminated by a newline")};
    const auto body = line.first(line.size() - 1);
    if (std::find(body.begin(), body.end(), std::uint8_t{'\n'}) != body.end())
        return unexpected{std::string("more than one line in the request")};
    if (const auto bad = first_invalid_utf8({reinterpret_cast<const char*>(body.data()), body.size()});
        bad != std::string_view::npos)
        return unexpected{"not UTF-8 (byte " + std::to_string(bad) + ")"};

    request_sax sax;
    const std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
    const bool parsed = json::sax_parse(text, &sax, json::input_format_t::json, true, false);
    if (!parsed || !sax.error.empty())
        return R(
            unexpected{sax.error.empty() ? std::string("malformed request") : one_line(sax.error)});
    if (!sax.command) return unexpected{std::string("missing key 'command'")};
    const auto command = parse_control_command(*sax.command);
    if (!command) return unexpected{"unknown command '" + one_line(*sax.command, 64) + "'"};

    control_request req;
    req.command = *command;
    if (*command == control_command::renegotiate) {
        if (!sax.peer) return unexpected{std::string("renegotiate needs key 'peer'")};
        if (!is_valid_bnl_name(*sax.peer))
            return unexpected{"invalid peer name '" + one_line(*sax.peer, 64) + "'"};
        req.peer = std::move(*sax.peer);
    } else if (sax.peer) {
        return unexpected{"key 'peer' is not allowed with " + std::string(to_string(*command))};
    }
    return req;
}

std::string serialise(const control_request& request) {
    json j;
    j["command"] = std::string(to_string(request.command));
    if (request.command == control_command::renegotiate) j["peer"] = request.peer;
    return dump(j) + "\n";
}

std::string serialise_reply_ok(const json& result) {
    json j;
    j["ok"] = true;
    j["result"] = result;
    return dump(j);
}

std::string serialise_reply_error(std::string_view message) {
    json j;
    j["ok"] = false;
    j["error"] = one_line(message, 1024);
    return dump(j);
}

result<control_reply, std::string> parse_control_reply(std::string_view text) {
    if (text.size() > control_reply_max)
        return unexpected{"answer longer than " + std::to_string(control_reply_max >> 20) + " MiB"};
    if (const auto bad = first_invalid_utf8(text); bad != std::string_view::npos)
        return unexpected{"answer is not UTF-8 (byte " + std::to_string(bad) + ")"};
    if (nesting_depth(text, reply_max_depth) > reply_max_depth)
        return unexpected{"answer nested deeper than " + std::to_string(reply_max_depth) +
                          " levels"};
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return unexpected{std::string("answer is not valid JSON")};
    if (!j.is_object()) return unexpected{std::string("answer is not a JSON object")};
    for (const auto& [k, v] : j.items()) {
        (void)v;
        if (k != "ok" && k != "result" && k != "error")
            return unexpected{"unexpected key '" + one_line(k, 64) + "' in the answer"};
    }
    const auto ok_key = j.find("ok");
    if (ok_key == j.end() || !ok_key->is_boolean())
        return unexpected{std::string("answer has no boolean 'ok'")};
    control_reply reply;
    reply.ok = ok_key->get<bool>();
    if (reply.ok) {
        const auto r = j.find("result");
        if (r == j.end()) return unexpected{std::string("answer has 'ok' but no 'result'")};
        if (j.contains("error"))
            return unexpected{std::string("answer has both 'result' and 'error'")};
        reply.result = std::move(*r);
    } else {
        const auto e = j.find("error");
        if (e == j.end() || !e->is_string())
            return unexpected{std::string("failure answer has no 'error' text")};
        if (j.contains("result"))
            return unexpected{std::string("answer has both 'result' and 'error'")};
        reply.error = one_line(e->get<std::string>(), 1024);
    }
    return reply;
}

}  // namespace weft
