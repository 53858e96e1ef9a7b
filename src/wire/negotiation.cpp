#include "wire/negotiation.hpp"

#include <algorithm>
#include <bitset>
#include <string>
#include <utility>

#include "base/check.hpp"
#include "base/endian.hpp"
#include "base/utf8.hpp"

namespace weft {

namespace {

unexpected<neg_error> fail(neg_errc code, std::string message) {
    return unexpected{neg_error{code, std::move(message)}};
}

std::string type_prefix(msg_type t) { return std::string(to_string(t)) + ": "; }

std::string byte_count(std::size_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

std::string_view as_chars(std::span<const std::uint8_t> bytes) noexcept {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Size checks shared by every type: over the limit first (the same answer
// decode_header gives), then exact-size types.
status<neg_error> check_size(msg_type t, std::size_t size, std::size_t min_size) {
    if (size > body_limit(t)) {
        return fail(neg_errc::too_long, type_prefix(t) + "body of " + std::to_string(size) +
                                            " bytes (limit " + std::to_string(body_limit(t)) +
                                            ")");
    }
    if (size < min_size) {
        return fail(neg_errc::truncated, type_prefix(t) + "body of " + std::to_string(size) +
                                             " bytes (needs " + std::to_string(min_size) + ")");
    }
    return ok;
}

result<message, neg_error> decode_hello(std::span<const std::uint8_t> body) {
    if (auto s = check_size(msg_type::hello, body.size(), hello_body_size); !s)
        return unexpected{s.error()};
    const std::uint16_t protocol = load_be16(body, hello_protocol_offset);
    if (protocol != neg_protocol_version) {
        return fail(neg_errc::bad_protocol,
                    "HELLO: protocol " + std::to_string(protocol) + " (only 1 is spoken)");
    }
    const std::uint8_t purpose = body[hello_purpose_offset];
    if (purpose != static_cast<std::uint8_t>(hello_purpose::negotiate) &&
        purpose != static_cast<std::uint8_t>(hello_purpose::node_list)) {
        return fail(neg_errc::bad_purpose, "HELLO: purpose " + std::to_string(purpose));
    }
    hello_msg m;
    m.node_id = load_be32(body, hello_node_id_offset);
    m.bnl_version = load_be64(body, hello_bnl_version_offset);
    m.purpose = static_cast<hello_purpose>(purpose);
    return message{m};
}

// Reads one PROPOSE list count at `pos` and checks that its entries fit.
result<std::size_t, neg_error> read_count(std::span<const std::uint8_t> body, std::size_t pos,
                                          std::size_t entry_size, const char* what) {
    if (pos >= body.size()) {
        return fail(neg_errc::truncated, std::string("PROPOSE: body ends before the ") + what +
                                             " count");
    }
    const std::size_t n = body[pos];
    if (n > propose_max_entries) {
        return fail(neg_errc::too_many_entries, std::string("PROPOSE: ") + std::to_string(n) +
                                                    " " + what + " entries (at most 16)");
    }
    if (body.size() - pos - 1 < n * entry_size) {
        return fail(neg_errc::truncated, std::string("PROPOSE: body ends inside the ") + what +
                                             " list");
    }
    return n;
}

result<message, neg_error> decode_propose(std::span<const std::uint8_t> body) {
    if (auto s = check_size(msg_type::propose, body.size(), propose_min_body_size); !s)
        return unexpected{s.error()};
    propose_msg m;
    m.epoch = load_be32(body, propose_epoch_offset);
    std::size_t pos = propose_cipher_count_offset;

    auto n = read_count(body, pos, propose_cipher_entry_size, "cipher");
    if (!n) return unexpected{n.error()};
    ++pos;
    // Duplicates are judged on the raw byte, unknown ids included: a list
    // naming anything twice is malformed whatever this version knows.
    std::bitset<256> seen;
    for (std::size_t i = 0; i < *n; ++i, pos += propose_cipher_entry_size) {
        const std::uint8_t raw = body[pos];
        if (seen.test(raw)) {
            return fail(neg_errc::duplicate_id,
                        "PROPOSE: cipher id " + std::to_string(raw) + " listed twice");
        }
        seen.set(raw);
        // Unknown ids are skipped so that a newer peer can offer more.
        if (auto c = cipher_from_wire(raw)) m.ciphers.push_back({*c, body[pos + 1]});
    }

    auto mcount = read_count(body, pos, propose_compression_entry_size, "compression");
    if (!mcount) return unexpected{mcount.error()};
    ++pos;
    seen.reset();
    for (std::size_t i = 0; i < *mcount; ++i, pos += propose_compression_entry_size) {
        const std::uint8_t raw = body[pos];
        const std::uint8_t level = body[pos + 1];
        if (seen.test(raw)) {
            return fail(neg_errc::duplicate_id,
                        "PROPOSE: compression id " + std::to_string(raw) + " listed twice");
        }
        seen.set(raw);
        auto c = compression_from_wire(raw);
        if (!c) continue;  // unknown: its levels are unknown too, so nothing to check
        if (!valid_level(*c, level)) {
            const level_range r = compression_levels(*c);
            return fail(neg_errc::bad_level, "PROPOSE: " + std::string(name(*c)) + " level " +
                                                 std::to_string(level) + " (allowed " +
                                                 std::to_string(r.min) + ".." +
                                                 std::to_string(r.max) + ")");
        }
        m.compressions.push_back({*c, level, body[pos + 2]});
    }

    if (pos != body.size()) {
        return fail(neg_errc::trailing_bytes,
                    "PROPOSE: " + byte_count(body.size() - pos) + " after the lists");
    }
    return message{std::move(m)};
}

result<message, neg_error> decode_confirm(std::span<const std::uint8_t> body) {
    if (auto s = check_size(msg_type::confirm, body.size(), confirm_body_size); !s)
        return unexpected{s.error()};
    confirm_msg m;
    m.epoch = load_be32(body, confirm_epoch_offset);
    const auto hash = body.subspan(confirm_hash_offset, confirm_hash_size);
    std::copy(hash.begin(), hash.end(), m.context_hash.begin());
    return message{m};
}

result<message, neg_error> decode_error(std::span<const std::uint8_t> body) {
    if (auto s = check_size(msg_type::error, body.size(), error_text_offset); !s)
        return unexpected{s.error()};
    const std::string_view text = as_chars(body.subspan(error_text_offset));
    if (!valid_utf8(text)) return fail(neg_errc::bad_text, "ERROR: text is not valid UTF-8");
    return message{error_msg{static_cast<error_msg_code>(body[error_code_offset]),
                             std::string(text)}};
}

result<message, neg_error> decode_bnl_request(std::span<const std::uint8_t> body) {
    if (auto s = check_size(msg_type::bnl_request, body.size(), bnl_request_body_size); !s)
        return unexpected{s.error()};
    return message{bnl_request_msg{load_be64(body, bnl_request_version_offset)}};
}

result<message, neg_error> decode_bnl_data(std::span<const std::uint8_t> body) {
    if (auto s = check_size(msg_type::bnl_data, body.size(), 0); !s) return unexpected{s.error()};
    return message{bnl_data_msg{std::string(as_chars(body))}};
}

// Body encoders: append to `out`, which already holds the header.
void append_be16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.resize(out.size() + 2);
    store_be(std::span(out), out.size() - 2, v);
}
void append_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    out.resize(out.size() + 4);
    store_be(std::span(out), out.size() - 4, v);
}
void append_be64(std::vector<std::uint8_t>& out, std::uint64_t v) {
    out.resize(out.size() + 8);
    store_be(std::span(out), out.size() - 8, v);
}

struct body_encoder {
    std::vector<std::uint8_t>& out;

    void operator()(const hello_msg& m) const {
        append_be16(out, neg_protocol_version);
        append_be32(out, m.node_id);
        append_be64(out, m.bnl_version);
        out.push_back(static_cast<std::uint8_t>(m.purpose));
    }
    void operator()(const propose_msg& m) const {
        append_be32(out, m.epoch);
        out.push_back(static_cast<std::uint8_t>(m.ciphers.size()));
        for (const auto& c : m.ciphers) {
            out.push_back(static_cast<std::uint8_t>(c.cipher));
            out.push_back(c.preference);
        }
        out.push_back(static_cast<std::uint8_t>(m.compressions.size()));
        for (const auto& c : m.compressions) {
            out.push_back(static_cast<std::uint8_t>(c.compression));
            out.push_back(c.level);
            out.push_back(c.preference);
        }
    }
    void operator()(const confirm_msg& m) const {
        append_be32(out, m.epoch);
        out.insert(out.end(), m.context_hash.begin(), m.context_hash.end());
    }
    void operator()(const error_msg& m) const {
        out.push_back(static_cast<std::uint8_t>(m.code));
        out.insert(out.end(), m.text.begin(), m.text.end());
    }
    void operator()(const bnl_request_msg& m) const { append_be64(out, m.version); }
    void operator()(const bnl_data_msg& m) const {
        out.insert(out.end(), m.bytes.begin(), m.bytes.end());
    }
};

}  // namespace

std::string_view name(cipher_id c) noexcept {
    switch (c) {
        case cipher_id::aes_256_gcm: return "aes-256-gcm";
        case cipher_id::aes_128_gcm: return "aes-128-gcm";
        case cipher_id::chacha20_poly1305: return "chacha20-poly1305";
    }
    return "unknown";
}

std::string_view name(compression_id c) noexcept {
    switch (c) {
        case compression_id::none: return "none";
        case compression_id::lz4: return "lz4";
        case compression_id::zlib: return "zlib";
    }
    return "unknown";
}

std::optional<cipher_id> parse_cipher_name(std::string_view text) noexcept {
    for (cipher_id c : all_cipher_ids)
        if (name(c) == text) return c;
    return std::nullopt;
}

std::optional<compression_id> parse_compression_name(std::string_view text) noexcept {
    for (compression_id c : all_compression_ids)
        if (name(c) == text) return c;
    return std::nullopt;
}

std::optional<msg_type> msg_type_from_wire(std::uint8_t v) noexcept {
    if (v >= static_cast<std::uint8_t>(msg_type::hello) &&
        v <= static_cast<std::uint8_t>(msg_type::bnl_data))
        return static_cast<msg_type>(v);
    return std::nullopt;
}

std::optional<cipher_id> cipher_from_wire(std::uint8_t v) noexcept {
    for (cipher_id c : all_cipher_ids)
        if (static_cast<std::uint8_t>(c) == v) return c;
    return std::nullopt;
}

std::optional<compression_id> compression_from_wire(std::uint8_t v) noexcept {
    for (compression_id c : all_compression_ids)
        if (static_cast<std::uint8_t>(c) == v) return c;
    return std::nullopt;
}

const char* to_string(msg_type t) noexcept {
    switch (t) {
        case msg_type::hello: return "HELLO";
        case msg_type::propose: return "PROPOSE";
        case msg_type::confirm: return "CONFIRM";
        case msg_type::error: return "ERROR";
        case msg_type::bnl_request: return "BNL_REQUEST";
        case msg_type::bnl_data: return "BNL_DATA";
    }
    return "unknown";
}

const char* to_string(error_msg_code c) noexcept {
    switch (c) {
        case error_msg_code::no_common_cipher: return "no common cipher";
        case error_msg_code::no_common_compression: return "no common compression";
        case error_msg_code::bad_message: return "bad message";
        case error_msg_code::busy: return "busy";
        case error_msg_code::internal: return "internal";
    }
    return "unknown";
}

const char* to_string(neg_errc e) noexcept {
    switch (e) {
        case neg_errc::truncated: return "truncated";
        case neg_errc::unknown_type: return "unknown type";
        case neg_errc::too_long: return "too long";
        case neg_errc::trailing_bytes: return "trailing bytes";
        case neg_errc::bad_protocol: return "bad protocol";
        case neg_errc::bad_purpose: return "bad purpose";
        case neg_errc::too_many_entries: return "too many entries";
        case neg_errc::duplicate_id: return "duplicate id";
        case neg_errc::bad_level: return "bad level";
        case neg_errc::bad_text: return "bad text";
    }
    return "unknown";
}

msg_type type_of(const message& m) noexcept {
    // The variant lists the alternatives in wire order, starting at 1.
    return static_cast<msg_type>(m.index() + 1);
}

error_msg make_error_msg(error_msg_code code, std::string_view text) {
    error_msg m{code, {}};
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t len = decode_utf8(text, i).length;
        // An invalid byte becomes one '?' and the scan resumes after it.
        if (m.text.size() + std::max<std::size_t>(len, 1) > error_max_text_size) break;
        if (len == 0) {
            m.text.push_back('?');
            ++i;
        } else {
            m.text.append(text.substr(i, len));
            i += len;
        }
    }
    return m;
}

result<msg_header, neg_error> decode_header(std::span<const std::uint8_t, msg_header_size> header) {
    const std::uint8_t raw_type = header[header_type_offset];
    const std::uint32_t length = load_be32(header, header_length_offset);
    auto type = msg_type_from_wire(raw_type);
    if (!type) {
        return fail(neg_errc::unknown_type, "message type " + std::to_string(raw_type));
    }
    if (length > body_limit(*type)) {
        return fail(neg_errc::too_long, type_prefix(*type) + "body of " + std::to_string(length) +
                                            " bytes (limit " +
                                            std::to_string(body_limit(*type)) + ")");
    }
    return msg_header{*type, length};
}

std::array<std::uint8_t, msg_header_size> encode_header(msg_type type, std::uint32_t length) noexcept {
    std::array<std::uint8_t, msg_header_size> header{};
    header[header_type_offset] = static_cast<std::uint8_t>(type);
    store_be(std::span(header), header_length_offset, length);
    return header;
}

result<message, neg_error> decode_body(msg_type type, std::span<const std::uint8_t> body) {
    switch (type) {
        case msg_type::hello: return decode_hello(body);
        case msg_type::propose: return decode_propose(body);
        case msg_type::confirm: return decode_confirm(body);
        case msg_type::error: return decode_error(body);
        case msg_type::bnl_request: return decode_bnl_request(body);
        case msg_type::bnl_data: return decode_bnl_data(body);
    }
    return fail(neg_errc::unknown_type,
                "message type " + std::to_string(static_cast<unsigned>(type)));
}

result<message, neg_error> decode(std::span<const std::uint8_t> frame) {
    if (frame.size() < msg_header_size) {
        return fail(neg_errc::truncated, "frame of " + byte_count(frame.size()) +
                                             " is shorter than a header");
    }
    auto header = decode_header(frame.first<msg_header_size>());
    if (!header) return unexpected{std::move(header).error()};
    const std::size_t available = frame.size() - msg_header_size;
    if (available < header->length) {
        return fail(neg_errc::truncated, type_prefix(header->type) + "frame holds " +
                                             std::to_string(available) + " of " +
                                             std::to_string(header->length) + " body bytes");
    }
    if (available > header->length) {
        return fail(
            neg_errc::trailing_bytes,
            type_prefix(header->type) + byte_count(available - header->length) + " after the body");
    }
    return decode_body(header->type, frame.subspan(msg_header_size));
}

status<neg_error> check_encodable(const message& m) {
    if (const auto* p = std::get_if<propose_msg>(&m)) {
        if (p->ciphers.size() > propose_max_entries || p->compressions.size() > propose_max_entries)
            return fail(neg_errc::too_many_entries, "PROPOSE: more than 16 entries in a list");
        std::bitset<256> seen;
        for (const auto& c : p->ciphers) {
            const auto raw = static_cast<std::uint8_t>(c.cipher);
            if (seen.test(raw))
                return fail(neg_errc::duplicate_id,
                            "PROPOSE: cipher id " + std::to_string(raw) + " listed twice");
            seen.set(raw);
        }
        seen.reset();
        for (const auto& c : p->compressions) {
            const auto raw = static_cast<std::uint8_t>(c.compression);
            if (seen.test(raw))
                return fail(neg_errc::duplicate_id,
                            "PROPOSE: compression id " + std::to_string(raw) + " listed twice");
            seen.set(raw);
            // Unknown ids have no known levels; the decoder skips them.
            if (compression_from_wire(raw) && !valid_level(c.compression, c.level))
                return fail(neg_errc::bad_level, "PROPOSE: " + std::string(name(c.compression)) +
                                                     " level " + std::to_string(c.level));
        }
    } else if (const auto* h = std::get_if<hello_msg>(&m)) {
        if (h->purpose != hello_purpose::negotiate && h->purpose != hello_purpose::node_list)
            return fail(neg_errc::bad_purpose,
                        "HELLO: purpose " + std::to_string(static_cast<unsigned>(h->purpose)));
    } else if (const auto* e = std::get_if<error_msg>(&m)) {
        if (e->text.size() > error_max_text_size)
            return fail(neg_errc::too_long, "ERROR: text of " + std::to_string(e->text.size()) +
                                                " bytes (limit 200)");
        if (!valid_utf8(e->text)) return fail(neg_errc::bad_text, "ERROR: text is not valid UTF-8");
    } else if (const auto* d = std::get_if<bnl_data_msg>(&m)) {
        if (d->bytes.size() > bnl_data_body_limit)
            return fail(neg_errc::too_long, "BNL_DATA: " + std::to_string(d->bytes.size()) +
                                                " bytes (limit " +
                                                std::to_string(bnl_data_body_limit) + ")");
    }
    return ok;
}

std::vector<std::uint8_t> encode(const message& m) {
    // Sending a message the peer must reject would only move the bug to the
    // other end of the connection.
    WEFT_CHECK(check_encodable(m).has_value());
    std::vector<std::uint8_t> out(msg_header_size);
    std::visit(body_encoder{out}, m);
    const auto header = encode_header(type_of(m), static_cast<std::uint32_t>(out.size() - msg_header_size));
    std::copy(header.begin(), header.end(), out.begin());
    return out;
}

}  // namespace weft
