#include "app/config.hpp"

#include <sys/un.h>

#include <algorithm>
#include <boost/program_options/errors.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <charconv>
#include <exception>
#include <set>
#include <sstream>
#include <utility>

#include "io/file.hpp"
#include "wire/bnl.hpp"

namespace weft {

namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

// A configuration is a few hundred bytes; anything near this is a mistake
// (the wrong file given as DIR/weft.conf), not a configuration.
constexpr std::size_t max_config_bytes = 1 << 20;
constexpr std::string_view config_file_name = "weft.conf";
constexpr std::string_view peer_prefix = "peer.";
// X.509's upper bound for an organizationalUnitName.
constexpr std::size_t max_ou_length = 64;
constexpr std::size_t max_interface_length = 15;  // IFNAMSIZ - 1

// Every key the file may hold at top level, in design.md's order then ours.
// describe() prints in this order too.
constexpr std::string_view known_keys[] = {"name",
                                           "interface",
                                           "port",
                                           "listen",
                                           "cert",
                                           "key",
                                           "ca",
                                           "require-ou",
                                           "bnl",
                                           "bnl-key",
                                           "state-dir",
                                           "ciphers",
                                           "compression",
                                           "pull-interval",
                                           "mtu",
                                           "up",
                                           "down",
                                           "subnet-up",
                                           "subnet-down",
                                           "my-subnet-up",
                                           "my-subnet-down",
                                           "control-socket",
                                           "log",
                                           "log-level",
                                           "keepalive",
                                           "rekey-after",
                                           "rekey-messages",
                                           "rekey-grace",
                                           "max-connections",
                                           "handshake-timeout",
                                           "queue-packets",
                                           "hook-timeout",
                                           "list-ask-interval",
                                           "offload"};
constexpr std::string_view repeatable_key = "bnl-key";

struct range {
    std::uint64_t min;
    std::uint64_t max;
    std::string_view unit;  // "" or " seconds"
};
constexpr range port_range{1, 65535, ""};
constexpr range mtu_range{576, 9000, ""};
constexpr range pull_interval_range{5, 86400, " seconds"};
constexpr range keepalive_range{0, 3600, " seconds"};
constexpr range rekey_after_range{10, 86400, " seconds"};
// AES-GCM stays far below its ~2^32 margin; see design.md "Negotiation".
constexpr range rekey_messages_range{1024, std::uint64_t{1} << 31, ""};
constexpr range rekey_grace_range{1, 600, " seconds"};
constexpr range max_connections_range{1, 4096, ""};
constexpr range handshake_timeout_range{1, 300, " seconds"};
constexpr range queue_packets_range{0, 4096, ""};
constexpr range hook_timeout_range{1, 3600, " seconds"};
constexpr range list_ask_interval_range{0, 3600, " seconds"};

std::string in_quotes(std::string_view s) {
    return "'" + std::string(s) + "'";
}

// The raw key/value pairs, checked for shape, then converted key by key.
// Errors accumulate so that one run of --check-config shows all of them.
class loader {
  public:
    explicit loader(fs::path dir) : dir_(std::move(dir)) {}

    // Sorts the parsed options into values_ and peer_values_, refusing
    // unknown keys, repeats and empty values.
    void collect(const std::vector<po::option>& options);
    weft_config convert();
    const std::vector<std::string>& errors() const { return errors_; }

  private:
    void fail(std::string_view key, const std::string& what) {
        errors_.push_back(std::string(key) + ": " + what);
    }
    // The single value of `key`, or nullptr when it is not in the file.
    const std::string* get(std::string_view key) const {
        auto it = values_.find(key);
        return it == values_.end() ? nullptr : &it->second.front();
    }
    const std::string* required(std::string_view key) {
        const std::string* v = get(key);
        if (!v) fail(key, "required, not set");
        return v;
    }
    std::optional<std::uint64_t> number(std::string_view key, const range& r);
    template <class T>
    void number_into(std::string_view key, const range& r, T& out) {
        if (auto v = number(key, r)) out = static_cast<T>(*v);
    }
    void seconds_into(std::string_view key, const range& r, std::chrono::seconds& out) {
        if (auto v = number(key, r)) out = std::chrono::seconds(static_cast<std::int64_t>(*v));
    }
    fs::path resolve(std::string_view value) const {
        fs::path p(value);
        return (p.is_absolute() ? p : dir_ / p).lexically_normal();
    }
    void path_into(std::string_view key, fs::path& out) {
        if (const std::string* v = get(key)) out = resolve(*v);
    }
    void required_path_into(std::string_view key, fs::path& out) {
        if (const std::string* v = required(key)) out = resolve(*v);
    }
    void command_into(std::string_view key, std::optional<std::string>& out) {
        if (const std::string* v = get(key)) out = *v;
    }
    void convert_prefs(weft_config& c);
    void check_peer_key(const std::string& key, const std::string& value);
    bool value_ok(std::string_view key, const std::string& value);

    fs::path dir_;
    std::map<std::string, std::vector<std::string>, std::less<>> values_;
    // peer name -> (list key "ciphers" / "compression" -> value)
    std::map<std::string, std::map<std::string, std::string>> peer_values_;
    std::vector<std::string> errors_;
};

void loader::check_peer_key(const std::string& key, const std::string& value) {
    // peer.NAME.LIST; NAME may itself hold dots, so take LIST from the end.
    const std::string_view k(key);
    const auto last_dot = k.rfind('.');
    const std::string_view list = last_dot == std::string_view::npos ? "" : k.substr(last_dot + 1);
    if (k.substr(0, peer_prefix.size()) != peer_prefix || last_dot < peer_prefix.size() ||
        (list != "ciphers" && list != "compression")) {
        std::string what = "unknown key " + in_quotes(key);
        if (k.substr(0, peer_prefix.size()) == peer_prefix)
            what +=
                " (a [peer.NAME] section takes only ciphers and compression; global keys go "
                "before the first section)";
        errors_.push_back(std::move(what));
        return;
    }
    const std::string name(k.substr(peer_prefix.size(), last_dot - peer_prefix.size()));
    if (!is_valid_bnl_name(name)) {
        errors_.push_back("unknown key " + in_quotes(key) + ": " + in_quotes(name) +
                          " is not a node name ([a-z0-9][a-z0-9.-]{0,62})");
        return;
    }
    if (!value_ok(key, value)) return;
    auto [it, fresh] = peer_values_[name].emplace(std::string(list), value);
    if (!fresh) fail(key, "given twice (only bnl-key may repeat)");
}

void loader::collect(const std::vector<po::option>& options) {
    for (const po::option& o : options) {
        // The config-file parser yields exactly one value per line.
        const std::string value = o.value.empty() ? std::string() : o.value.front();
        if (o.unregistered) {
            check_peer_key(o.string_key, value);
            continue;
        }
        if (!value_ok(o.string_key, value)) continue;
        auto& slot = values_[o.string_key];
        if (!slot.empty() && o.string_key != repeatable_key) {
            fail(o.string_key, "given twice (only bnl-key may repeat)");
            continue;
        }
        slot.push_back(value);
    }
}

bool loader::value_ok(std::string_view key, const std::string& value) {
    if (value.empty()) {
        fail(key, "expected a value, got an empty one (leave the key out instead)");
        return false;
    }
    if (value.find('\0') != std::string::npos) {
        fail(key, "expected text, got a NUL byte");
        return false;
    }
    return true;
}

std::optional<std::uint64_t> loader::number(std::string_view key, const range& r) {
    const std::string* v = get(key);
    if (!v) return std::nullopt;
    const std::string expected = "expected " + std::to_string(r.min) + ".." +
                                 std::to_string(r.max) + std::string(r.unit) + ", got ";
    std::uint64_t n = 0;
    const char* end = v->data() + v->size();
    // Plain decimal digits only: from_chars refuses signs, spaces and "0x".
    const auto [p, ec] = std::from_chars(v->data(), end, n);
    if (ec != std::errc{} || p != end) {
        fail(key, expected + in_quotes(*v));
        return std::nullopt;
    }
    if (n < r.min || n > r.max) {
        fail(key, expected + *v);
        return std::nullopt;
    }
    return n;
}

void loader::convert_prefs(weft_config& c) {
    // A list error message starts with the list's name ("ciphers: ..."); for
    // a peer's list the key is the longer peer.NAME.ciphers.
    auto report = [&](const std::string& key, std::string_view list, const prefs_error& e) {
        std::string_view msg = e.message;
        if (msg.substr(0, list.size() + 2) == std::string(list) + ": ")
            msg.remove_prefix(list.size() + 2);
        fail(key, std::string(msg));
    };
    if (const std::string* v = get("ciphers")) {
        if (auto p = parse_cipher_prefs(*v))
            c.prefs.ciphers = std::move(*p);
        else
            report("ciphers", "ciphers", p.error());
    }
    if (const std::string* v = get("compression")) {
        if (auto p = parse_compression_prefs(*v))
            c.prefs.compressions = std::move(*p);
        else
            report("compression", "compression", p.error());
    }
    for (const auto& [peer, lists] : peer_values_) {
        algorithm_prefs merged = c.prefs;
        for (const auto& [list, value] : lists) {
            std::string key(peer_prefix);
            key.append(peer).append(".").append(list);
            if (list == "ciphers") {
                if (auto p = parse_cipher_prefs(value))
                    merged.ciphers = std::move(*p);
                else
                    report(key, list, p.error());
            } else {
                if (auto p = parse_compression_prefs(value))
                    merged.compressions = std::move(*p);
                else
                    report(key, list, p.error());
            }
        }
        c.peer_prefs.emplace(peer, std::move(merged));
    }
}

weft_config loader::convert() {
    weft_config c;
    c.dir = dir_;
    c.file = dir_ / config_file_name;

    if (const std::string* v = required("name")) {
        if (is_valid_bnl_name(*v))
            c.name = *v;
        else
            fail("name", "expected a node name ([a-z0-9][a-z0-9.-]{0,62}), got " + in_quotes(*v));
    }
    if (const std::string* v = get("interface")) {
        if (is_valid_interface_name(*v))
            c.interface = *v;
        else
            fail("interface",
                 "expected an interface name (1..15 of A-Z a-z 0-9 _ . -), got " + in_quotes(*v));
    }
    if (auto v = number("port", port_range)) c.port = static_cast<std::uint16_t>(*v);
    if (const std::string* v = get("listen")) {
        if (auto a = parse_ip(*v))
            c.listen = *a;
        else
            fail("listen", "expected an IPv4 or IPv6 address, got " + in_quotes(*v));
    }
    required_path_into("cert", c.cert);
    required_path_into("key", c.key);
    required_path_into("ca", c.ca);
    if (const std::string* v = get("require-ou")) {
        const bool printable = std::all_of(v->begin(), v->end(), [](char ch) {
            return static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f;
        });
        if (v->size() <= max_ou_length && printable)
            c.require_ou = *v;
        else
            fail("require-ou",
                 "expected 1..64 printable characters (an X.509 OU), got " + in_quotes(*v));
    }
    c.bnl = resolve("bnl.signed");
    path_into("bnl", c.bnl);
    if (auto it = values_.find("bnl-key"); it != values_.end()) {
        for (const std::string& v : it->second) {
            fs::path p = resolve(v);
            if (std::find(c.bnl_keys.begin(), c.bnl_keys.end(), p) != c.bnl_keys.end())
                fail("bnl-key", in_quotes(p.string()) + " listed twice");
            else
                c.bnl_keys.push_back(std::move(p));
        }
    } else {
        fail("bnl-key", "required, not set (a trusted public key of the node list; may repeat)");
    }
    c.state_dir = resolve("state");
    path_into("state-dir", c.state_dir);
    convert_prefs(c);
    seconds_into("pull-interval", pull_interval_range, c.pull_interval);
    number_into("mtu", mtu_range, c.mtu);
    command_into("up", c.hooks.up);
    command_into("down", c.hooks.down);
    command_into("subnet-up", c.hooks.subnet_up);
    command_into("subnet-down", c.hooks.subnet_down);
    command_into("my-subnet-up", c.hooks.my_subnet_up);
    command_into("my-subnet-down", c.hooks.my_subnet_down);
    // The default names the interface, which is known only now.
    c.control_socket = default_control_socket(c.interface);
    path_into("control-socket", c.control_socket);
    if (get("control-socket") && c.control_socket.native().size() >= sizeof(sockaddr_un{}.sun_path))
        fail("control-socket",
             "expected a path shorter than " + std::to_string(sizeof(sockaddr_un{}.sun_path)) +
                 " bytes (a socket address), got " + in_quotes(c.control_socket.native()));
    if (const std::string* v = get("log")) {
        // A file literally named "syslog" or "stderr" can be given as ./syslog.
        c.log_target = (*v == "syslog" || *v == "stderr") ? *v : resolve(*v).string();
    }
    if (const std::string* v = get("log-level")) {
        if (auto l = io::parse_log_level(*v))
            c.log_level = *l;
        else
            fail("log-level",
                 "expected debug, info, notice, warning or error, got " + in_quotes(*v));
    }
    seconds_into("keepalive", keepalive_range, c.keepalive);
    number_into("rekey-messages", rekey_messages_range, c.rekey_messages);
    const std::size_t errors_before = errors_.size();
    seconds_into("rekey-after", rekey_after_range, c.rekey_after);
    seconds_into("rekey-grace", rekey_grace_range, c.rekey_grace);
    // The previous epoch's grace must end before the current key expires,
    // or three epochs would be live at once.  (Checked only when both are
    // in range, so one mistake gives one message.)
    if (errors_.size() == errors_before && c.rekey_grace >= c.rekey_after)
        fail("rekey-grace", "expected less than rekey-after (" +
                                std::to_string(c.rekey_after.count()) + " seconds), got " +
                                std::to_string(c.rekey_grace.count()));
    number_into("max-connections", max_connections_range, c.max_connections);
    seconds_into("handshake-timeout", handshake_timeout_range, c.handshake_timeout);
    number_into("queue-packets", queue_packets_range, c.queue_packets);
    seconds_into("hook-timeout", hook_timeout_range, c.hook_timeout);
    seconds_into("list-ask-interval", list_ask_interval_range, c.list_ask_interval);
    if (const std::string* v = get("offload")) {
        if (*v == "auto" || *v == "off")
            c.offload = *v == "auto";
        else
            fail("offload", "expected auto or off, got " + in_quotes(*v));
    }
    return c;
}

// Calls f(number, line) for each line of `text` that is not blank once its
// # comment and surrounding blanks are gone (line numbers count from 1);
// stops when f returns false.
template <class F>
void for_each_content_line(std::string_view text, F&& f) {
    std::size_t number = 0;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos) continue;
        const auto last = line.find_last_not_of(" \t\r");
        if (!f(number, std::string_view(line).substr(first, last - first + 1))) return;
    }
}

// program_options reports a bad line by its text; find its number for the
// message (the first line that reads the same once comment and blanks go).
std::size_t line_of(std::string_view text, std::string_view bad) {
    std::size_t found = 0;
    for_each_content_line(text, [&](std::size_t number, std::string_view line) {
        if (line == bad) found = number;
        return found == 0;
    });
    return found;
}

// The parser joins a section's name to each key in it, so "peer.b.ciphers"
// written under [peer.a] would read as an override for a node "a.peer.b".
// Keys inside a section are plain (ciphers, compression): one with a dot is
// a slip, and is refused with its line.
std::vector<std::string> dotted_keys_in_sections(std::string_view text) {
    std::vector<std::string> errors;
    std::string section;
    for_each_content_line(text, [&](std::size_t number, std::string_view l) {
        if (l.front() == '[') {
            section = std::string(l);
            return true;
        }
        const auto eq = l.find('=');
        if (section.empty() || eq == std::string_view::npos) return true;
        std::string_view key = l.substr(0, eq);
        key = key.substr(0, key.find_last_not_of(" \t") + 1);
        if (key.find('.') != std::string_view::npos)
            errors.push_back("line " + std::to_string(number) + ": key " + in_quotes(key) + " inside " + section +
                             ": a [peer.NAME] section takes only ciphers and compression (give another peer "
                             "its own section)");
        return true;
    });
    return errors;
}

std::string join_lines(const std::vector<std::string>& lines, const std::string& prefix) {
    std::string out;
    for (const std::string& l : lines) {
        if (!out.empty()) out += '\n';
        out += prefix + l;
    }
    return out;
}

void put(std::string& out, std::string_view key, std::string_view value) {
    out.append(key).append(" = ").append(value).append("\n");
}
void put_unset(std::string& out, std::string_view key, std::string_view meaning) {
    out.append("# ").append(key).append(" = (").append(meaning).append(")\n");
}
void put_optional(std::string& out, std::string_view key, const std::optional<std::string>& v) {
    if (v)
        put(out, key, *v);
    else
        put_unset(out, key, "none");
}

}  // namespace

bool is_valid_interface_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > max_interface_length || name == "." || name == "..")
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
    });
}

std::filesystem::path default_control_socket(const std::string& interface) {
    return std::filesystem::path("/run/weft") / (interface + ".sock");
}

result<weft_config, std::string> load_config(const std::filesystem::path& dir) {
    fs::path abs_dir;
    std::error_code ec;
    abs_dir = fs::absolute(dir, ec).lexically_normal();
    if (ec) return unexpected{"cannot resolve " + dir.string() + ": " + ec.message()};
    // "a/b/" normalises to "a/b/"; the directory is wanted without the slash.
    if (!abs_dir.has_filename() && abs_dir.has_parent_path() && abs_dir != abs_dir.root_path())
        abs_dir = abs_dir.parent_path();
    const fs::path file = abs_dir / config_file_name;

    std::string text;
    if (auto err = io::read_file_bounded(file, max_config_bytes, text))
        return unexpected{"cannot read " + file.string() + ": " + err.message()};
    // Editors on some systems start UTF-8 files with a byte-order mark; the
    // parser would make it part of the first key.
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.erase(0, 3);

    po::options_description description;
    for (std::string_view key : known_keys)
        description.add_options()(std::string(key).c_str(), po::value<std::string>());

    loader l(abs_dir);
    // Exceptions end here: the parser throws on a line that is neither a
    // section, a key = value nor a comment.
    try {
        std::istringstream in(text);
        const po::parsed_options parsed =
            po::parse_config_file(in, description, /*allow_unregistered=*/true);
        l.collect(parsed.options);
    } catch (const po::invalid_config_file_syntax& e) {
        const std::size_t line = line_of(text, e.tokens());
        return unexpected{file.string() + (line ? ":" + std::to_string(line) : std::string()) +
                          ": invalid line " + in_quotes(e.tokens()) +
                          " (expected key = value, [peer.NAME] or a # comment)"};
    } catch (const std::exception& e) {
        return unexpected{file.string() + ": " + e.what()};
    }
    weft_config config = l.convert();
    std::vector<std::string> errors = dotted_keys_in_sections(text);
    errors.insert(errors.end(), l.errors().begin(), l.errors().end());
    if (!errors.empty()) return unexpected{join_lines(errors, file.string() + ": ")};
    return config;
}

std::string describe(const weft_config& c) {
    std::string out;
    put(out, "name", c.name);
    put(out, "interface", c.interface);
    if (c.port)
        put(out, "port", std::to_string(*c.port));
    else
        put_unset(out, "port", "the node list's entry");
    if (c.listen)
        put(out, "listen", to_string(*c.listen));
    else
        put_unset(out, "listen", "any address, dual-stack");
    put(out, "cert", c.cert.native());
    put(out, "key", c.key.native());
    put(out, "ca", c.ca.native());
    put_optional(out, "require-ou", c.require_ou);
    put(out, "bnl", c.bnl.native());
    for (const auto& k : c.bnl_keys) put(out, "bnl-key", k.native());
    put(out, "state-dir", c.state_dir.native());
    put(out, "ciphers", format_cipher_prefs(c.prefs.ciphers));
    put(out, "compression", format_compression_prefs(c.prefs.compressions));
    put(out, "pull-interval", std::to_string(c.pull_interval.count()));
    put(out, "mtu", std::to_string(c.mtu));
    put_optional(out, "up", c.hooks.up);
    put_optional(out, "down", c.hooks.down);
    put_optional(out, "subnet-up", c.hooks.subnet_up);
    put_optional(out, "subnet-down", c.hooks.subnet_down);
    put_optional(out, "my-subnet-up", c.hooks.my_subnet_up);
    put_optional(out, "my-subnet-down", c.hooks.my_subnet_down);
    put(out, "control-socket", c.control_socket.native());
    put(out, "log", c.log_target);
    put(out, "log-level", io::to_string(c.log_level));
    put(out, "keepalive", std::to_string(c.keepalive.count()));
    put(out, "rekey-after", std::to_string(c.rekey_after.count()));
    put(out, "rekey-messages", std::to_string(c.rekey_messages));
    put(out, "rekey-grace", std::to_string(c.rekey_grace.count()));
    put(out, "max-connections", std::to_string(c.max_connections));
    put(out, "handshake-timeout", std::to_string(c.handshake_timeout.count()));
    put(out, "queue-packets", std::to_string(c.queue_packets));
    put(out, "offload", c.offload ? "auto" : "off");
    put(out, "hook-timeout", std::to_string(c.hook_timeout.count()));
    put(out, "list-ask-interval", std::to_string(c.list_ask_interval.count()));
    for (const auto& [peer, prefs] : c.peer_prefs) {
        const std::string base = std::string(peer_prefix) + peer + ".";
        put(out, base + "ciphers", format_cipher_prefs(prefs.ciphers));
        put(out, base + "compression", format_compression_prefs(prefs.compressions));
    }
    return out;
}

weft_config with_log_level(weft_config config, io::log_level level) {
    config.log_level = level;
    return config;
}

}  // namespace weft
