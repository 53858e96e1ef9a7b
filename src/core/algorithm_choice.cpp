#include "core/algorithm_choice.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "base/check.hpp"

namespace weft {

namespace {

unexpected<prefs_error> refuse(std::string_view list, std::string_view token,
                               const std::string& what) {
    std::string msg(list);
    msg += ": ";
    msg += what;
    if (!token.empty()) {
        msg += " in '";
        msg += token;
        msg += "'";
    }
    return unexpected{prefs_error{std::string(token), std::move(msg)}};
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

// Whitespace-separated tokens; empty when `text` is blank.
std::vector<std::string_view> split_tokens(std::string_view text) {
    std::vector<std::string_view> tokens;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) ++i;
        const std::size_t start = i;
        while (i < text.size() && !is_space(text[i])) ++i;
        if (i > start) tokens.push_back(text.substr(start, i - start));
    }
    return tokens;
}

// Splits on ':' into exactly `n` fields (possibly empty); nullopt on any
// other count.
std::optional<std::vector<std::string_view>> split_fields(std::string_view token, std::size_t n) {
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    for (;;) {
        const std::size_t colon = token.find(':', start);
        fields.push_back(
            token.substr(start, colon == std::string_view::npos ? colon : colon - start));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    if (fields.size() != n) return std::nullopt;
    return fields;
}

// Decimal digits only, 0..255.
std::optional<std::uint8_t> parse_u8(std::string_view text) noexcept {
    if (text.empty() || text.size() > 3) return std::nullopt;
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size() || v > 255) return std::nullopt;
    return static_cast<std::uint8_t>(v);
}

template <class Pref, class Id>
const Pref* find_first(const std::vector<Pref>& list, Id Pref::*field, Id id) noexcept {
    for (const auto& p : list)
        if (p.*field == id) return &p;
    return nullptr;
}

}  // namespace

result<std::vector<cipher_pref>, prefs_error> parse_cipher_prefs(std::string_view text) {
    static constexpr std::string_view list = "ciphers";
    const auto tokens = split_tokens(text);
    if (tokens.empty()) return refuse(list, {}, "empty list");
    std::vector<cipher_pref> out;
    for (std::string_view token : tokens) {
        auto fields = split_fields(token, 2);
        if (!fields) return refuse(list, token, "expected name:preference");
        auto id = parse_cipher_name((*fields)[0]);
        if (!id) return refuse(list, token, "unknown cipher '" + std::string((*fields)[0]) + "'");
        auto pref = parse_u8((*fields)[1]);
        if (!pref)
            return refuse(list, token, "preference '" + std::string((*fields)[1]) +
                                           "' is not a number 0..255");
        if (find_first(out, &cipher_pref::cipher, *id))
            return refuse(list, token, "duplicate cipher '" + std::string(name(*id)) + "'");
        out.push_back({*id, *pref});
    }
    return out;
}

result<std::vector<compression_pref>, prefs_error> parse_compression_prefs(std::string_view text) {
    static constexpr std::string_view list = "compression";
    const auto tokens = split_tokens(text);
    if (tokens.empty()) return refuse(list, {}, "empty list");
    std::vector<compression_pref> out;
    for (std::string_view token : tokens) {
        auto fields = split_fields(token, 3);
        if (!fields) return refuse(list, token, "expected name:level:preference");
        auto id = parse_compression_name((*fields)[0]);
        if (!id)
            return refuse(list, token, "unknown compression '" + std::string((*fields)[0]) + "'");
        auto level = parse_u8((*fields)[1]);
        const level_range range = compression_levels(*id);
        if (!level || !valid_level(*id, *level))
            return refuse(list, token, "level '" + std::string((*fields)[1]) + "' out of range " +
                                           std::to_string(range.min) + ".." +
                                           std::to_string(range.max) + " for " +
                                           std::string(name(*id)));
        auto pref = parse_u8((*fields)[2]);
        if (!pref)
            return refuse(list, token, "preference '" + std::string((*fields)[2]) +
                                           "' is not a number 0..255");
        if (find_first(out, &compression_pref::compression, *id))
            return refuse(list, token, "duplicate compression '" + std::string(name(*id)) + "'");
        out.push_back({*id, *level, *pref});
    }
    return out;
}

result<algorithm_prefs, prefs_error> parse_prefs(std::string_view ciphers,
                                                 std::string_view compression) {
    auto c = parse_cipher_prefs(ciphers);
    if (!c) return unexpected{std::move(c).error()};
    auto z = parse_compression_prefs(compression);
    if (!z) return unexpected{std::move(z).error()};
    return algorithm_prefs{std::move(*c), std::move(*z)};
}

algorithm_prefs default_prefs() {
    auto p = parse_prefs(default_cipher_prefs, default_compression_prefs);
    WEFT_CHECK(p.has_value());  // the defaults are constants of this file
    return std::move(p).value();
}

std::string format_cipher_prefs(const std::vector<cipher_pref>& ciphers) {
    std::string out;
    for (const auto& c : ciphers) {
        if (!out.empty()) out += ' ';
        out += name(c.cipher);
        out += ':';
        out += std::to_string(c.preference);
    }
    return out;
}

std::string format_compression_prefs(const std::vector<compression_pref>& compressions) {
    std::string out;
    for (const auto& c : compressions) {
        if (!out.empty()) out += ' ';
        out += name(c.compression);
        out += ':';
        out += std::to_string(c.level);
        out += ':';
        out += std::to_string(c.preference);
    }
    return out;
}

std::string describe(const algorithm_prefs& prefs) {
    return "ciphers [" + format_cipher_prefs(prefs.ciphers) + "] compression [" +
           format_compression_prefs(prefs.compressions) + "]";
}

const char* to_string(choice_errc e) noexcept {
    switch (e) {
        case choice_errc::no_common_cipher: return "no common cipher";
        case choice_errc::no_common_compression: return "no common compression";
    }
    return "unknown";
}

error_msg_code wire_code(choice_errc e) noexcept {
    switch (e) {
        case choice_errc::no_common_cipher: return error_msg_code::no_common_cipher;
        case choice_errc::no_common_compression: return error_msg_code::no_common_compression;
    }
    return error_msg_code::internal;
}

result<algorithm_choice, choice_error> choose(const algorithm_prefs& mine,
                                              const algorithm_prefs& theirs) {
    // Walking the fixed tie order (not either side's list) and replacing the
    // best only on a strictly higher sum is what makes the result independent
    // of which side is "mine" and of how either list is ordered.
    std::optional<cipher_id> cipher;
    unsigned best = 0;
    for (cipher_id id : cipher_tie_order) {
        const auto* a = find_first(mine.ciphers, &cipher_pref::cipher, id);
        const auto* b = find_first(theirs.ciphers, &cipher_pref::cipher, id);
        if (!a || !b) continue;
        const unsigned sum = unsigned{a->preference} + unsigned{b->preference};
        if (!cipher || sum > best) {
            cipher = id;
            best = sum;
        }
    }
    if (!cipher) {
        return unexpected{choice_error{
            choice_errc::no_common_cipher,
            "no common cipher: ours [" + format_cipher_prefs(mine.ciphers) + "], theirs [" +
                format_cipher_prefs(theirs.ciphers) + "]"}};
    }

    std::optional<compression_id> compression;
    std::uint8_t level = 0;
    best = 0;
    for (compression_id id : compression_tie_order) {
        const auto* a = find_first(mine.compressions, &compression_pref::compression, id);
        const auto* b = find_first(theirs.compressions, &compression_pref::compression, id);
        if (!a || !b) continue;
        const unsigned sum = unsigned{a->preference} + unsigned{b->preference};
        if (!compression || sum > best) {
            compression = id;
            best = sum;
            level = std::max(a->level, b->level);
        }
    }
    if (!compression) {
        return unexpected{choice_error{
            choice_errc::no_common_compression,
            "no common compression: ours [" + format_compression_prefs(mine.compressions) +
                "], theirs [" + format_compression_prefs(theirs.compressions) + "]"}};
    }
    return algorithm_choice{*cipher, *compression, level};
}

propose_msg to_propose(const algorithm_prefs& prefs, std::uint32_t epoch) {
    return propose_msg{epoch, prefs.ciphers, prefs.compressions};
}

algorithm_prefs prefs_of(const propose_msg& m) {
    return algorithm_prefs{m.ciphers, m.compressions};
}

}  // namespace weft
