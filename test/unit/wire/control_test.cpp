// wire/control: the request line (every rejection with its reason, round
// trips of every command), the answer documents, and one_line().
#include "wire/control.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace {

using weft::control_command;
using weft::control_request;

weft::result<control_request, std::string> parse(std::string_view s) {
    return weft::parse_control_request(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

// A refused line whose reason contains `needle`.
void refused(std::string_view line, std::string_view needle) {
    const auto r = parse(line);
    BOOST_TEST_CONTEXT("line: " << line) {
        BOOST_TEST_REQUIRE(!r.has_value());
        BOOST_TEST(r.error().find(needle) != std::string::npos,
                   "reason '" << r.error() << "' lacks '" << needle << "'");
        BOOST_TEST(r.error().find('\n') == std::string::npos);
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(control_protocol)

BOOST_AUTO_TEST_CASE(every_command_parses) {
    const std::pair<std::string_view, control_command> cases[] = {
        {"{\"command\":\"status\"}\n", control_command::status},
        {"{\"command\":\"bnl\"}\n", control_command::bnl},
        {"{\"command\":\"push\"}\n", control_command::push},
        {"{\"command\":\"reload\"}\n", control_command::reload},
        {" { \"command\" : \"status\" } \n", control_command::status},
    };
    for (const auto& [line, cmd] : cases) {
        const auto r = parse(line);
        BOOST_TEST_REQUIRE(r.has_value(), line);
        BOOST_TEST(static_cast<int>(r->command) == static_cast<int>(cmd));
        BOOST_TEST(r->peer.empty());
    }
    const auto r = parse("{\"peer\":\"node-b.example\",\"command\":\"renegotiate\"}\n");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(static_cast<int>(r->command) == static_cast<int>(control_command::renegotiate));
    BOOST_TEST(r->peer == "node-b.example");
}

BOOST_AUTO_TEST_CASE(serialise_round_trips) {
    for (auto c : {control_command::status, control_command::bnl, control_command::push,
                   control_command::reload, control_command::renegotiate}) {
        control_request req;
        req.command = c;
        if (c == control_command::renegotiate) req.peer = "gamma";
        const std::string line = weft::serialise(req);
        BOOST_TEST(line.back() == '\n');
        BOOST_TEST(line.find('\n') == line.size() - 1);
        const auto back = parse(line);
        BOOST_TEST_REQUIRE(back.has_value(), line);
        BOOST_TEST((*back == req));
        BOOST_TEST(weft::parse_control_command(weft::to_string(c)).has_value());
    }
    BOOST_TEST(weft::serialise(control_request{control_command::renegotiate, "node-b"}) ==
               "{\"command\":\"renegotiate\",\"peer\":\"node-b\"}\n");
    BOOST_TEST(weft::serialise(control_request{control_command::status, {}}) ==
               "{\"command\":\"status\"}\n");
}

BOOST_AUTO_TEST_CASE(framing_is_strict) {
    refused("{\"command\":\"status\"}", "not terminated by a newline");
    refused("", "not terminated by a newline");
    refused("{\"command\":\n\"status\"}\n", "more than one line");
    refused("{\"command\":\"status\"}\n\n", "more than one line");
    std::string big =
        "{\"command\":\"status\",\"x\":\"" + std::string(weft::control_request_max, 'a') + "\"}\n";
    refused(big, "longer than 4096 bytes");
    // Exactly at the cap passes the size check (and then fails on the key).
    std::string at_cap = "{\"command\":\"status\"}";
    at_cap += std::string(weft::control_request_max - at_cap.size() - 1, ' ') + "\n";
    BOOST_TEST(at_cap.size() == weft::control_request_max);
    BOOST_TEST(parse(at_cap).has_value());
    refused(at_cap + " ", "longer than 4096 bytes");
}

BOOST_AUTO_TEST_CASE(encoding_and_syntax) {
    refused("{\"command\":\"st\xff\"}\n", "not UTF-8 (byte 14)");
    refused("{\"command\":\"\xc0\xaf\"}\n", "not UTF-8");          // overlong
    refused("{\"command\":\"\xed\xa0\x80\"}\n", "not UTF-8");      // surrogate
    refused("{\"command\":\"\xf4\x90\x80\x80\"}\n", "not UTF-8");  // past U+10FFFF
    refused("{\"command\":\"status\"\n", "JSON syntax error");
    refused("{\"command\":\"status\"}x\n", "JSON syntax error");
    refused("{\"command\":\"status\"}{}\n", "JSON syntax error");
    refused("{command:\"status\"}\n", "JSON syntax error");
    refused("{\"command\":\"status\",}\n", "JSON syntax error");
    refused("{\"command\":\"sta\x01tus\"}\n", "JSON syntax error");
    refused("/* c */{\"command\":\"status\"}\n", "JSON syntax error");
    refused("\n", "JSON syntax error");
}

BOOST_AUTO_TEST_CASE(schema_is_strict) {
    refused("[\"status\"]\n", "must be a JSON object, not an array");
    refused("\"status\"\n", "must be a JSON object, not a string");
    refused("42\n", "must be a JSON object, not a number");
    refused("null\n", "must be a JSON object, not null");
    refused("{}\n", "missing key 'command'");
    refused("{\"peer\":\"a\"}\n", "missing key 'command'");
    refused("{\"command\":\"status\",\"verbose\":\"1\"}\n", "unknown key 'verbose'");
    refused("{\"Command\":\"status\"}\n", "unknown key 'Command'");
    refused("{\"command\":\"status\",\"command\":\"push\"}\n", "key 'command' given twice");
    refused("{\"command\":1}\n", "'command' must be a string, not a number");
    refused("{\"command\":true}\n", "'command' must be a string, not a boolean");
    refused("{\"command\":null}\n", "'command' must be a string, not null");
    refused("{\"command\":[\"status\"]}\n", "'command' must be a string, not an array");
    refused("{\"command\":{\"a\":\"b\"}}\n", "'command' must be a string, not an object");
    refused("{\"command\":\"STATUS\"}\n", "unknown command 'STATUS'");
    refused("{\"command\":\"\"}\n", "unknown command ''");
    refused("{\"command\":\"status\",\"peer\":\"a\"}\n", "key 'peer' is not allowed with status");
    refused("{\"command\":\"push\",\"peer\":\"a\"}\n", "key 'peer' is not allowed with push");
    refused("{\"command\":\"renegotiate\"}\n", "renegotiate needs key 'peer'");
    refused("{\"command\":\"renegotiate\",\"peer\":5}\n", "'peer' must be a string, not a number");
    refused("{\"command\":\"renegotiate\",\"peer\":\"Node_B\"}\n", "invalid peer name 'Node_B'");
    refused("{\"command\":\"renegotiate\",\"peer\":\"\"}\n", "invalid peer name ''");
    refused("{\"command\":\"renegotiate\",\"peer\":\"-a\"}\n", "invalid peer name");
    refused("{\"command\":\"renegotiate\",\"peer\":\"" + std::string(64, 'a') + "\"}\n",
            "invalid peer name");
    refused("{\"command\":\"renegotiate\",\"peer\":\"a\\nb\"}\n", "invalid peer name 'a?b'");
    refused("{\"command\":\"renegotiate\",\"peer\":\"a\",\"peer\":\"b\"}\n",
            "key 'peer' given twice");
    // Escapes decode before the check: "\u0073tatus" is "status".
    BOOST_TEST(parse("{\"command\":\"\\u0073tatus\"}\n").has_value());
}

BOOST_AUTO_TEST_CASE(reply_documents) {
    const std::string ok = weft::serialise_reply_ok(nlohmann::json{{"version", 5}, {"peers", 2}});
    BOOST_TEST(ok == "{\"ok\":true,\"result\":{\"peers\":2,\"version\":5}}");
    const auto r = weft::parse_control_reply(ok + "\n");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->ok);
    BOOST_TEST(r->result["version"] == 5);

    const std::string err = weft::serialise_reply_error("no peer named x\nsecond line");
    BOOST_TEST(err == "{\"error\":\"no peer named x?second line\",\"ok\":false}");
    const auto e = weft::parse_control_reply(err);
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(!e->ok);
    BOOST_TEST(e->error == "no peer named x?second line");

    // Invalid UTF-8 inside a result never throws: replaced.
    const std::string bad =
        weft::serialise_reply_ok(nlohmann::json{{"text", std::string("a\xff")}});
    BOOST_TEST(weft::parse_control_reply(bad).has_value());
}

BOOST_AUTO_TEST_CASE(reply_rejections) {
    auto refused_reply = [](std::string_view text, std::string_view needle) {
        const auto r = weft::parse_control_reply(text);
        BOOST_TEST_CONTEXT("answer: " << text.substr(0, 80)) {
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().find(needle) != std::string::npos, "reason '" << r.error() << "'");
        }
    };
    refused_reply("", "not valid JSON");
    refused_reply("garbage", "not valid JSON");
    refused_reply("{\"ok\":true,\"result\":1} trailing", "not valid JSON");
    refused_reply("[1]", "not a JSON object");
    refused_reply("{\"result\":1}", "no boolean 'ok'");
    refused_reply("{\"ok\":\"yes\",\"result\":1}", "no boolean 'ok'");
    refused_reply("{\"ok\":true}", "no 'result'");
    refused_reply("{\"ok\":false}", "no 'error' text");
    refused_reply("{\"ok\":false,\"error\":3}", "no 'error' text");
    refused_reply("{\"ok\":true,\"result\":1,\"error\":\"x\"}", "both");
    refused_reply("{\"ok\":true,\"result\":1,\"extra\":2}", "unexpected key 'extra'");
    refused_reply("{\"ok\":true,\"result\":\"\xff\"}", "not UTF-8");
    refused_reply(std::string(100, '[') + std::string(100, ']'), "nested deeper than 64");
    std::string huge(weft::control_reply_max + 1, ' ');
    refused_reply(huge, "longer than 32 MiB");
    // Brackets inside strings do not count as nesting.
    const std::string deep_string = "{\"ok\":true,\"result\":\"" + std::string(100, '[') + "\"}";
    BOOST_TEST(weft::parse_control_reply(deep_string).has_value());
}

BOOST_AUTO_TEST_CASE(one_line_is_safe) {
    BOOST_TEST(weft::one_line("a\nb\rc\x7f") == "a?b?c?");
    BOOST_TEST(weft::one_line("caf\xc3\xa9") == "caf\xc3\xa9");
    BOOST_TEST(weft::one_line("x\xff") == "x?");
    // C1 controls (here U+009B, a terminal CSI) are controls too.
    BOOST_TEST(weft::one_line("a\xc2\x9b" "31mb") == "a?31mb");
    BOOST_TEST(weft::one_line("a\xc2\xa0" "b") == "a\xc2\xa0" "b");  // U+00A0 is not
    // A cut text ends in "..." and is at most max bytes.
    BOOST_TEST(weft::one_line(std::string(10, 'a'), 10) == std::string(10, 'a'));
    BOOST_TEST(weft::one_line(std::string(10, 'a'), 6) == "aaa...");
    BOOST_TEST(weft::one_line(std::string(10, 'a'), 2) == "..");
    // Never cut inside a multi-byte character.
    BOOST_TEST(weft::one_line("abc\xc3\xa9xyz", 7) == "abc...");
    // Bounded and stable when applied again (the reply codec relies on it).
    const std::string long_text = std::string(1023, 'a') + "\xc3\xa9\xe2\x80\xa6";
    const std::string once = weft::one_line(long_text, 1024);
    BOOST_TEST(once.size() <= 1024u);
    BOOST_TEST(once == std::string(1021, 'a') + "...");
    BOOST_TEST(weft::one_line(once, 1024) == once);
}

BOOST_AUTO_TEST_SUITE_END()
