// The control socket's messages (spec in CONTROL.md): one request line of
// JSON from weftctl, one JSON answer from weftd.  Pure functions over bytes;
// the socket itself is io/control_server, the status document app/status.
//
// Parsing never throws: nlohmann::json is driven through its SAX interface
// (or parse(..., nullptr, false)) so that a malformed input is a value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace weft {

// A request line, its terminating LF included.
inline constexpr std::size_t control_request_max = 4096;
// An answer document (the server closes after it).
inline constexpr std::size_t control_reply_max = std::size_t{32} << 20;

enum class control_command { status, bnl, push, reload, renegotiate };

// The command's wire name ("status", ...); parse_control_command is its
// inverse (nullopt for anything else).
std::string_view to_string(control_command c) noexcept;
std::optional<control_command> parse_control_command(std::string_view name) noexcept;

struct control_request {
    control_command command = control_command::status;
    std::string peer;  // renegotiate only: a BNL node name; empty otherwise
    friend bool operator==(const control_request&, const control_request&) = default;
};

// One request line: UTF-8 JSON object, ending in exactly one LF (and no other
// LF), at most control_request_max bytes.  Keys: "command" (string, required)
// and "peer" (string, required with renegotiate, refused with the others).
// Errors: one line saying what is wrong, e.g. "unknown key 'peers'",
// "'command' must be a string", "invalid peer name 'Node_B'", "not UTF-8
// (byte 7)", "JSON syntax error: parse error at line 1, column 12: ...".
result<control_request, std::string> parse_control_request(std::span<const std::uint8_t> line);

// The canonical request line, LF included; parse_control_request accepts it
// and gives back the same request (for a request whose peer is valid).
std::string serialise(const control_request& request);

// ------------------------------------------------------------- answers --

struct control_reply {
    bool ok = false;
    nlohmann::json result;  // ok: whatever the command returns
    std::string error;      // !ok: one line from the daemon
};

// The answer documents, without a trailing LF.  Strings that are not valid
// UTF-8 are replaced (U+FFFD), never a throw; an error text is cut to one
// line of at most 1024 bytes.
std::string serialise_reply_ok(const nlohmann::json& result);
std::string serialise_reply_error(std::string_view message);

// Parses an answer: a JSON object {"ok":true,"result":X} or
// {"ok":false,"error":"text"} and nothing else, at most control_reply_max
// bytes (a trailing LF or whitespace is allowed).  Errors: one line.
result<control_reply, std::string> parse_control_reply(std::string_view text);

// Makes a text safe to show on one line: control characters (C0 with LF,
// DEL and C1) become '?', invalid UTF-8 becomes '?', and a text longer than
// `max` bytes is cut at a character boundary so that it ends in "..." and
// is at most `max` bytes.  one_line(one_line(t, m), m) == one_line(t, m).
std::string one_line(std::string_view text, std::size_t max = 200);

}  // namespace weft
