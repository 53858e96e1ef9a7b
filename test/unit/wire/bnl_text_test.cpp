// wire/bnl_text: the strict BNL text codec (src/wire/BNL-FORMAT.md).
//
// Every rejection rule of the spec has its own case asserting the error code,
// the line and that the message names the offending value.  Then the accepted
// (non-canonical) forms, the canonical form byte for byte, a round-trip
// property over random lists (canonical and deliberately untidy renderings),
// validate_bnl on lists edited in memory, and the field codecs.
#include <algorithm>
#include <array>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "wire/bnl.hpp"
#include "wire/ip.hpp"

namespace {

using weft::bnl_errc;
using weft::bnl_list;
using weft::bnl_node;
using weft::ip_address;
using weft::ip_family;
using weft::ip_prefix;

std::string code_name(bnl_errc c) {
    return weft::to_string(c);
}

std::string shown(std::string_view text) {
    if (text.size() > 400) return "<" + std::to_string(text.size()) + " bytes>";
    std::string out;
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '\n') {
            out += "\\n";
        } else if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out;
}

// Parses `text`, requires a refusal with exactly `code` on exactly `line`,
// and that the message contains every one of `needles`.
void expect_rejected(std::string_view text, bnl_errc code, std::size_t line,
                     std::initializer_list<std::string_view> needles) {
    BOOST_TEST_CONTEXT("text: " << shown(text)) {
        auto r = weft::parse_bnl(text);
        BOOST_REQUIRE_MESSAGE(!r.has_value(),
                              "accepted; expected " << code_name(code) << " on line " << line);
        const auto& e = r.error();
        BOOST_TEST(code_name(e.code) == code_name(code));
        BOOST_TEST(e.line == line);
        for (auto n : needles)
            BOOST_CHECK_MESSAGE(e.message.find(n) != std::string::npos,
                                "message \"" << e.message << "\" does not name \"" << n << "\"");
        const std::string full = weft::to_string(e);
        if (line != 0)
            BOOST_TEST(full == "line " + std::to_string(line) + ": " + e.message);
        else
            BOOST_TEST(full == e.message);
    }
}

// The error text of a failed result or status, "" when it succeeded (the
// message arguments of Boost's assertions are evaluated either way).
template <class R>
std::string error_text(const R& r) {
    return r ? std::string() : weft::to_string(r.error());
}

bnl_list parse_ok(std::string_view text) {
    auto r = weft::parse_bnl(text);
    BOOST_REQUIRE_MESSAGE(r.has_value(), "refused " << shown(text) << ": " << error_text(r));
    return std::move(r).value();
}

void expect_invalid(const bnl_list& list, bnl_errc code,
                    std::initializer_list<std::string_view> needles) {
    auto st = weft::validate_bnl(list);
    BOOST_REQUIRE_MESSAGE(!st.has_value(), "validate_bnl accepted; expected " << code_name(code));
    const auto& e = st.error();
    BOOST_TEST(code_name(e.code) == code_name(code));
    BOOST_TEST(e.line == 0u);
    for (auto n : needles)
        BOOST_CHECK_MESSAGE(e.message.find(n) != std::string::npos,
                            "message \"" << e.message << "\" does not name \"" << n << "\"");
}

ip_address a4(std::string_view t) {
    return *weft::parse_ipv4(t);
}
ip_address a6(std::string_view t) {
    return *weft::parse_ipv6(t);
}
ip_prefix pfx(std::string_view t) {
    return *weft::parse_prefix(t).prefix;
}

weft::cert_pin counting_pin() {
    weft::cert_pin p{};
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i);
    return p;
}

// The pin above in openssl's colon form, upper case.
std::string counting_pin_openssl() {
    std::string s = "sha256:";
    for (int i = 0; i < 32; ++i) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%02X", i);
        if (i) s += ':';
        s += buf;
    }
    return s;
}

const std::string counting_pin_hex =
    "sha256:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// network prod, version 17, three nodes; the canonical text is sample_text.
bnl_list sample_list() {
    bnl_list l;
    l.network = "prod";
    l.version = 17;
    l.signed_at = 1795295543;  // 2026-11-21T21:12:23Z
    l.comments = {"# production mesh"};
    bnl_node alpha;
    alpha.name = "alpha";
    alpha.id = 1;
    alpha.ipv4 = a4("198.18.0.1");
    alpha.ipv6 = a6("2001:db8::1");
    alpha.prefer = ip_family::v4;
    alpha.subnets = {pfx("198.19.1.0/24"), pfx("2001:db8:1::/48")};
    alpha.pin = counting_pin();
    alpha.comments = {"# the database host"};
    bnl_node beta;
    beta.name = "beta";
    beta.id = 2;
    beta.ipv4 = a4("198.18.0.2");
    beta.subnets = {pfx("198.19.2.0/24")};
    bnl_node gamma;
    gamma.name = "gamma";
    gamma.id = 3;
    gamma.ipv6 = a6("2001:db8::3");
    gamma.prefer = ip_family::v6;
    gamma.port = 5000;
    gamma.subnets = {pfx("2001:db8:3::/48")};
    l.nodes = {alpha, beta, gamma};
    return l;
}

const std::string sample_text =
    "# production mesh\n"
    "network = prod\n"
    "version = 17\n"
    "signed = 2026-11-21T21:12:23Z\n"
    "\n"
    "# the database host\n"
    "[node alpha]\n"
    "id = 1\n"
    "ipv4 = 198.18.0.1\n"
    "ipv6 = 2001:db8::1\n"
    "port = 3406\n"
    "prefer = ipv4\n"
    "subnet = 198.19.1.0/24\n"
    "subnet = 2001:db8:1::/48\n"
    "pin = " +
    counting_pin_hex +
    "\n"
    "\n"
    "[node beta]\n"
    "id = 2\n"
    "ipv4 = 198.18.0.2\n"
    "port = 3406\n"
    "subnet = 198.19.2.0/24\n"
    "\n"
    "[node gamma]\n"
    "id = 3\n"
    "ipv6 = 2001:db8::3\n"
    "port = 5000\n"
    "subnet = 2001:db8:3::/48\n";

// One-line head used by most rejection cases: line 1.
const std::string head_line = "network = t\n";

std::uint64_t test_seed() {
    if (const char* s = std::getenv("WEFT_TEST_SEED")) return std::strtoull(s, nullptr, 10);
    return std::random_device{}();
}

// ---------------------------------------------------------------------------
// Random valid lists, built independently of the code under test.

bool bit_of(const ip_address& a, unsigned bit) {
    return (a.bytes[bit / 8] >> (7 - bit % 8)) & 1u;
}

bool overlap(const ip_prefix& x, const ip_prefix& y) {
    if (x.address.family != y.address.family) return false;
    unsigned n = std::min(x.length, y.length);
    for (unsigned b = 0; b < n; ++b)
        if (bit_of(x.address, b) != bit_of(y.address, b)) return false;
    return true;
}

class list_generator {
  public:
    explicit list_generator(std::uint64_t seed) : rng_(seed) {}

    std::mt19937_64& rng() { return rng_; }
    std::uint64_t below(std::uint64_t n) { return rng_() % n; }
    bool chance(unsigned percent) { return below(100) < percent; }

    bnl_list make(std::size_t max_nodes) {
        names_.clear();
        ids_.clear();
        subnets_.clear();
        bnl_list l;
        l.network = name();
        switch (below(5)) {
            case 0:
                l.version = 0;
                break;
            case 1:
                l.version = 1;
                break;
            case 2:
                l.version = weft::bnl_max_version;
                break;
            case 3:
                l.version = 1 + below(4'000'000'000);
                break;
            default:
                l.version = rng_() >> 1;
                break;
        }
        if (chance(70)) {
            switch (below(4)) {
                case 0:
                    l.signed_at = 0;
                    break;
                case 1:
                    l.signed_at = 253402300799;
                    break;  // 9999-12-31T23:59:59Z
                default:
                    l.signed_at = static_cast<std::int64_t>(below(253402300800));
                    break;
            }
        }
        for (auto n = below(4); n > 0; --n) l.comments.push_back(comment());
        for (auto n = below(max_nodes + 1); n > 0; --n) l.nodes.push_back(node());
        return l;
    }

    std::string name() {
        static constexpr std::string_view first = "abcdefghijklmnopqrstuvwxyz0123456789";
        static constexpr std::string_view rest = "abcdefghijklmnopqrstuvwxyz0123456789.-";
        for (;;) {
            std::size_t len = chance(5) ? 63 : 1 + below(12);
            std::string s(1, first[below(first.size())]);
            while (s.size() < len) s += rest[below(rest.size())];
            if (names_.insert(s).second) return s;
        }
    }

    std::string comment() {
        static constexpr std::string_view pieces[] = {"a",
                                                      "node",
                                                      "0",
                                                      " ",
                                                      "\t",
                                                      "#",
                                                      "=",
                                                      "[node x]",
                                                      "key = value",
                                                      "\xc3\xa9" /* é */,
                                                      "\xe2\x82\xac" /* € */,
                                                      "\xf0\x9f\x98\x80" /* 😀 */,
                                                      "\xf4\x8f\xbf\xbf" /* U+10FFFF */,
                                                      "-----BEGIN WEFT BNL SIGNATURE-----",
                                                      "\\",
                                                      "ipv4 = 10.0.0.1"};
        std::string c = "#";
        for (auto n = below(7); n > 0; --n) c += pieces[below(std::size(pieces))];
        while (c.back() == ' ' || c.back() == '\t') c.pop_back();
        return c;
    }

    ip_address v4_endpoint() {
        for (;;) {
            auto a = ip_address::v4(byte(), byte(), byte(), byte());
            bool zero = a.bytes[0] == 0 && a.bytes[1] == 0 && a.bytes[2] == 0 && a.bytes[3] == 0;
            bool bcast =
                a.bytes[0] == 255 && a.bytes[1] == 255 && a.bytes[2] == 255 && a.bytes[3] == 255;
            bool mcast = a.bytes[0] >= 224 && a.bytes[0] <= 239;
            if (!zero && !bcast && !mcast) return a;
        }
    }

    ip_address v6_address() {
        ip_address a;
        a.family = ip_family::v6;
        if (chance(10)) {  // IPv4-mapped: printed with a dotted tail
            a.bytes[10] = a.bytes[11] = 0xff;
            for (std::size_t i = 12; i < 16; ++i) a.bytes[i] = byte();
            return a;
        }
        for (std::size_t i = 0; i < 16; i += 2) {
            if (chance(35)) continue;  // zero groups, so '::' shows up
            a.bytes[i] = byte();
            a.bytes[i + 1] = byte();
        }
        return a;
    }

    ip_address v6_endpoint() {
        for (;;) {
            auto a = v6_address();
            bool zero =
                std::all_of(a.bytes.begin(), a.bytes.end(), [](std::uint8_t b) { return b == 0; });
            bool mcast = a.bytes[0] == 0xff;
            bool link_local = a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
            if (!zero && !mcast && !link_local) return a;
        }
    }

    // A prefix overlapping nothing generated so far in this list, or nullopt.
    std::optional<ip_prefix> subnet() {
        for (int attempt = 0; attempt < 20; ++attempt) {
            ip_prefix p;
            if (chance(50)) {
                p.address = ip_address::v4(byte(), byte(), byte(), byte());
                p.length = static_cast<std::uint8_t>(chance(2) ? 0 : 8 + below(25));
            } else {
                p.address = v6_address();
                p.length = static_cast<std::uint8_t>(chance(2) ? 0 : 16 + below(113));
            }
            for (unsigned b = p.length; b < p.address.bit_width(); ++b)
                p.address.bytes[b / 8] =
                    static_cast<std::uint8_t>(p.address.bytes[b / 8] & ~(0x80u >> (b % 8)));
            if (std::none_of(subnets_.begin(), subnets_.end(),
                             [&](const ip_prefix& q) { return overlap(p, q); })) {
                subnets_.push_back(p);
                return p;
            }
        }
        return std::nullopt;
    }

    bnl_node node() {
        bnl_node n;
        n.name = name();
        for (;;) {
            n.id = chance(50) ? static_cast<std::uint32_t>(1 + below(100))
                              : static_cast<std::uint32_t>(1 + below(0xffffffffull));
            if (ids_.insert(n.id).second) break;
        }
        switch (below(3)) {
            case 0:
                n.ipv4 = v4_endpoint();
                break;
            case 1:
                n.ipv6 = v6_endpoint();
                break;
            default:
                n.ipv4 = v4_endpoint();
                n.ipv6 = v6_endpoint();
                break;
        }
        n.prefer = n.ipv4 && n.ipv6 ? (chance(50) ? ip_family::v4 : ip_family::v6)
                                    : (n.ipv4 ? ip_family::v4 : ip_family::v6);
        if (chance(50)) n.port = static_cast<std::uint16_t>(1 + below(65535));
        auto count = chance(5) ? 20 + below(30) : below(5);
        for (; count > 0; --count)
            if (auto s = subnet()) n.subnets.push_back(*s);
        if (chance(50)) {
            weft::cert_pin pin;
            for (auto& b : pin) b = byte();
            n.pin = pin;
        }
        for (auto c = below(3); c > 0; --c) n.comments.push_back(comment());
        return n;
    }

  private:
    std::uint8_t byte() { return static_cast<std::uint8_t>(rng_()); }

    std::mt19937_64 rng_;
    std::set<std::string> names_;
    std::set<std::uint32_t> ids_;
    std::vector<ip_prefix> subnets_;
};

// The same list written untidily but validly: keys in any order, blanks and
// tabs, '=' with or without spaces, defaults omitted, IPv6 uncompressed and
// upper case, pins in openssl's form, comments inside sections, no final LF.
class untidy_writer {
  public:
    explicit untidy_writer(list_generator& g) : g_(g) {}

    std::string write(const bnl_list& l) {
        lines_.clear();
        // Head: every head comment must come before the last head key, or it
        // would belong to the first node.
        std::vector<std::string> keys;
        keys.push_back(kv("network", l.network));
        if (l.version != 0 || g_.chance(50))
            keys.push_back(kv("version", std::to_string(l.version)));
        if (l.signed_at) keys.push_back(kv("signed", weft::format_utc_time(*l.signed_at)));
        std::shuffle(keys.begin(), keys.end(), g_.rng());
        place_with_comments(keys, l.comments, false);
        for (std::size_t i = 0; i < l.nodes.size(); ++i)
            write_node(l.nodes[i], i + 1 == l.nodes.size());
        std::string out;
        for (const auto& line : lines_) out += line + '\n';
        if (g_.chance(50)) out.pop_back();
        return out;
    }

  private:
    std::string blanks() {
        static constexpr std::string_view choices[] = {"", "", "", " ", "\t", "  \t "};
        return std::string(choices[g_.below(std::size(choices))]);
    }

    std::string kv(std::string_view key, std::string_view value) {
        static constexpr std::string_view seps[] = {" = ", "=", " =", "= ", "\t=\t", "  =  "};
        return blanks() + std::string(key) + std::string(seps[g_.below(std::size(seps))]) +
               std::string(value) + blanks();
    }

    void emit(std::string line) {
        while (g_.chance(10)) lines_.push_back(blanks());
        lines_.push_back(std::move(line));
    }

    // Writes `keys` with `comments` spread before them; with `trailing_ok`
    // comments may also follow the last key.
    void place_with_comments(const std::vector<std::string>& keys,
                             const std::vector<std::string>& comments, bool trailing_ok) {
        std::vector<std::size_t> slots;  // comment i goes before keys[slots[i]]
        const std::size_t max_slot = trailing_ok ? keys.size() : keys.size() - 1;
        for (std::size_t i = 0; i < comments.size(); ++i) slots.push_back(g_.below(max_slot + 1));
        std::sort(slots.begin(), slots.end());
        std::size_t c = 0;
        for (std::size_t k = 0; k <= keys.size(); ++k) {
            while (c < comments.size() && slots[c] == k) emit(blanks() + comments[c++] + blanks());
            if (k < keys.size()) emit(keys[k]);
        }
    }

    std::string untidy_v6(const ip_address& a) {
        if (g_.chance(50)) return weft::to_string(a);
        std::string s;
        for (std::size_t i = 0; i < 16; i += 2) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "%s%02X%02X", i ? ":" : "", a.bytes[i], a.bytes[i + 1]);
            s += buf;
        }
        return s;
    }

    std::string untidy_pin(const weft::cert_pin& pin) {
        std::string s = "sha256:";
        switch (g_.below(3)) {
            case 0:
                return weft::format_pin(pin);
            case 1:
                for (std::size_t i = 0; i < pin.size(); ++i) {
                    char buf[4];
                    std::snprintf(buf, sizeof buf, "%02X", pin[i]);
                    s += (i ? ":" : "") + std::string(buf);
                }
                return s;
            default:
                for (auto b : pin) {
                    char buf[4];
                    std::snprintf(buf, sizeof buf, "%02X", b);
                    s += buf;
                }
                return s;
        }
    }

    void write_node(const bnl_node& n, bool last) {
        std::vector<std::string> others;
        others.push_back(kv("id", std::to_string(n.id)));
        if (n.ipv4) others.push_back(kv("ipv4", weft::to_string(*n.ipv4)));
        if (n.ipv6) others.push_back(kv("ipv6", untidy_v6(*n.ipv6)));
        if (n.port != weft::bnl_default_port || g_.chance(50))
            others.push_back(kv("port", std::to_string(n.port)));
        const bool default_prefer = n.ipv4 ? n.prefer == ip_family::v4 : n.prefer == ip_family::v6;
        if (!default_prefer || g_.chance(30))
            others.push_back(kv("prefer", n.prefer == ip_family::v4 ? "ipv4" : "ipv6"));
        if (n.pin) others.push_back(kv("pin", untidy_pin(*n.pin)));
        std::shuffle(others.begin(), others.end(), g_.rng());
        // Subnets keep their relative order; the other keys go around them.
        std::vector<std::string> keys;
        std::size_t o = 0, s = 0;
        while (o < others.size() || s < n.subnets.size()) {
            bool take_subnet = s < n.subnets.size() && (o == others.size() || g_.chance(50));
            if (take_subnet) {
                const auto& p = n.subnets[s++];
                std::string text = p.address.family == ip_family::v6
                                       ? untidy_v6(p.address) + "/" + std::to_string(p.length)
                                       : weft::to_string(p);
                keys.push_back(kv("subnet", text));
            } else {
                keys.push_back(others[o++]);
            }
        }
        // Some comments above the header, the rest inside the section.
        const std::size_t above = g_.below(n.comments.size() + 1);
        for (std::size_t i = 0; i < above; ++i) emit(blanks() + n.comments[i] + blanks());
        emit(blanks() + "[node " + n.name + "]" + blanks());
        place_with_comments(
            keys, {n.comments.begin() + static_cast<std::ptrdiff_t>(above), n.comments.end()},
            last);
    }

    list_generator& g_;
    std::vector<std::string> lines_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(bnl_text)

// ---------------------------------------------------------------------------
// Rejections: keys

BOOST_AUTO_TEST_CASE(rejects_unknown_key_in_head) {
    expect_rejected("network = t\nfoo = 1\n", bnl_errc::unknown_key, 2, {"'foo'"});
}

BOOST_AUTO_TEST_CASE(rejects_unknown_key_in_node) {
    expect_rejected(head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\ncolour = red\n",
                    bnl_errc::unknown_key, 5, {"'colour'"});
}

BOOST_AUTO_TEST_CASE(rejects_head_key_in_node) {
    for (std::string key : {"network", "version", "signed"}) {
        BOOST_TEST_CONTEXT(key) {
            expect_rejected(head_line + "[node a]\nid = 1\n" + key + " = 1\nipv4 = 10.0.0.1\n",
                            bnl_errc::unknown_key, 4, {"'" + key + "'"});
        }
    }
}

BOOST_AUTO_TEST_CASE(rejects_node_key_in_head) {
    for (std::string key : {"id", "ipv4", "ipv6", "port", "prefer", "subnet", "pin"})
        BOOST_TEST_CONTEXT(key) {
            expect_rejected("network = t\nversion = 1\n" + key + " = 1\n", bnl_errc::unknown_key, 3,
                            {"'" + key + "'"});
        }
}

BOOST_AUTO_TEST_CASE(rejects_duplicate_head_key) {
    expect_rejected("network = t\nversion = 1\nnetwork = t\n", bnl_errc::duplicate_key, 3,
                    {"'network'"});
    expect_rejected("network = t\nversion = 1\nversion = 2\n", bnl_errc::duplicate_key, 3,
                    {"'version'"});
    expect_rejected("network = t\nsigned = 2026-01-01T00:00:00Z\nsigned = 2026-01-01T00:00:00Z\n",
                    bnl_errc::duplicate_key, 3, {"'signed'"});
}

BOOST_AUTO_TEST_CASE(rejects_duplicate_node_key) {
    const std::pair<std::string, std::string> repeated[] = {
        {"id", "id = 1"},        {"ipv4", "ipv4 = 10.0.0.1"}, {"ipv6", "ipv6 = 2001:db8::1"},
        {"port", "port = 3406"}, {"prefer", "prefer = ipv4"}, {"pin", "pin = " + counting_pin_hex}};
    for (const auto& [key, line] : repeated) {
        BOOST_TEST_CONTEXT(key) {
            expect_rejected(
                head_line +
                    "[node a]\nid = 1\nipv4 = 10.0.0.1\nipv6 = 2001:db8::1\nprefer = ipv4\npin = " +
                    counting_pin_hex + "\nport = 3406\n" + line + "\n",
                bnl_errc::duplicate_key, 9, {"'" + key + "'", "node a"});
        }
    }
}

BOOST_AUTO_TEST_CASE(rejects_malformed_lines_as_syntax_errors) {
    const std::pair<std::string, std::string> bad[] = {
        {"network", ""},
        {"= t", "''"},
        {"Network = t", "'Network'"},
        {"net work = t", "'net work'"},
        {"[nodes a]", "[node NAME]"},
        {"[node a", "[node NAME]"},
        {"[node a] # x", "[node NAME]"},
        {"id: 1", ""},
        {"[node]", "[node NAME]"},
        {"[node ]", "[node NAME]"},  // an empty name does not make a header
    };
    for (const auto& [line, needle] : bad) {
        BOOST_TEST_CONTEXT(line) {
            expect_rejected("network = t\n" + line + "\n", bnl_errc::syntax, 2, {needle});
        }
    }
}

// ---------------------------------------------------------------------------
// Rejections: names and ids

BOOST_AUTO_TEST_CASE(rejects_duplicate_node_name_naming_the_first_line) {
    expect_rejected(head_line +
                        "[node a]\nid = 1\nipv4 = 10.0.0.1\n"   // 2-4
                        "[node b]\nid = 2\nipv4 = 10.0.0.2\n"   // 5-7
                        "[node a]\nid = 3\nipv4 = 10.0.0.3\n",  // 8-10
                    bnl_errc::duplicate_name, 8, {"'a'", "line 2"});
}

BOOST_AUTO_TEST_CASE(rejects_duplicate_node_id_naming_the_first_node) {
    expect_rejected(head_line +
                        "[node alpha]\nid = 5\nipv4 = 10.0.0.1\n"  // 2-4
                        "[node beta]\nid = 5\nipv4 = 10.0.0.2\n",  // 5-7
                    bnl_errc::duplicate_id, 5, {"5", "alpha", "line 2"});
}

BOOST_AUTO_TEST_CASE(rejects_bad_node_names) {
    const std::string long_name(64, 'a');
    for (std::string name :
         {std::string("Alpha"), std::string("-a"), std::string(".a"), long_name, std::string("a_b"),
          std::string("a b"), std::string("\xc3\xa9t\xc3\xa9")})
        BOOST_TEST_CONTEXT(name) {
            expect_rejected(head_line + "[node " + name + "]\nid = 1\nipv4 = 10.0.0.1\n",
                            bnl_errc::bad_node_name, 2, {"'" + name + "'"});
        }
}

BOOST_AUTO_TEST_CASE(accepts_names_at_the_edges) {
    for (std::string name : {std::string(63, 'z'), std::string("0"), std::string("9lives"),
                             std::string("a.-"), std::string("db-1.eu-west")})
        BOOST_TEST_CONTEXT(name) {
            auto l = parse_ok(head_line + "[node " + name + "]\nid = 1\nipv4 = 10.0.0.1\n");
            BOOST_TEST(l.nodes.at(0).name == name);
        }
}

BOOST_AUTO_TEST_CASE(rejects_bad_network_names) {
    expect_rejected("network = Prod\n", bnl_errc::bad_network_name, 1, {"'Prod'"});
    expect_rejected("network = -prod\n", bnl_errc::bad_network_name, 1, {"'-prod'"});
    expect_rejected("version = 1\nnetwork =\n", bnl_errc::bad_network_name, 2, {"''"});
    expect_rejected("network = " + std::string(64, 'n') + "\n", bnl_errc::bad_network_name, 1,
                    {std::string(64, 'n')});
}

BOOST_AUTO_TEST_CASE(rejects_bad_ids) {
    for (std::string id :
         {"0", "4294967296", "01", "-1", "+1", "1.0", "0x10", "99999999999999999999999", ""})
        BOOST_TEST_CONTEXT("id '" << id << "'") {
            expect_rejected(head_line + "[node a]\nipv4 = 10.0.0.1\nid = " + id + "\n",
                            bnl_errc::bad_id, 4, {"'" + id + "'"});
        }
    BOOST_TEST(
        parse_ok(head_line + "[node a]\nipv4 = 10.0.0.1\nid = 4294967295\n").nodes.at(0).id ==
        4294967295u);
}

BOOST_AUTO_TEST_CASE(rejects_missing_id) {
    expect_rejected(head_line + "[node a]\nipv4 = 10.0.0.1\n[node b]\nid = 2\nipv4 = 10.0.0.2\n",
                    bnl_errc::missing_key, 2, {"node a", "id"});
    // ... also in the last section, found at the end of the file.
    expect_rejected(head_line + "[node b]\nid = 2\nipv4 = 10.0.0.2\n[node a]\nipv4 = 10.0.0.1\n",
                    bnl_errc::missing_key, 5, {"node a", "id"});
}

// ---------------------------------------------------------------------------
// Rejections: endpoints, ports, prefer

BOOST_AUTO_TEST_CASE(rejects_bad_ipv4_text) {
    for (std::string a : {"010.0.0.1", "10.0.0.01", "256.0.0.1", "10.0.0", "10.0.0.1.1", "::1",
                          "10.0.0.1/32", "10.0.0.1 # db"})
        BOOST_TEST_CONTEXT(a) {
            expect_rejected(head_line + "[node a]\nid = 1\nipv4 = " + a + "\n",
                            bnl_errc::bad_address, 4, {"'" + a + "'", "IPv4"});
        }
}

BOOST_AUTO_TEST_CASE(rejects_bad_ipv6_text) {
    for (std::string a : {"2001:db8::g", "1::2::3", "10.0.0.1", "fe80::1%eth0", "[2001:db8::1]",
                          "2001:db8::1/128", "1:2:3:4:5:6:7:8:9"})
        BOOST_TEST_CONTEXT(a) {
            expect_rejected(head_line + "[node a]\nid = 1\nipv6 = " + a + "\n",
                            bnl_errc::bad_address, 4, {"'" + a + "'", "IPv6"});
        }
}

BOOST_AUTO_TEST_CASE(rejects_addresses_that_cannot_be_endpoints) {
    const std::array<std::array<std::string, 3>, 9> bad = {{
        {"ipv4", "0.0.0.0", "unspecified"},
        {"ipv4", "224.0.0.1", "multicast"},
        {"ipv4", "239.255.255.255", "multicast"},
        {"ipv4", "255.255.255.255", "broadcast"},
        {"ipv6", "::", "unspecified"},
        {"ipv6", "ff02::1", "multicast"},
        {"ipv6", "fe80::1", "link-local"},
        {"ipv6", "febf:ffff::1", "link-local"},
        {"ipv6", "FE80::1", "link-local"},
    }};
    for (const auto& [key, addr, why] : bad) {
        BOOST_TEST_CONTEXT(key << " = " << addr) {
            expect_rejected(head_line + "[node a]\nid = 1\n" + key + " = " + addr + "\n",
                            bnl_errc::bad_address, 4, {"'" + addr + "'", why});
        }
    }
}

BOOST_AUTO_TEST_CASE(accepts_unusual_but_legal_endpoints) {
    for (std::string line : {"ipv4 = 127.0.0.1", "ipv4 = 255.255.255.254", "ipv4 = 240.0.0.1",
                             "ipv4 = 0.0.0.1", "ipv4 = 223.255.255.255", "ipv6 = ::1",
                             "ipv6 = fec0::1", "ipv6 = fe7f::1", "ipv6 = ::ffff:10.0.0.1"})
        BOOST_TEST_CONTEXT(line) {
            parse_ok(head_line + "[node a]\nid = 1\n" + line + "\n");
        }
}

BOOST_AUTO_TEST_CASE(rejects_bad_ports) {
    for (std::string p : {"0", "65536", "03406", "-1", "", "3406 udp", "100000"})
        BOOST_TEST_CONTEXT("port '" << p << "'") {
            expect_rejected(head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\nport = " + p + "\n",
                            bnl_errc::bad_port, 5, {"'" + p + "'"});
        }
    BOOST_TEST(parse_ok(head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\nport = 65535\n")
                   .nodes.at(0)
                   .port == 65535);
    BOOST_TEST(
        parse_ok(head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\nport = 1\n").nodes.at(0).port ==
        1);
}

BOOST_AUTO_TEST_CASE(rejects_prefer_naming_a_missing_endpoint) {
    // Known only once the section is complete: the error names the header line.
    expect_rejected(head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\nprefer = ipv6\n",
                    bnl_errc::bad_prefer, 2, {"node a", "ipv6"});
    expect_rejected(head_line + "[node a]\nid = 1\nprefer = ipv4\nipv6 = 2001:db8::1\n",
                    bnl_errc::bad_prefer, 2, {"node a", "ipv4"});
}

BOOST_AUTO_TEST_CASE(rejects_bad_prefer_values) {
    for (std::string v : {"ipv5", "IPv4", "v4", "", "ipv4 ipv6"})
        BOOST_TEST_CONTEXT("prefer '" << v << "'") {
            expect_rejected(head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\nprefer = " + v + "\n",
                            bnl_errc::bad_prefer, 5, {"'" + v + "'"});
        }
}

BOOST_AUTO_TEST_CASE(rejects_node_without_endpoint) {
    expect_rejected(head_line + "[node a]\nid = 1\n[node b]\nid = 2\nipv4 = 10.0.0.2\n",
                    bnl_errc::no_endpoint, 2, {"node a"});
    expect_rejected(head_line + "[node b]\nid = 2\nipv4 = 10.0.0.2\n[node a]\nid = 1\nport = 7\n",
                    bnl_errc::no_endpoint, 5, {"node a"});
}

// ---------------------------------------------------------------------------
// Rejections: subnets

BOOST_AUTO_TEST_CASE(rejects_subnet_with_host_bits_set) {
    for (std::string s : {"10.0.0.1/24", "10.0.0.128/24", "2001:db8::1/64", "2001:db8:0:c::/61"})
        BOOST_TEST_CONTEXT(s) {
            expect_rejected(head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\nsubnet = " + s + "\n",
                            bnl_errc::bad_subnet, 5, {"'" + s + "'", "host bits"});
        }
}

BOOST_AUTO_TEST_CASE(rejects_subnet_with_bad_length) {
    for (std::string s : {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/08", "10.0.0.0/-1"})
        BOOST_TEST_CONTEXT(s) {
            expect_rejected(head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\nsubnet = " + s + "\n",
                            bnl_errc::bad_subnet, 5, {"'" + s + "'", "length"});
        }
}

BOOST_AUTO_TEST_CASE(rejects_malformed_subnets) {
    for (std::string s : {"10.0.0.0", "010.0.0.0/8", "2001:db8::g/32", "/8", ""})
        BOOST_TEST_CONTEXT(s) {
            expect_rejected(head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\nsubnet = " + s + "\n",
                            bnl_errc::bad_subnet, 5, {"'" + s + "'"});
        }
}

BOOST_AUTO_TEST_CASE(rejects_overlapping_subnets_between_nodes) {
    struct overlap_case {
        const char* first;   // node a's subnet, line 5
        const char* second;  // node b's subnet, line 9
    };
    const overlap_case cases[] = {
        {"10.0.0.0/8", "10.1.0.0/16"},                // v4, second inside first
        {"10.1.0.0/16", "10.0.0.0/8"},                // v4, first inside second
        {"10.1.0.0/16", "10.1.0.0/16"},               // v4, identical
        {"10.1.0.0/16", "10.1.0.0/24"},               // v4, same start
        {"0.0.0.0/0", "192.0.2.7/32"},                // v4, everything
        {"2001:db8::/32", "2001:db8:1::/48"},         // v6, nested
        {"2001:db8:1::/48", "2001:db8::/32"},         // v6, nested the other way
        {"2001:db8:1::/48", "2001:db8:1::/48"},       // v6, identical
        {"2001:db8:1:ffff::/64", "2001:db8:1::/48"},  // v6, inner at the end of the outer
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.first << " / " << c.second) {
            const std::string text =
                head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\nsubnet = " + c.first +
                "\n" +                                                             // 2-5
                "[node b]\nid = 2\nipv4 = 10.0.0.2\nsubnet = " + c.second + "\n";  // 6-9
            // The later subnet is the offence; the message names both, and both nodes.
            expect_rejected(
                text, bnl_errc::overlapping_subnets, 9,
                {std::string(c.second) + " of node b", std::string(c.first) + " of node a"});
        }
    }
}

BOOST_AUTO_TEST_CASE(rejects_overlapping_subnets_with_a_third_node_between) {
    // The overlap is with the first of several disjoint blocks.
    const std::string text = head_line +
                             "[node a]\nid = 1\nipv4 = 10.0.0.1\nsubnet = 10.0.0.0/16\n"  // 2-5
                             "[node b]\nid = 2\nipv4 = 10.0.0.2\nsubnet = 10.1.0.0/16\n"  // 6-9
                             "[node c]\nid = 3\nipv4 = 10.0.0.3\nsubnet = 10.2.0.0/16\n"  // 10-13
                             "subnet = 10.0.255.0/24\n";                                  // 14
    expect_rejected(text, bnl_errc::overlapping_subnets, 14,
                    {"10.0.255.0/24 of node c", "10.0.0.0/16 of node a", "line 2", "line 10"});
}

BOOST_AUTO_TEST_CASE(rejects_overlapping_subnets_within_one_node) {
    expect_rejected(
        head_line +
            "[node a]\nid = 1\nipv4 = 10.0.0.1\nsubnet = 10.0.0.0/24\nsubnet = 10.0.0.128/25\n",
        bnl_errc::overlapping_subnets, 6, {"10.0.0.128/25 of node a", "10.0.0.0/24 of node a"});
    expect_rejected(
        head_line +
            "[node a]\nid = 1\nipv4 = 10.0.0.1\nsubnet = 2001:db8::/48\nsubnet = 2001:db8::/48\n",
        bnl_errc::overlapping_subnets, 6, {"2001:db8::/48 of node a"});
}

BOOST_AUTO_TEST_CASE(accepts_adjacent_and_cross_family_subnets) {
    auto l =
        parse_ok(head_line +
                 "[node a]\nid = 1\nipv4 = 10.0.0.1\nsubnet = 10.0.0.0/25\nsubnet = 10.0.0.128/25\n"
                 "[node b]\nid = 2\nipv4 = 10.0.0.2\nsubnet = 10.0.1.0/24\nsubnet = a00::/8\n"
                 "subnet = ::ffff:10.0.0.0/104\nsubnet = 10.0.2.255/32\n");
    BOOST_TEST(l.nodes.size() == 2u);
}

BOOST_AUTO_TEST_CASE(overlap_is_found_among_many_disjoint_subnets) {
    // 200 disjoint /24s, then one /16 that covers one of them near the end.
    std::string text = head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\n";
    for (int i = 0; i < 200; ++i) text += "subnet = 10." + std::to_string(i) + ".7.0/24\n";
    text += "[node b]\nid = 2\nipv4 = 10.0.0.2\nsubnet = 10.199.0.0/16\n";  // header on 205, subnet
                                                                            // on 208
    expect_rejected(text, bnl_errc::overlapping_subnets, 208,
                    {"10.199.0.0/16 of node b", "10.199.7.0/24 of node a"});
}

BOOST_AUTO_TEST_CASE(rejects_more_than_256_subnets_on_one_node) {
    std::string text = head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\n";  // lines 1-4
    for (int i = 0; i < 256; ++i)
        text += "subnet = 10." + std::to_string(i >> 8) + "." + std::to_string(i & 255) + ".0/24\n";
    BOOST_TEST(parse_ok(text).nodes.at(0).subnets.size() == 256u);
    expect_rejected(text + "subnet = 10.1.0.0/24\n", bnl_errc::too_many_subnets, 5 + 256,
                    {"node a", "256"});
}

// ---------------------------------------------------------------------------
// Rejections: head values

BOOST_AUTO_TEST_CASE(rejects_missing_network) {
    expect_rejected("version = 1\n[node a]\nid = 1\nipv4 = 10.0.0.1\n", bnl_errc::missing_key, 0,
                    {"'network'"});
    expect_rejected("", bnl_errc::missing_key, 0, {"'network'"});
    expect_rejected("# only a comment\n\n", bnl_errc::missing_key, 0, {"'network'"});
}

BOOST_AUTO_TEST_CASE(rejects_bad_versions) {
    for (std::string v : {"01", "-1", "+1", "9223372036854775808", "18446744073709551616", "1e3",
                          "", "0x10", "1 2", "123456789012345678901"})
        BOOST_TEST_CONTEXT("version '" << v << "'") {
            expect_rejected("network = t\nversion = " + v + "\n", bnl_errc::bad_version, 2,
                            {"'" + v + "'"});
        }
    BOOST_TEST(parse_ok("network = t\nversion = 9223372036854775807\n").version ==
               weft::bnl_max_version);
    BOOST_TEST(parse_ok("network = t\nversion = 0\n").version == 0u);
}

BOOST_AUTO_TEST_CASE(rejects_bad_signed_times) {
    for (std::string t :
         {"2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00",
          "2023-02-29T00:00:00Z", "1969-12-31T23:59:59Z", "2026-01-01T00:60:00Z",
          "2026-01-01T00:00:60Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
          "2026-01-00T00:00:00Z", "2026-01-01t00:00:00z", "2026-01-01T00:00:00+00:00",
          "2026-01-01 00:00:00Z", "2026-1-01T00:00:00Z", "1795295543", "", "2026-04-31T00:00:00Z",
          "2100-02-29T00:00:00Z"})
        BOOST_TEST_CONTEXT("signed '" << t << "'") {
            expect_rejected("network = t\nsigned = " + t + "\n", bnl_errc::bad_signed_time, 2,
                            {"'" + t + "'"});
        }
}

BOOST_AUTO_TEST_CASE(rejects_bad_pins) {
    std::string colon_dash = counting_pin_openssl();
    std::replace(colon_dash.begin() + 7, colon_dash.end(), ':', '-');
    for (std::string p :
         {std::string("sha256:abc"), counting_pin_hex.substr(0, counting_pin_hex.size() - 1),
          counting_pin_hex + "0", "SHA256:" + counting_pin_hex.substr(7),
          "sha1:" + counting_pin_hex.substr(7), counting_pin_hex.substr(7),
          "sha256:" + std::string(63, '0') + "g", colon_dash, counting_pin_openssl() + ":",
          std::string("")})
        BOOST_TEST_CONTEXT("pin '" << p << "'") {
            expect_rejected(head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\npin = " + p + "\n",
                            bnl_errc::bad_pin, 5, {"'" + p + "'"});
        }
}

// ---------------------------------------------------------------------------
// Rejections: encoding and limits

BOOST_AUTO_TEST_CASE(rejects_crlf) {
    expect_rejected("network = t\r\n", bnl_errc::bad_encoding, 1, {"carriage return"});
    expect_rejected("network = t\n[node a]\r\nid = 1\nipv4 = 10.0.0.1\n", bnl_errc::bad_encoding, 2,
                    {"carriage return"});
    expect_rejected("network = t\n# comment\rhidden\n", bnl_errc::bad_encoding, 2,
                    {"carriage return"});
}

BOOST_AUTO_TEST_CASE(rejects_nul) {
    using namespace std::string_literals;
    expect_rejected("network = t\n# a\0b\n"s, bnl_errc::bad_encoding, 2, {"NUL"});
    expect_rejected("network = t\0\n"s, bnl_errc::bad_encoding, 1, {"NUL"});
}

BOOST_AUTO_TEST_CASE(rejects_invalid_utf8_in_comments) {
    const std::pair<std::string, std::string> bad[] = {
        {"\xc0\xaf", "overlong 2-byte '/'"},
        {"\xc1\xbf", "overlong 2-byte"},
        {"\xe0\x80\xaf", "overlong 3-byte '/'"},
        {"\xf0\x80\x80\xaf", "overlong 4-byte '/'"},
        {"\xed\xa0\x80", "surrogate U+D800"},
        {"\xed\xbf\xbf", "surrogate U+DFFF"},
        {"\xf4\x90\x80\x80", "above U+10FFFF"},
        {"\xf8\x88\x80\x80\x80", "5-byte form"},
        {"\x80", "lone continuation"},
        {"\xe2\x82", "truncated sequence"},
        {"\xe2\x82x", "bad continuation"},
        {"\xff", "0xff"},
        {"\xfe", "0xfe"},
    };
    for (const auto& [bytes, what] : bad) {
        BOOST_TEST_CONTEXT(what) {
            expect_rejected("network = t\n# bad: " + bytes + " here\n", bnl_errc::bad_encoding, 2,
                            {"UTF-8"});
            // At the very end of the file, with no final LF.
            expect_rejected("network = t\n#" + bytes, bnl_errc::bad_encoding, 2, {"UTF-8"});
        }
    }
}

BOOST_AUTO_TEST_CASE(rejects_invalid_utf8_outside_comments) {
    expect_rejected("network = t\xc3\n", bnl_errc::bad_encoding, 1, {"UTF-8"});
    expect_rejected(head_line + "[node \xed\xa0\x80]\n", bnl_errc::bad_encoding, 2, {"UTF-8"});
}

BOOST_AUTO_TEST_CASE(accepts_valid_utf8_in_comments) {
    auto l = parse_ok(
        "# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xee\x80\x80 \xef\xbf\xbd\n"
        "network = t\n");
    BOOST_TEST(l.comments.size() == 1u);
}

BOOST_AUTO_TEST_CASE(rejects_control_characters) {
    for (char c : {'\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x1f', '\x7f'})
        BOOST_TEST_CONTEXT("byte " << int(c)) {
            expect_rejected("network = t\n# x" + std::string(1, c) + "y\n", bnl_errc::bad_encoding,
                            2, {"control"});
        }
    parse_ok("network = t\n#\ttab is fine\t\n");
}

// U+0080..U+009F are control characters as much as U+0000..U+001F (U+009B is
// a CSI for some terminals): the spec refuses "any other control character".
BOOST_AUTO_TEST_CASE(rejects_c1_control_characters) {
    expect_rejected(
        "network = t\n# x\xc2\x9b"
        "y\n",
        bnl_errc::bad_encoding, 2, {"control"});
    expect_rejected(
        "network = t\n# x\xc2\x80"
        "y\n",
        bnl_errc::bad_encoding, 2, {"control"});
}

BOOST_AUTO_TEST_CASE(rejects_lines_over_4096_bytes) {
    const std::string at_limit = "#" + std::string(4095, 'x');
    BOOST_TEST(parse_ok("network = t\n" + at_limit + "\n").comments.at(0) == at_limit);
    expect_rejected("network = t\n" + at_limit + "x\n", bnl_errc::line_too_long, 2, {"4096"});
    // Trailing blanks count: the limit is on the raw line.
    expect_rejected("network = t\n" + at_limit + " \n", bnl_errc::line_too_long, 2, {"4096"});
    // The length is checked before the encoding.
    expect_rejected("network = t\n" + at_limit + "\r\n", bnl_errc::line_too_long, 2, {"4096"});
}

BOOST_AUTO_TEST_CASE(rejects_files_over_16_mib_before_parsing) {
    // Exactly 16 MiB of a valid list is fine.
    std::string text = "network = t\n";
    const std::string line = "#" + std::string(4094, 'x') + "\n";
    while (text.size() + line.size() <= weft::bnl_max_file_bytes) text += line;
    text += "#" + std::string(weft::bnl_max_file_bytes - text.size() - 2, 'y') + "\n";
    BOOST_REQUIRE(text.size() == weft::bnl_max_file_bytes);
    BOOST_TEST(parse_ok(text).network == "t");
    // One more byte: refused for its size, before a line is read (the first
    // line would be a bad encoding).
    text[0] = '\r';
    text += "\n";
    expect_rejected(text, bnl_errc::too_large, 0, {"16777217", "16777216"});
}

BOOST_AUTO_TEST_CASE(rejects_more_than_65536_nodes) {
    std::string text = "network = t\n";
    text.reserve(3'000'000);
    auto add_node = [&](std::size_t i) {  // three lines; the header of node i is on line 2 + 3i
        const std::string n = std::to_string(i);
        text += "[node n" + n + "]\nid = " + std::to_string(i + 1) + "\nipv4 = 10." +
                std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." +
                std::to_string(i & 255) + "\n";
    };
    for (std::size_t i = 0; i < weft::bnl_max_nodes; ++i) add_node(i);
    // 10.0.0.0 is a legal endpoint; the list at the cap parses.
    BOOST_TEST(parse_ok(text).nodes.size() == weft::bnl_max_nodes);
    add_node(weft::bnl_max_nodes);
    expect_rejected(text, bnl_errc::too_many_nodes, 2 + 3 * weft::bnl_max_nodes, {"65536"});
}

// ---------------------------------------------------------------------------
// Accepted forms

BOOST_AUTO_TEST_CASE(comments_are_kept_and_placed_per_the_spec) {
    const std::string text =
        "# head 1\n"
        "network = prod\n"
        "   # head 2, indented, between head keys   \n"
        "version = 3\n"
        "\n"
        "# above alpha\n"
        "\n"
        "# also above alpha, after a blank line\n"
        "[node alpha]\n"
        "id = 1\n"
        "# inside alpha\n"
        "ipv4 = 10.0.0.1\n"
        "# at the end of alpha: directly above beta's header\n"
        "[node beta]\n"
        "id = 2\n"
        "ipv4 = 10.0.0.2\n"
        "# trailing, at the end of the file: stays in beta's section";
    auto l = parse_ok(text);
    BOOST_TEST(l.comments ==
                   (std::vector<std::string>{"# head 1", "# head 2, indented, between head keys"}),
               boost::test_tools::per_element());
    BOOST_REQUIRE(l.nodes.size() == 2u);
    BOOST_TEST(l.nodes[0].comments == (std::vector<std::string>{
                                          "# above alpha", "# also above alpha, after a blank line",
                                          "# inside alpha"}),
               boost::test_tools::per_element());
    BOOST_TEST(
        l.nodes[1].comments == (std::vector<std::string>{
                                   "# at the end of alpha: directly above beta's header",
                                   "# trailing, at the end of the file: stays in beta's section"}),
        boost::test_tools::per_element());
    // The canonical form puts every node comment above its header.
    BOOST_TEST(weft::serialise_bnl(l) ==
               "# head 1\n"
               "# head 2, indented, between head keys\n"
               "network = prod\n"
               "version = 3\n"
               "\n"
               "# above alpha\n"
               "# also above alpha, after a blank line\n"
               "# inside alpha\n"
               "[node alpha]\n"
               "id = 1\n"
               "ipv4 = 10.0.0.1\n"
               "port = 3406\n"
               "\n"
               "# at the end of alpha: directly above beta's header\n"
               "# trailing, at the end of the file: stays in beta's section\n"
               "[node beta]\n"
               "id = 2\n"
               "ipv4 = 10.0.0.2\n"
               "port = 3406\n");
}

BOOST_AUTO_TEST_CASE(a_comment_directly_above_the_first_node_belongs_to_it) {
    auto l = parse_ok("network = t\n# first node\n[node a]\nid = 1\nipv4 = 10.0.0.1\n");
    BOOST_TEST(l.comments.empty());
    BOOST_TEST(l.nodes.at(0).comments == (std::vector<std::string>{"# first node"}),
               boost::test_tools::per_element());
    // ... and without nodes, a comment after the head keys is the head's.
    auto h = parse_ok("network = t\n# after the head\n");
    BOOST_TEST(h.comments == (std::vector<std::string>{"# after the head"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(accepts_blank_lines_tabs_and_optional_spaces) {
    auto l = parse_ok(
        "\n\n \t \n"
        "\tnetwork\t=\tt  \n"
        "version=5\n"
        "signed =2026-11-21T21:12:23Z\n"
        "\n"
        "  [node a]\t\n"
        "id= 1\n"
        "\t\tipv4   =   10.0.0.1\n"
        "port\t=7\n"
        "subnet=10.9.0.0/16\n"
        "   \n");
    BOOST_TEST(l.network == "t");
    BOOST_TEST(l.version == 5u);
    BOOST_TEST(l.signed_at.value_or(-1) == 1795295543);
    BOOST_REQUIRE(l.nodes.size() == 1u);
    BOOST_TEST(l.nodes[0].name == "a");
    BOOST_TEST(l.nodes[0].id == 1u);
    BOOST_TEST((l.nodes[0].ipv4 == a4("10.0.0.1")));
    BOOST_TEST(l.nodes[0].port == 7);
    BOOST_TEST((l.nodes[0].subnets == std::vector<ip_prefix>{pfx("10.9.0.0/16")}));
}

BOOST_AUTO_TEST_CASE(accepts_a_missing_final_newline) {
    auto l = parse_ok("network = t\n[node a]\nid = 1\nipv4 = 10.0.0.1");
    BOOST_TEST((l.nodes.at(0).ipv4 == a4("10.0.0.1")));
    BOOST_TEST(parse_ok("network = t").network == "t");
}

BOOST_AUTO_TEST_CASE(accepts_openssl_style_and_upper_case_pins) {
    std::string upper_hex = counting_pin_hex;
    std::transform(upper_hex.begin() + 7, upper_hex.end(), upper_hex.begin() + 7, [](char c) {
        return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    });
    std::string lower_openssl = counting_pin_openssl();
    std::transform(lower_openssl.begin(), lower_openssl.end(), lower_openssl.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    for (const auto& p : {counting_pin_hex, counting_pin_openssl(), upper_hex, lower_openssl})
        BOOST_TEST_CONTEXT(p) {
            auto l = parse_ok(head_line + "[node a]\nid = 1\nipv4 = 10.0.0.1\npin = " + p + "\n");
            BOOST_TEST((l.nodes.at(0).pin == counting_pin()));
            // Always written back in lower-case hex.
            BOOST_TEST(weft::serialise_bnl(l).find("pin = " + counting_pin_hex + "\n") !=
                       std::string::npos);
        }
}

BOOST_AUTO_TEST_CASE(defaults_for_port_prefer_version_and_signed) {
    auto l = parse_ok(
        head_line +
        "[node both]\nid = 1\nipv6 = 2001:db8::1\nipv4 = 10.0.0.1\n"
        "[node six]\nid = 2\nipv6 = 2001:db8::2\n"
        "[node four]\nid = 3\nipv4 = 10.0.0.3\n"
        "[node six-preferred]\nid = 4\nipv4 = 10.0.0.4\nipv6 = 2001:db8::4\nprefer = ipv6\n");
    BOOST_TEST(l.version == 0u);
    BOOST_TEST(!l.signed_at.has_value());
    BOOST_REQUIRE(l.nodes.size() == 4u);
    for (const auto& n : l.nodes) BOOST_TEST(n.port == weft::bnl_default_port);
    BOOST_TEST(
        (l.nodes[0].prefer == ip_family::v4));  // ipv4 when present, whatever the order of the keys
    BOOST_TEST((l.nodes[0].endpoint() == a4("10.0.0.1")));
    BOOST_TEST((l.nodes[1].prefer == ip_family::v6));
    BOOST_TEST((l.nodes[1].endpoint() == a6("2001:db8::2")));
    BOOST_TEST((l.nodes[2].prefer == ip_family::v4));
    BOOST_TEST((l.nodes[3].prefer == ip_family::v6));
    BOOST_TEST((l.nodes[3].endpoint() == a6("2001:db8::4")));
    BOOST_TEST(!l.nodes[0].pin.has_value());
    BOOST_TEST(l.nodes[0].subnets.empty());
}

BOOST_AUTO_TEST_CASE(prefer_naming_the_only_endpoint_is_accepted) {
    auto l = parse_ok(
        head_line +
        "[node a]\nid = 1\nipv4 = 10.0.0.1\nprefer = ipv4\n[node b]\nid = 2\nprefer = ipv6\n"
        "ipv6 = 2001:db8::2\n");
    BOOST_TEST((l.nodes.at(0).prefer == ip_family::v4));
    BOOST_TEST((l.nodes.at(1).prefer == ip_family::v6));
    // Not written back: it is the default.
    BOOST_TEST(weft::serialise_bnl(l).find("prefer") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_spec_example_parses) {
    const std::string body =
        "# production mesh, edited by ops\n"
        "network = prod\n"
        "version = 1795302743\n"
        "signed = 2026-11-21T21:12:23Z\n"
        "\n"
        "# the database host\n"
        "[node alpha]\n"
        "id = 1\n"
        "ipv4 = 198.18.0.1\n"
        "ipv6 = 2001:db8::1\n"
        "port = 3406\n"
        "prefer = ipv4\n"
        "subnet = 198.19.1.0/24\n"
        "subnet = 2001:db8:1::/48\n"
        "pin = " +
        counting_pin_hex +
        "\n"
        "\n"
        "[node beta]\n"
        "id = 2\n"
        "ipv4 = 198.18.0.2\n"
        "port = 3406\n"
        "subnet = 198.19.2.0/24\n";
    auto l = parse_ok(body);
    BOOST_TEST(l.network == "prod");
    BOOST_TEST(l.version == 1795302743u);
    BOOST_TEST(l.signed_at.value_or(0) == 1795295543);
    BOOST_REQUIRE(l.nodes.size() == 2u);
    BOOST_TEST(l.nodes[0].comments == (std::vector<std::string>{"# the database host"}),
               boost::test_tools::per_element());
    BOOST_TEST(l.nodes[1].subnets.size() == 1u);
    // It is already canonical.
    BOOST_TEST(weft::serialise_bnl(l) == body);
}

// ---------------------------------------------------------------------------
// Canonical form and round trips

BOOST_AUTO_TEST_CASE(serialise_writes_the_canonical_form) {
    BOOST_TEST(weft::serialise_bnl(sample_list()) == sample_text);
    auto back = parse_ok(sample_text);
    BOOST_TEST((back == sample_list()));
}

BOOST_AUTO_TEST_CASE(canonical_form_of_an_untidy_file) {
    const std::string untidy =
        "version=17\n"
        "\t# production mesh\n"
        "signed = 2026-11-21T21:12:23Z\n"
        "network = prod\n"
        "# the database host\n"
        "[node alpha]\n"
        "pin = " +
        counting_pin_openssl() +
        "\n"
        "subnet = 198.19.1.0/24\n"
        "ipv6 = 2001:0DB8:0:0:0:0:0:1\n"
        "id = 1\n"
        "subnet = 2001:db8:1:0::/48\n"
        "ipv4 = 198.18.0.1\n"
        "[node beta]\n"
        "ipv4 = 198.18.0.2\n"
        "id = 2\n"
        "subnet = 198.19.2.0/24\n"
        "[node gamma]\n"
        "port = 5000\n"
        "subnet = 2001:db8:3::/48\n"
        "ipv6 = 2001:db8::3\n"
        "id = 3";
    auto l = parse_ok(untidy);
    BOOST_TEST((l == sample_list()));
    BOOST_TEST(weft::serialise_bnl(l) == sample_text);
}

BOOST_AUTO_TEST_CASE(round_trip_property_on_random_lists) {
    const auto seed = test_seed();
    BOOST_TEST_MESSAGE("bnl round trip: seed " << seed << " (set WEFT_TEST_SEED to repeat)");
    list_generator gen(seed);
    untidy_writer untidy(gen);
    BOOST_TEST_CONTEXT("seed " << seed) {
        for (int i = 0; i < 300; ++i) {
            const bnl_list x = gen.make(i % 10 == 0 ? 60 : 8);
            BOOST_TEST_CONTEXT("list #" << i) {
                auto st = weft::validate_bnl(x);
                BOOST_REQUIRE_MESSAGE(st.has_value(), "generated list refused: " << error_text(st));
                const std::string text = weft::serialise_bnl(x);
                auto back = weft::parse_bnl(text);
                BOOST_REQUIRE_MESSAGE(back.has_value(),
                                      "canonical text refused: " << error_text(back) << "\n"
                                                                 << text);
                BOOST_TEST((*back == x));
                BOOST_TEST(weft::serialise_bnl(*back) == text);

                const std::string messy = untidy.write(x);
                auto messy_back = weft::parse_bnl(messy);
                BOOST_REQUIRE_MESSAGE(messy_back.has_value(),
                                      "untidy text refused: " << error_text(messy_back) << "\n"
                                                              << messy);
                BOOST_CHECK_MESSAGE(*messy_back == x, "untidy text parsed to another list:\n"
                                                          << messy);
                BOOST_TEST(weft::serialise_bnl(*messy_back) == text);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// validate_bnl on lists edited in memory

BOOST_AUTO_TEST_CASE(validate_accepts_the_sample) {
    auto st = weft::validate_bnl(sample_list());
    BOOST_TEST(st.has_value());
}

BOOST_AUTO_TEST_CASE(validate_duplicate_id_names_both_nodes) {
    auto l = sample_list();
    l.nodes[2].id = 1;  // gamma takes alpha's id
    expect_invalid(l, bnl_errc::duplicate_id, {"id 1", "alpha", "gamma"});
}

BOOST_AUTO_TEST_CASE(validate_duplicate_name) {
    auto l = sample_list();
    l.nodes[2].name = "alpha";
    expect_invalid(l, bnl_errc::duplicate_name, {"'alpha'"});
}

BOOST_AUTO_TEST_CASE(validate_overlap_names_both_nodes) {
    auto l = sample_list();
    l.nodes[1].subnets.push_back(pfx("198.19.1.128/25"));  // inside alpha's 198.19.1.0/24
    expect_invalid(l, bnl_errc::overlapping_subnets,
                   {"198.19.1.128/25 of node beta", "198.19.1.0/24 of node alpha"});
    auto m = sample_list();
    m.nodes[0].subnets.insert(m.nodes[0].subnets.begin(),
                              pfx("2001:db8::/32"));  // covers everyone's v6
    expect_invalid(m, bnl_errc::overlapping_subnets, {"node alpha", "2001:db8::/32"});
}

BOOST_AUTO_TEST_CASE(validate_per_node_rules_name_the_node) {
    {
        auto l = sample_list();
        l.nodes[1].name = "Beta";
        expect_invalid(l, bnl_errc::bad_node_name, {"'Beta'"});
    }
    {
        auto l = sample_list();
        l.nodes[1].id = 0;
        expect_invalid(l, bnl_errc::bad_id, {"node beta"});
    }
    {
        auto l = sample_list();
        l.nodes[1].ipv4.reset();
        expect_invalid(l, bnl_errc::no_endpoint, {"node beta"});
    }
    {
        auto l = sample_list();
        l.nodes[1].port = 0;
        expect_invalid(l, bnl_errc::bad_port, {"node beta"});
    }
    {
        auto l = sample_list();
        l.nodes[1].prefer = ip_family::v6;
        expect_invalid(l, bnl_errc::bad_prefer, {"node beta", "ipv6"});
    }
    {
        auto l = sample_list();
        l.nodes[1].ipv4 = a4("224.0.0.1");
        expect_invalid(l, bnl_errc::bad_address, {"node beta", "224.0.0.1", "multicast"});
    }
    {
        auto l = sample_list();
        l.nodes[2].ipv6 = a6("fe80::1");
        expect_invalid(l, bnl_errc::bad_address, {"node gamma", "fe80::1", "link-local"});
    }
    {
        auto l = sample_list();
        l.nodes[1].ipv4 = a6("2001:db8::9");  // the ipv4 slot holding an IPv6 address
        expect_invalid(l, bnl_errc::bad_address, {"node beta"});
    }
    {
        auto l = sample_list();
        for (int i = 0; i < 257; ++i)
            l.nodes[1].subnets.push_back(
                pfx("10." + std::to_string(i >> 8) + "." + std::to_string(i & 255) + ".0/24"));
        expect_invalid(l, bnl_errc::too_many_subnets, {"node beta", "256"});
    }
}

BOOST_AUTO_TEST_CASE(validate_head_rules) {
    {
        auto l = sample_list();
        l.network = "Prod";
        expect_invalid(l, bnl_errc::bad_network_name, {"'Prod'"});
    }
    {
        auto l = sample_list();
        l.network.clear();
        expect_invalid(l, bnl_errc::bad_network_name, {"''"});
    }
    {
        auto l = sample_list();
        l.version = weft::bnl_max_version + 1;
        expect_invalid(l, bnl_errc::bad_version, {"version"});
    }
    for (std::string bad : std::vector<std::string>{
             "no hash", "# two\n# lines", "# trailing blank ", " # leading blank", "", "#\x01",
             "# \xc0\xaf", "#" + std::string(4096, 'x')})
        BOOST_TEST_CONTEXT("comment '" << shown(bad) << "'") {
            auto l = sample_list();
            l.comments.push_back(bad);
            expect_invalid(l, bnl_errc::bad_encoding, {"comment"});
            auto m = sample_list();
            m.nodes[1].comments.push_back(bad);
            expect_invalid(m, bnl_errc::bad_encoding, {"comment"});
        }
}

BOOST_AUTO_TEST_CASE(validate_more_than_65536_nodes) {
    bnl_list l;
    l.network = "big";
    l.nodes.resize(weft::bnl_max_nodes + 1);
    for (std::size_t i = 0; i < l.nodes.size(); ++i) {
        l.nodes[i].name = "n" + std::to_string(i);
        l.nodes[i].id = static_cast<std::uint32_t>(i + 1);
        l.nodes[i].ipv4 =
            ip_address::v4(10, static_cast<std::uint8_t>(i >> 16),
                           static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i));
    }
    expect_invalid(l, bnl_errc::too_many_nodes, {"65536"});
    l.nodes.pop_back();
    auto st = weft::validate_bnl(l);
    BOOST_TEST(st.has_value());
}

BOOST_AUTO_TEST_CASE(validate_on_random_lists_edited_in_memory) {
    const auto seed = test_seed();
    BOOST_TEST_MESSAGE("bnl edits: seed " << seed << " (set WEFT_TEST_SEED to repeat)");
    list_generator gen(seed);
    BOOST_TEST_CONTEXT("seed " << seed) {
        int done = 0;
        for (int i = 0; done < 100 && i < 10000; ++i) {
            bnl_list l = gen.make(10);
            if (l.nodes.size() < 2) continue;
            ++done;
            const std::size_t a = gen.below(l.nodes.size());
            std::size_t b = gen.below(l.nodes.size() - 1);
            if (b >= a) ++b;
            {
                auto e = l;
                e.nodes[b].id = e.nodes[a].id;
                const auto& first = e.nodes[std::min(a, b)];
                expect_invalid(
                    e, bnl_errc::duplicate_id,
                    {"duplicate node id " + std::to_string(e.nodes[a].id), "node " + first.name});
            }
            {
                auto e = l;
                e.nodes[b].name = e.nodes[a].name;
                expect_invalid(e, bnl_errc::duplicate_name, {"'" + e.nodes[a].name + "'"});
            }
            {
                // A host route inside (or equal to) a subnet of node a, given to node b.
                auto e = l;
                auto it = std::find_if(e.nodes[a].subnets.begin(), e.nodes[a].subnets.end(),
                                       [](const ip_prefix& p) { return p.length > 0; });
                if (it != e.nodes[a].subnets.end()) {
                    ip_prefix host{it->address, static_cast<std::uint8_t>(it->address.bit_width())};
                    e.nodes[b].subnets.push_back(host);
                    if (e.nodes[b].subnets.size() <= weft::bnl_max_subnets_per_node)
                        expect_invalid(e, bnl_errc::overlapping_subnets,
                                       {"node " + e.nodes[a].name, "node " + e.nodes[b].name,
                                        weft::to_string(host)});
                }
            }
            {
                auto e = l;
                e.nodes[b].ipv4.reset();
                e.nodes[b].ipv6.reset();
                expect_invalid(e, bnl_errc::no_endpoint, {"node " + e.nodes[b].name});
            }
        }
        BOOST_TEST(done == 100);
    }
}

// The contract of serialise_bnl is parse_bnl(serialise_bnl(x)) == x for
// every valid x, and sign_bnl signs whatever validate_bnl accepts: so
// validate_bnl must refuse every list whose canonical text would not parse
// back, or a tool could sign a list that every node then refuses.
BOOST_AUTO_TEST_CASE(validate_accepts_only_lists_that_serialise_back) {
    struct edit {
        const char* what;
        void (*apply)(bnl_list&);
    };
    const edit edits[] = {
        {"subnet with host bits set (10.9.0.1/16)",
         [](bnl_list& l) {
             l.nodes[1].subnets.push_back(ip_prefix{ip_address::v4(10, 9, 0, 1), 16});
         }},
        {"IPv4 subnet of length 33",
         [](bnl_list& l) {
             l.nodes[1].subnets.push_back(ip_prefix{ip_address::v4(10, 9, 0, 0), 33});
         }},
        {"IPv6 subnet of length 129",
         [](bnl_list& l) {
             l.nodes[2].subnets.push_back(ip_prefix{*weft::parse_ipv6("2001:db8:9::"), 129});
         }},
        {"signing time before 1970", [](bnl_list& l) { l.signed_at = -1; }},
        {"signing time after 9999", [](bnl_list& l) { l.signed_at = 253402300800; }},
    };
    for (const auto& e : edits) {
        BOOST_TEST_CONTEXT(e.what) {
            auto l = sample_list();
            e.apply(l);
            if (!weft::validate_bnl(l)) continue;  // refused: fine
            auto back = weft::parse_bnl(weft::serialise_bnl(l));
            BOOST_CHECK_MESSAGE(
                back.has_value() && *back == l,
                "validate_bnl accepted the list, but its canonical text "
                    << (back ? "parses to another list" : "is refused: " + error_text(back)));
        }
    }
}

// ---------------------------------------------------------------------------
// Field codecs

BOOST_AUTO_TEST_CASE(field_codec_names_ids_ports) {
    BOOST_TEST(weft::is_valid_bnl_name("a"));
    BOOST_TEST(weft::is_valid_bnl_name(std::string(63, '1')));
    BOOST_TEST(!weft::is_valid_bnl_name(std::string(64, '1')));
    BOOST_TEST(!weft::is_valid_bnl_name(""));
    BOOST_TEST(!weft::is_valid_bnl_name("A"));
    BOOST_TEST(!weft::is_valid_bnl_name("-a"));
    BOOST_TEST(!weft::is_valid_bnl_name(".a"));
    BOOST_TEST(!weft::is_valid_bnl_name("a_b"));
    BOOST_TEST(!weft::is_valid_bnl_name("a/b"));
    BOOST_TEST(weft::is_valid_bnl_name("a-"));

    BOOST_TEST(weft::parse_node_id("1").value_or(0) == 1u);
    BOOST_TEST(weft::parse_node_id("4294967295").value_or(0) == 4294967295u);
    for (auto bad : {"0", "4294967296", "01", "-1", "", " 1", "1 ", "18446744073709551617"})
        BOOST_TEST_CONTEXT(bad) {
            BOOST_TEST(!weft::parse_node_id(bad).has_value());
        }

    BOOST_TEST(weft::parse_port("1").value_or(0) == 1);
    BOOST_TEST(weft::parse_port("65535").value_or(0) == 65535);
    for (auto bad : {"0", "65536", "070", "-1", "", "1e3", "65536000"}) {
        BOOST_TEST_CONTEXT(bad) {
            BOOST_TEST(!weft::parse_port(bad).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(field_codec_pins) {
    BOOST_TEST(weft::format_pin(counting_pin()) == counting_pin_hex);
    BOOST_TEST((weft::parse_pin(counting_pin_hex) == counting_pin()));
    BOOST_TEST((weft::parse_pin(counting_pin_openssl()) == counting_pin()));
    BOOST_TEST(!weft::parse_pin(counting_pin_hex.substr(7)).has_value());
    BOOST_TEST(!weft::parse_pin("sha256:").has_value());
    std::string shifted = counting_pin_openssl();  // a colon moved by one place
    std::swap(shifted[9], shifted[10]);
    BOOST_TEST(!weft::parse_pin(shifted).has_value());
}

BOOST_AUTO_TEST_CASE(field_codec_utc_times) {
    const std::pair<std::string_view, std::int64_t> known[] = {
        {"1970-01-01T00:00:00Z", 0},          {"2000-03-01T00:00:00Z", 951868800},
        {"2024-02-29T12:00:00Z", 1709208000}, {"2026-11-21T21:12:23Z", 1795295543},
        {"2038-01-19T03:14:08Z", 2147483648}, {"9999-12-31T23:59:59Z", 253402300799},
    };
    for (const auto& [text, secs] : known) {
        BOOST_TEST_CONTEXT(text) {
            BOOST_TEST(weft::parse_utc_time(text).value_or(-1) == secs);
            BOOST_TEST(weft::format_utc_time(secs) == std::string(text));
        }
    }
    std::mt19937_64 rng(12345);
    for (int i = 0; i < 2000; ++i) {
        auto t = static_cast<std::int64_t>(rng() % 253402300800ull);
        BOOST_TEST_CONTEXT(t) {
            BOOST_TEST(weft::parse_utc_time(weft::format_utc_time(t)).value_or(-1) == t);
        }
    }
}

BOOST_AUTO_TEST_CASE(endpoint_problem_table) {
    BOOST_TEST(weft::endpoint_problem(a4("198.18.0.1")) == nullptr);
    BOOST_TEST(weft::endpoint_problem(a6("2001:db8::1")) == nullptr);
    BOOST_TEST(weft::endpoint_problem(a4("0.0.0.0")) != nullptr);
    BOOST_TEST(weft::endpoint_problem(a4("224.1.2.3")) != nullptr);
    BOOST_TEST(weft::endpoint_problem(a4("255.255.255.255")) != nullptr);
    BOOST_TEST(weft::endpoint_problem(a6("::")) != nullptr);
    BOOST_TEST(weft::endpoint_problem(a6("ff05::2")) != nullptr);
    BOOST_TEST(weft::endpoint_problem(a6("fe80::1")) != nullptr);
    BOOST_TEST(weft::endpoint_problem(a6("fe9a::1")) != nullptr);
    BOOST_TEST(weft::endpoint_problem(a6("fec0::1")) == nullptr);
}

BOOST_AUTO_TEST_CASE(error_texts) {
    std::set<std::string> seen;
    for (int c = static_cast<int>(bnl_errc::too_large);
         c <= static_cast<int>(bnl_errc::not_signed_version); ++c) {
        std::string s = weft::to_string(static_cast<bnl_errc>(c));
        BOOST_TEST(s != "?");
        BOOST_CHECK_MESSAGE(seen.insert(s).second, "duplicate text '" << s << "'");
    }
    BOOST_TEST(weft::to_string(weft::bnl_error{bnl_errc::duplicate_id, 12, "dup"}) ==
               "line 12: dup");
    BOOST_TEST(weft::to_string(weft::bnl_error{bnl_errc::too_large, 0, "big"}) == "big");
}

BOOST_AUTO_TEST_SUITE_END()
