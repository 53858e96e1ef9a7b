#include "wire/resolv_conf.hpp"

#include <charconv>

namespace weft {

namespace {

constexpr std::string_view keyword = "nameserver";

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t';
}

bool valid_scope(std::string_view s) noexcept {
    if (s.empty() || s.size() > resolv_conf_limits::max_scope) return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

// The nameserver of one line (without its '\n'), nullopt for any other
// line, or the reason a nameserver line is malformed.
result<std::optional<nameserver>, resolv_conf_errc> parse_line(std::string_view line) {
    using none = std::optional<nameserver>;
    if (line.substr(0, keyword.size()) != keyword) return none{};
    std::string_view rest = line.substr(keyword.size());
    if (rest.empty()) return unexpected{resolv_conf_errc::bad_nameserver};
    // "nameserverX" is not the keyword: glibc ignores it too.
    if (!is_blank(rest[0])) return none{};
    std::size_t b = 0;
    while (b < rest.size() && is_blank(rest[b])) ++b;
    std::size_t e = b;
    while (e < rest.size() && !is_blank(rest[e])) ++e;
    std::string_view token = rest.substr(b, e - b);
    for (std::size_t i = e; i < rest.size(); ++i)
        if (!is_blank(rest[i])) return unexpected{resolv_conf_errc::trailing_text};
    if (token.empty()) return unexpected{resolv_conf_errc::bad_nameserver};

    nameserver ns;
    std::string_view addr = token;
    if (auto pct = token.find('%'); pct != std::string_view::npos) {
        addr = token.substr(0, pct);
        std::string_view scope = token.substr(pct + 1);
        if (!valid_scope(scope)) return unexpected{resolv_conf_errc::bad_nameserver};
        ns.scope = std::string(scope);
        auto a = parse_ipv6(addr);
        if (!a) return unexpected{resolv_conf_errc::bad_nameserver};
        ns.address = *a;
    } else {
        auto a = parse_ip(addr);
        if (!a) return unexpected{resolv_conf_errc::bad_nameserver};
        ns.address = *a;
    }
    if (ns.address.is_multicast()) return unexpected{resolv_conf_errc::bad_nameserver};
    return std::optional<nameserver>{std::move(ns)};
}

}  // namespace

std::string nameserver::to_string() const {
    std::string s = weft::to_string(address);
    if (!scope.empty()) s += "%" + scope;
    return s;
}

const char* to_string(resolv_conf_errc e) noexcept {
    switch (e) {
        case resolv_conf_errc::too_large:
            return "file larger than 64 KiB";
        case resolv_conf_errc::line_too_long:
            return "line longer than 4096 bytes";
        case resolv_conf_errc::nul_byte:
            return "NUL byte";
        case resolv_conf_errc::bad_nameserver:
            return "malformed nameserver address";
        case resolv_conf_errc::trailing_text:
            return "text after the nameserver address";
        case resolv_conf_errc::too_many_nameservers:
            return "more than 64 nameserver lines";
    }
    return "unknown error";
}

std::string resolv_conf_error::message() const {
    if (line == 0) return to_string(code);
    return "line " + std::to_string(line) + ": " + to_string(code);
}

result<resolv_conf, resolv_conf_error> resolv_conf::parse(std::string_view text) {
    if (text.size() > resolv_conf_limits::max_size)
        return unexpected{resolv_conf_error{resolv_conf_errc::too_large, 0}};
    resolv_conf rc;
    std::size_t pos = 0, number = 0;
    while (pos < text.size()) {
        ++number;
        std::size_t nl = text.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
        std::string_view raw = text.substr(pos, end - pos);
        std::string_view body = raw;
        if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
        if (body.size() > resolv_conf_limits::max_line)
            return unexpected{resolv_conf_error{resolv_conf_errc::line_too_long, number}};
        if (body.find('\0') != std::string_view::npos)
            return unexpected{resolv_conf_error{resolv_conf_errc::nul_byte, number}};
        auto ns = parse_line(body);
        if (!ns) return unexpected{resolv_conf_error{ns.error(), number}};
        if (ns->has_value()) {
            if (rc.server_count_ == resolv_conf_limits::max_nameservers)
                return unexpected{
                    resolv_conf_error{resolv_conf_errc::too_many_nameservers, number}};
            ++rc.server_count_;
        }
        rc.lines_.push_back(resolv_line{std::string(raw), std::move(*ns)});
        pos = end;
    }
    return rc;
}

std::vector<nameserver> resolv_conf::nameservers() const {
    std::vector<nameserver> out;
    out.reserve(server_count_);
    for (const auto& l : lines_)
        if (l.server) out.push_back(*l.server);
    return out;
}

std::string resolv_conf::render(const std::vector<bool>& keep) const {
    WEFT_CHECK(keep.size() == server_count_);
    std::string out;
    std::size_t i = 0;
    for (const auto& l : lines_) {
        if (l.server && !keep[i++]) continue;
        out += l.raw;
    }
    return out;
}

std::string resolv_conf::render() const {
    return render(std::vector<bool>(server_count_, true));
}

}  // namespace weft
