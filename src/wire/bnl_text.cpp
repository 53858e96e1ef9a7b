#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <unordered_map>

#include "base/hex.hpp"
#include "base/utf8.hpp"
#include "wire/bnl.hpp"

namespace weft {

namespace {

using namespace std::string_view_literals;

unexpected<bnl_error> err(bnl_errc code, std::size_t line, std::string message) {
    return unexpected{bnl_error{code, line, std::move(message)}};
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Decimal without sign or leading zeros ("0" itself is fine).
template <class U>
std::optional<U> parse_decimal(std::string_view text, U max) noexcept {
    if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size() || v > max) return std::nullopt;
    return static_cast<U>(v);
}

// Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF) and no control
// characters but tab.  Returns a description of the first problem.
const char* encoding_problem(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        const utf8_char c = decode_utf8(s, i);
        if (c.length == 0) return "invalid UTF-8";
        if (c.code_point == '\r') return "carriage return (the file must use LF line endings)";
        if (c.code_point == 0) return "NUL byte";
        if (c.code_point != '\t' && is_control_character(c.code_point))
            return "control character";  // C0, DEL, C1 (e.g. a terminal CSI)
        i += c.length;
    }
    return nullptr;
}

bool is_key_char(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

struct node_lines {
    std::size_t header = 0;
    std::vector<std::size_t> subnets;  // parallel to bnl_node::subnets
};

// Cross-node rules, shared by parse_bnl (with line numbers) and validate_bnl
// (lines == nullptr: messages name nodes).
status<bnl_error> check_cross_node(const bnl_list& list, const std::vector<node_lines>* lines) {
    auto node_line = [&](std::size_t i) { return lines ? (*lines)[i].header : 0; };
    auto where = [&](std::size_t i) {
        std::string s = "node " + list.nodes[i].name;
        if (lines) s += " on line " + std::to_string((*lines)[i].header);
        return s;
    };
    if (list.nodes.size() > bnl_max_nodes)
        return err(bnl_errc::too_many_nodes, 0,
                   "more than " + std::to_string(bnl_max_nodes) + " nodes");
    std::unordered_map<std::string_view, std::size_t> names;
    std::unordered_map<std::uint32_t, std::size_t> ids;
    names.reserve(list.nodes.size());
    ids.reserve(list.nodes.size());
    for (std::size_t i = 0; i < list.nodes.size(); ++i) {
        const auto& n = list.nodes[i];
        if (!is_valid_bnl_name(n.name))
            return err(bnl_errc::bad_node_name, node_line(i), "invalid node name '" + n.name + "'");
        if (n.id == 0) return err(bnl_errc::bad_id, node_line(i), where(i) + ": id 0 is reserved");
        if (!n.ipv4 && !n.ipv6)
            return err(bnl_errc::no_endpoint, node_line(i), where(i) + " has no ipv4 or ipv6 endpoint");
        if ((n.ipv4 && n.ipv4->family != ip_family::v4) || (n.ipv6 && n.ipv6->family != ip_family::v6))
            return err(bnl_errc::bad_address, node_line(i), where(i) + ": endpoint of the wrong family");
        if (n.port == 0) return err(bnl_errc::bad_port, node_line(i), where(i) + ": port 0");
        if ((n.prefer == ip_family::v4 && !n.ipv4) || (n.prefer == ip_family::v6 && !n.ipv6))
            return err(bnl_errc::bad_prefer, node_line(i),
                       where(i) + " prefers " + (n.prefer == ip_family::v4 ? "ipv4" : "ipv6") +
                           " but has no such endpoint");
        if (n.subnets.size() > bnl_max_subnets_per_node)
            return err(bnl_errc::too_many_subnets, node_line(i),
                       where(i) + " has more than " + std::to_string(bnl_max_subnets_per_node) +
                           " subnets");
        auto [nit, new_name] = names.emplace(n.name, i);
        if (!new_name)
            return err(bnl_errc::duplicate_name, node_line(i),
                       "duplicate node name '" + n.name + "'" +
                           (lines ? " (first defined on line " + std::to_string(node_line(nit->second)) + ")"
                                  : std::string()));
        auto [iit, new_id] = ids.emplace(n.id, i);
        if (!new_id)
            return err(bnl_errc::duplicate_id, node_line(i),
                       (lines ? std::string() : "node " + n.name + ": ") + "duplicate node id " +
                           std::to_string(n.id) + " (already used by " + where(iit->second) + ")");
    }

    // CIDR blocks either nest or are disjoint: sorted by first address, a
    // block overlaps an earlier one exactly when it starts before the
    // furthest end seen so far (within one family).
    struct entry {
        ip_prefix prefix;
        ip_address last;
        std::size_t node, index;
    };
    std::vector<entry> all;
    for (std::size_t i = 0; i < list.nodes.size(); ++i)
        for (std::size_t k = 0; k < list.nodes[i].subnets.size(); ++k)
            all.push_back({list.nodes[i].subnets[k], list.nodes[i].subnets[k].last(), i, k});
    std::sort(all.begin(), all.end(), [](const entry& a, const entry& b) {
        if (a.prefix.address != b.prefix.address) return a.prefix.address < b.prefix.address;
        return a.prefix.length < b.prefix.length;
    });
    const entry* widest = nullptr;  // the entry with the furthest end in the current family
    for (const auto& e : all) {
        if (widest && widest->prefix.address.family == e.prefix.address.family &&
            e.prefix.address <= widest->last) {
            const entry& first = std::min(*widest, e, [](const entry& a, const entry& b) {
                return std::pair(a.node, a.index) < std::pair(b.node, b.index);
            });
            const entry& second = &first == widest ? e : *widest;
            std::size_t line = lines ? (*lines)[second.node].subnets[second.index] : 0;
            std::string msg = "subnet " + to_string(second.prefix) + " of " + where(second.node) +
                              " overlaps " + to_string(first.prefix) + " of " + where(first.node);
            return err(bnl_errc::overlapping_subnets, line, std::move(msg));
        }
        if (!widest || widest->prefix.address.family != e.prefix.address.family ||
            widest->last < e.last)
            widest = &e;
    }
    return ok;
}

class parser {
public:
    explicit parser(std::string_view text) : text_(text) {}

    result<bnl_list, bnl_error> run() {
        if (text_.size() > bnl_max_file_bytes)
            return err(bnl_errc::too_large, 0,
                       "list is " + std::to_string(text_.size()) + " bytes; the maximum is " +
                           std::to_string(bnl_max_file_bytes));
        std::size_t pos = 0;
        while (pos < text_.size()) {
            std::size_t nl = text_.find('\n', pos);
            std::size_t end = nl == std::string_view::npos ? text_.size() : nl;
            ++line_no_;
            if (auto st = line(text_.substr(pos, end - pos)); !st) return unexpected{st.error()};
            pos = end + 1;
        }
        if (auto st = finish_section(); !st) return unexpected{st.error()};
        flush_comments();
        if (!seen_network_)
            return err(bnl_errc::missing_key, 0, "missing 'network' (the list's network name)");
        if (auto st = check_cross_node(list_, &lines_); !st) return unexpected{st.error()};
        return std::move(list_);
    }

private:
    status<bnl_error> line(std::string_view raw) {
        if (raw.size() > bnl_max_line_bytes)
            return err(bnl_errc::line_too_long, line_no_,
                       "line longer than " + std::to_string(bnl_max_line_bytes) + " bytes");
        if (const char* p = encoding_problem(raw)) return err(bnl_errc::bad_encoding, line_no_, p);
        std::string_view s = trim(raw);
        if (s.empty()) return ok;
        if (s.front() == '#') {
            pending_comments_.emplace_back(s);
            return ok;
        }
        if (s.front() == '[') return section(s);
        auto eq = s.find('=');
        if (eq == std::string_view::npos)
            return err(bnl_errc::syntax, line_no_,
                       "expected 'key = value', '[node NAME]' or a '#' comment");
        std::string_view key = trim(s.substr(0, eq)), value = trim(s.substr(eq + 1));
        if (key.empty() || !std::all_of(key.begin(), key.end(), is_key_char))
            return err(bnl_errc::syntax, line_no_, "malformed key '" + std::string(key) + "'");
        flush_comments();
        return in_node_ ? node_key(key, value) : header_key(key, value);
    }

    status<bnl_error> section(std::string_view s) {
        constexpr auto prefix = "[node "sv;
        if (s.size() < prefix.size() + 2 || s.substr(0, prefix.size()) != prefix || s.back() != ']')
            return err(bnl_errc::syntax, line_no_, "expected a section header '[node NAME]'");
        std::string_view name = s.substr(prefix.size(), s.size() - prefix.size() - 1);
        if (!is_valid_bnl_name(name))
            return err(bnl_errc::bad_node_name, line_no_,
                       "invalid node name '" + std::string(name) +
                           "' (1-63 of a-z 0-9 . -, starting with a letter or digit)");
        if (auto st = finish_section(); !st) return st;
        if (list_.nodes.size() >= bnl_max_nodes)
            return err(bnl_errc::too_many_nodes, line_no_,
                       "more than " + std::to_string(bnl_max_nodes) + " nodes");
        list_.nodes.emplace_back();
        lines_.emplace_back();
        bnl_node& n = list_.nodes.back();
        n.name = name;
        n.comments = std::move(pending_comments_);
        pending_comments_.clear();
        lines_.back().header = line_no_;
        in_node_ = true;
        seen_keys_.clear();
        prefer_given_ = false;
        return ok;
    }

    void flush_comments() {
        auto& dest = in_node_ ? list_.nodes.back().comments : list_.comments;
        for (auto& c : pending_comments_) dest.push_back(std::move(c));
        pending_comments_.clear();
    }

    bool first_use(std::string_view key) {
        if (std::find(seen_keys_.begin(), seen_keys_.end(), key) != seen_keys_.end()) return false;
        seen_keys_.push_back(key);
        return true;
    }

    status<bnl_error> header_key(std::string_view key, std::string_view value) {
        if (key != "network" && key != "version" && key != "signed") {
            if (key == "id" || key == "ipv4" || key == "ipv6" || key == "port" || key == "subnet" ||
                key == "prefer" || key == "pin")
                return err(bnl_errc::unknown_key, line_no_,
                           "'" + std::string(key) + "' outside a [node NAME] section");
            return err(bnl_errc::unknown_key, line_no_, "unknown key '" + std::string(key) + "'");
        }
        if (!first_use(key))
            return err(bnl_errc::duplicate_key, line_no_, "'" + std::string(key) + "' given twice");
        if (key == "network") {
            if (!is_valid_bnl_name(value))
                return err(bnl_errc::bad_network_name, line_no_,
                           "invalid network name '" + std::string(value) + "'");
            list_.network = value;
            seen_network_ = true;
        } else if (key == "version") {
            auto v = parse_decimal<std::uint64_t>(value, bnl_max_version);
            if (!v)
                return err(bnl_errc::bad_version, line_no_,
                           "version must be a decimal integer, got '" + std::string(value) + "'");
            list_.version = *v;
        } else {
            auto t = parse_utc_time(value);
            if (!t)
                return err(bnl_errc::bad_signed_time, line_no_,
                           "signed time must be YYYY-MM-DDTHH:MM:SSZ, got '" + std::string(value) + "'");
            list_.signed_at = *t;
        }
        return ok;
    }

    status<bnl_error> node_key(std::string_view key, std::string_view value) {
        bnl_node& n = list_.nodes.back();
        const std::string v(value);
        if (key == "subnet") {
            if (n.subnets.size() >= bnl_max_subnets_per_node)
                return err(bnl_errc::too_many_subnets, line_no_,
                           "node " + n.name + " has more than " +
                               std::to_string(bnl_max_subnets_per_node) + " subnets");
            auto p = parse_prefix(value);
            if (!p.prefix)
                return err(bnl_errc::bad_subnet, line_no_,
                           "bad subnet '" + v + "': " + to_string(p.error));
            n.subnets.push_back(*p.prefix);
            lines_.back().subnets.push_back(line_no_);
            return ok;
        }
        static constexpr std::string_view known[] = {"id", "ipv4", "ipv6", "port", "prefer", "pin"};
        if (std::find(std::begin(known), std::end(known), key) == std::end(known)) {
            if (key == "network" || key == "version" || key == "signed")
                return err(bnl_errc::unknown_key, line_no_,
                           "'" + std::string(key) + "' belongs before the first [node] section");
            return err(bnl_errc::unknown_key, line_no_, "unknown key '" + std::string(key) + "'");
        }
        if (!first_use(key))
            return err(bnl_errc::duplicate_key, line_no_,
                       "'" + std::string(key) + "' given twice for node " + n.name);
        if (key == "id") {
            auto id = parse_node_id(value);
            if (!id)
                return err(bnl_errc::bad_id, line_no_,
                           "node id must be 1 to 4294967295, got '" + v + "'");
            n.id = *id;
        } else if (key == "ipv4" || key == "ipv6") {
            bool v4 = key == "ipv4";
            auto a = v4 ? parse_ipv4(value) : parse_ipv6(value);
            if (!a)
                return err(bnl_errc::bad_address, line_no_,
                           "not an " + std::string(v4 ? "IPv4" : "IPv6") + " address: '" + v + "'");
            if (const char* why = endpoint_problem(*a))
                return err(bnl_errc::bad_address, line_no_, "'" + v + "' " + why);
            (v4 ? n.ipv4 : n.ipv6) = *a;
        } else if (key == "port") {
            auto p = parse_port(value);
            if (!p) return err(bnl_errc::bad_port, line_no_, "port must be 1 to 65535, got '" + v + "'");
            n.port = *p;
        } else if (key == "prefer") {
            if (value != "ipv4" && value != "ipv6")
                return err(bnl_errc::bad_prefer, line_no_, "prefer must be ipv4 or ipv6, got '" + v + "'");
            n.prefer = value == "ipv4" ? ip_family::v4 : ip_family::v6;
            prefer_given_ = true;
        } else {  // pin
            auto pin = parse_pin(value);
            if (!pin)
                return err(bnl_errc::bad_pin, line_no_,
                           "pin must be sha256: and 64 hex digits (weft-ca fingerprint), got '" + v + "'");
            n.pin = *pin;
        }
        return ok;
    }

    // Per-node rules that need the whole section.
    status<bnl_error> finish_section() {
        if (!in_node_) return ok;
        bnl_node& n = list_.nodes.back();
        std::size_t at = lines_.back().header;
        if (n.id == 0) return err(bnl_errc::missing_key, at, "node " + n.name + " has no id");
        if (!n.ipv4 && !n.ipv6)
            return err(bnl_errc::no_endpoint, at, "node " + n.name + " has no ipv4 or ipv6 endpoint");
        if (!prefer_given_) n.prefer = n.ipv4 ? ip_family::v4 : ip_family::v6;
        return ok;
    }

    std::string_view text_;
    std::size_t line_no_ = 0;
    bnl_list list_;
    std::vector<node_lines> lines_;
    std::vector<std::string> pending_comments_;
    std::vector<std::string_view> seen_keys_;
    bool in_node_ = false;
    bool seen_network_ = false;
    bool prefer_given_ = false;
};

}  // namespace

const char* to_string(bnl_errc e) noexcept {
    switch (e) {
        case bnl_errc::too_large: return "too large";
        case bnl_errc::too_many_nodes: return "too many nodes";
        case bnl_errc::too_many_subnets: return "too many subnets";
        case bnl_errc::line_too_long: return "line too long";
        case bnl_errc::bad_encoding: return "bad encoding";
        case bnl_errc::syntax: return "syntax error";
        case bnl_errc::unknown_key: return "unknown key";
        case bnl_errc::duplicate_key: return "duplicate key";
        case bnl_errc::missing_key: return "missing key";
        case bnl_errc::bad_network_name: return "bad network name";
        case bnl_errc::bad_version: return "bad version";
        case bnl_errc::bad_signed_time: return "bad signed time";
        case bnl_errc::bad_node_name: return "bad node name";
        case bnl_errc::duplicate_name: return "duplicate node name";
        case bnl_errc::bad_id: return "bad node id";
        case bnl_errc::duplicate_id: return "duplicate node id";
        case bnl_errc::bad_address: return "bad address";
        case bnl_errc::bad_port: return "bad port";
        case bnl_errc::bad_prefer: return "bad prefer";
        case bnl_errc::bad_subnet: return "bad subnet";
        case bnl_errc::overlapping_subnets: return "overlapping subnets";
        case bnl_errc::bad_pin: return "bad pin";
        case bnl_errc::no_endpoint: return "no endpoint";
        case bnl_errc::unsigned_list: return "not signed";
        case bnl_errc::bad_signature_block: return "malformed signature block";
        case bnl_errc::untrusted_key: return "untrusted key";
        case bnl_errc::algorithm_mismatch: return "algorithm mismatch";
        case bnl_errc::bad_signature: return "bad signature";
        case bnl_errc::not_signed_version: return "no signed version";
    }
    return "?";
}

std::string to_string(const bnl_error& e) {
    if (e.line == 0) return e.message;
    return "line " + std::to_string(e.line) + ": " + e.message;
}

result<bnl_list, bnl_error> parse_bnl(std::string_view text) { return parser(text).run(); }

status<bnl_error> validate_bnl(const bnl_list& list) {
    if (!is_valid_bnl_name(list.network))
        return err(bnl_errc::bad_network_name, 0, "invalid network name '" + list.network + "'");
    if (list.version > bnl_max_version) return err(bnl_errc::bad_version, 0, "version out of range");
    // Only what serialises back to the same list is valid: the in-memory
    // rules are exactly the text rules.
    constexpr std::int64_t year_10000 = 253402300800;  // 10000-01-01T00:00:00Z
    if (list.signed_at && (*list.signed_at < 0 || *list.signed_at >= year_10000))
        return err(bnl_errc::bad_signed_time, 0, "signing time out of range");
    for (const auto& n : list.nodes)
        for (const auto& p : n.subnets) {
            if (p.length > p.address.bit_width())
                return err(bnl_errc::bad_subnet, 0, "node " + n.name + ": prefix length " + std::to_string(p.length) + " out of range");
            auto again = parse_prefix(to_string(p));
            if (!again.prefix || *again.prefix != p)
                return err(bnl_errc::bad_subnet, 0, "node " + n.name + ": subnet " + to_string(p) + ": host bits set");
        }
    auto check_comment = [](const std::string& c) -> status<bnl_error> {
        if (c.empty() || c.front() != '#' || c.size() > bnl_max_line_bytes || encoding_problem(c) ||
            trim(c) != c)
            return err(bnl_errc::bad_encoding, 0, "invalid comment line");
        return ok;
    };
    for (const auto& c : list.comments)
        if (auto st = check_comment(c); !st) return st;
    for (const auto& n : list.nodes) {
        for (const auto& c : n.comments)
            if (auto st = check_comment(c); !st) return st;
        for (const auto& a : {n.ipv4, n.ipv6})
            if (a)
                if (const char* why = endpoint_problem(*a))
                    return err(bnl_errc::bad_address, 0, "node " + n.name + ": " + to_string(*a) + " " + why);
    }
    return check_cross_node(list, nullptr);
}

std::string serialise_bnl(const bnl_list& list) {
    std::string out;
    out.reserve(64 + list.nodes.size() * 160);
    for (const auto& c : list.comments) out += c + '\n';
    out += "network = " + list.network + '\n';
    out += "version = " + std::to_string(list.version) + '\n';
    if (list.signed_at) out += "signed = " + format_utc_time(*list.signed_at) + '\n';
    for (const auto& n : list.nodes) {
        out += '\n';
        for (const auto& c : n.comments) out += c + '\n';
        out += "[node " + n.name + "]\n";
        out += "id = " + std::to_string(n.id) + '\n';
        if (n.ipv4) out += "ipv4 = " + to_string(*n.ipv4) + '\n';
        if (n.ipv6) out += "ipv6 = " + to_string(*n.ipv6) + '\n';
        out += "port = " + std::to_string(n.port) + '\n';
        if (n.ipv4 && n.ipv6) out += n.prefer == ip_family::v4 ? "prefer = ipv4\n" : "prefer = ipv6\n";
        for (const auto& s : n.subnets) out += "subnet = " + to_string(s) + '\n';
        if (n.pin) out += "pin = " + format_pin(*n.pin) + '\n';
    }
    return out;
}

bool is_valid_bnl_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 63) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(name.front())) return false;
    return std::all_of(name.begin(), name.end(),
                       [&](char c) { return alnum(c) || c == '.' || c == '-'; });
}

std::optional<std::uint32_t> parse_node_id(std::string_view text) noexcept {
    auto v = parse_decimal<std::uint32_t>(text, 0xffffffffu);
    if (!v || *v == 0) return std::nullopt;
    return v;
}

std::optional<std::uint16_t> parse_port(std::string_view text) noexcept {
    auto v = parse_decimal<std::uint16_t>(text, 65535);
    if (!v || *v == 0) return std::nullopt;
    return v;
}

std::optional<cert_pin> parse_pin(std::string_view text) {
    constexpr auto prefix = "sha256:"sv;
    if (text.substr(0, prefix.size()) != prefix) return std::nullopt;
    text.remove_prefix(prefix.size());
    std::string hex;
    if (text.size() == 64) {
        hex = text;
    } else if (text.size() == 95) {  // openssl's AB:CD:... form
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (i % 3 == 2) {
                if (text[i] != ':') return std::nullopt;
            } else {
                hex.push_back(text[i]);
            }
        }
    } else {
        return std::nullopt;
    }
    auto bytes = from_hex(hex);
    if (!bytes || bytes->size() != 32) return std::nullopt;
    cert_pin pin;
    std::copy(bytes->begin(), bytes->end(), pin.begin());
    return pin;
}

std::string format_pin(const cert_pin& pin) { return "sha256:" + to_hex(pin); }

std::optional<std::int64_t> parse_utc_time(std::string_view t) noexcept {
    // YYYY-MM-DDTHH:MM:SSZ, exactly.
    if (t.size() != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
        t[16] != ':' || t[19] != 'Z')
        return std::nullopt;
    auto num = [&](std::size_t at, std::size_t len) -> std::optional<unsigned> {
        unsigned v = 0;
        for (std::size_t i = at; i < at + len; ++i) {
            if (t[i] < '0' || t[i] > '9') return std::nullopt;
            v = v * 10 + static_cast<unsigned>(t[i] - '0');
        }
        return v;
    };
    auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), s = num(17, 2);
    if (!y || !mo || !d || !h || !mi || !s || *y < 1970 || *h > 23 || *mi > 59 || *s > 59)
        return std::nullopt;
    std::chrono::year_month_day ymd{std::chrono::year{static_cast<int>(*y)},
                                    std::chrono::month{*mo}, std::chrono::day{*d}};
    if (!ymd.ok()) return std::nullopt;
    auto days = std::chrono::sys_days{ymd}.time_since_epoch().count();
    return std::int64_t{days} * 86400 + *h * 3600 + *mi * 60 + *s;
}

std::string format_utc_time(std::int64_t unix_seconds) {
    using namespace std::chrono;
    auto days = unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400;
    auto secs = unix_seconds - days * 86400;
    year_month_day ymd{sys_days{std::chrono::days{days}}};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                  static_cast<int>(secs % 60));
    return buf;
}

const char* endpoint_problem(const ip_address& a) noexcept {
    if (a.is_unspecified()) return "is the unspecified address, not an endpoint";
    if (a.is_multicast()) return "is a multicast address, not an endpoint";
    if (a.family == ip_family::v4 && a.bytes[0] == 255 && a.bytes[1] == 255 && a.bytes[2] == 255 &&
        a.bytes[3] == 255)
        return "is the broadcast address, not an endpoint";
    if (a.family == ip_family::v6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80)
        return "is link-local (needs an interface scope), not an endpoint";
    return nullptr;
}

}  // namespace weft
