#include "wire/dns_probe.hpp"

#include <algorithm>

#include "base/endian.hpp"

namespace weft::dns {

namespace {

bool label_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

std::uint8_t lower(std::uint8_t c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c + ('a' - 'A')) : c;
}

// Length in bytes of an uncompressed wire name at `pos`, or 0 when it is
// not one (runs past the end, a pointer, a reserved label type, too long).
std::size_t plain_name_length(std::span<const std::uint8_t> m, std::size_t pos) noexcept {
    std::size_t start = pos;
    while (pos < m.size()) {
        std::uint8_t len = m[pos];
        if (len == 0) return pos + 1 - start <= max_name ? pos + 1 - start : 0;
        if (len > max_label) return 0;
        pos += 1u + len;
        if (pos - start > max_name) return 0;
    }
    return 0;
}

enum class skip { ok, short_read, bad };

// Steps over a possibly compressed name starting at `pos`.  A pointer must
// point backwards, into the message after the header: it ends the name.
skip skip_name(std::span<const std::uint8_t> m, std::size_t& pos) noexcept {
    std::size_t start = pos, inline_len = 0;
    for (;;) {
        if (pos >= m.size()) return skip::short_read;
        std::uint8_t len = m[pos];
        if (len == 0) {
            ++pos;
            return skip::ok;
        }
        if ((len & 0xc0) == 0xc0) {
            if (pos + 1 >= m.size()) return skip::short_read;
            std::size_t target = (static_cast<std::size_t>(len & 0x3f) << 8) | m[pos + 1];
            if (target < header_size || target >= start) return skip::bad;
            pos += 2;
            return skip::ok;
        }
        if (len > max_label) return skip::bad;  // 0x40 and 0x80 label types
        inline_len += 1u + len;
        if (inline_len + 1 > max_name) return skip::bad;
        pos += 1u + len;
    }
}

}  // namespace

const char* to_string(query_errc e) noexcept {
    switch (e) {
        case query_errc::empty_label:
            return "empty label in the query name";
        case query_errc::label_too_long:
            return "label longer than 63 bytes in the query name";
        case query_errc::name_too_long:
            return "query name longer than 255 bytes";
        case query_errc::bad_character:
            return "query name has a character other than letters, digits, '-', '_'";
    }
    return "unknown error";
}

const char* to_string(reply_errc e) noexcept {
    switch (e) {
        case reply_errc::too_short:
            return "shorter than a DNS header";
        case reply_errc::id_mismatch:
            return "id does not match the query";
        case reply_errc::not_response:
            return "not a response (QR clear)";
        case reply_errc::opcode_mismatch:
            return "opcode does not match the query";
        case reply_errc::bad_counts:
            return "section counts out of bounds";
        case reply_errc::question_mismatch:
            return "question does not echo the query";
        case reply_errc::malformed_record:
            return "malformed record";
        case reply_errc::trailing_bytes:
            return "bytes after the last record";
        case reply_errc::bad_query:
            return "not a query made by build_query";
    }
    return "unknown error";
}

result<std::vector<std::uint8_t>, query_errc> encode_name(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    std::vector<std::uint8_t> out;
    while (!name.empty()) {
        std::size_t dot = name.find('.');
        std::string_view label = name.substr(0, dot);
        if (label.empty()) return unexpected{query_errc::empty_label};
        if (label.size() > max_label) return unexpected{query_errc::label_too_long};
        for (char c : label)
            if (!label_char(c)) return unexpected{query_errc::bad_character};
        out.push_back(static_cast<std::uint8_t>(label.size()));
        out.insert(out.end(), label.begin(), label.end());
        if (out.size() + 1 > max_name) return unexpected{query_errc::name_too_long};
        if (dot == std::string_view::npos) break;
        name.remove_prefix(dot + 1);
        if (name.empty()) return unexpected{query_errc::empty_label};  // "a..": two dots
    }
    out.push_back(0);
    return out;
}

result<std::vector<std::uint8_t>, query_errc> build_query(std::uint16_t id, std::string_view name,
                                                          std::uint16_t qtype) {
    auto wire_name = encode_name(name);
    if (!wire_name) return unexpected{wire_name.error()};
    std::vector<std::uint8_t> q(header_size + wire_name->size() + 4, 0);
    std::span<std::uint8_t> s(q);
    store_be<std::uint16_t>(s, off::id, id);
    store_be<std::uint16_t>(s, off::flags, flag_rd);
    store_be<std::uint16_t>(s, off::qdcount, 1);
    std::copy(wire_name->begin(), wire_name->end(), q.begin() + header_size);
    std::size_t tail = header_size + wire_name->size();
    store_be<std::uint16_t>(s, tail, qtype);
    store_be<std::uint16_t>(s, tail + 2, class_in);
    return q;
}

result<reply_info, reply_errc> check_reply(std::span<const std::uint8_t> query,
                                           std::span<const std::uint8_t> reply) {
    if (query.size() < header_size || load_be16(query, off::qdcount) != 1)
        return unexpected{reply_errc::bad_query};
    std::size_t qname = plain_name_length(query, header_size);
    if (qname == 0 || query.size() != header_size + qname + 4)
        return unexpected{reply_errc::bad_query};

    if (reply.size() < header_size) return unexpected{reply_errc::too_short};
    if (load_be16(reply, off::id) != load_be16(query, off::id))
        return unexpected{reply_errc::id_mismatch};
    std::uint16_t flags = load_be16(reply, off::flags);
    if ((flags & flag_qr) == 0) return unexpected{reply_errc::not_response};
    std::uint16_t qflags = load_be16(query, off::flags);
    if (((flags >> opcode_shift) & opcode_mask) != ((qflags >> opcode_shift) & opcode_mask))
        return unexpected{reply_errc::opcode_mismatch};
    std::uint16_t an = load_be16(reply, off::ancount), ns = load_be16(reply, off::nscount),
                  ar = load_be16(reply, off::arcount);
    if (load_be16(reply, off::qdcount) != 1 || an > max_section_records ||
        ns > max_section_records || ar > max_section_records)
        return unexpected{reply_errc::bad_counts};

    reply_info info;
    info.rcode = static_cast<std::uint8_t>(flags & rcode_mask);
    info.truncated = (flags & flag_tc) != 0;
    info.answers = an;

    // The question: our name (ASCII case aside: servers may alter it), type
    // and class.  A length byte is at most 63, below 'A', so lowering both
    // sides cannot make a length equal a letter.
    std::size_t qlen = qname + 4;
    if (reply.size() < header_size + qlen) return unexpected{reply_errc::question_mismatch};
    for (std::size_t i = header_size; i < header_size + qlen; ++i) {
        bool in_name = i < header_size + qname;
        std::uint8_t a = in_name ? lower(reply[i]) : reply[i];
        std::uint8_t b = in_name ? lower(query[i]) : query[i];
        if (a != b) return unexpected{reply_errc::question_mismatch};
    }

    std::size_t pos = header_size + qlen;
    unsigned records = static_cast<unsigned>(an) + ns + ar;
    for (unsigned r = 0; r < records; ++r) {
        skip s = skip_name(reply, pos);
        if (s == skip::bad) return unexpected{reply_errc::malformed_record};
        if (s == skip::short_read || reply.size() - pos < 10) {
            if (info.truncated) return info;
            return unexpected{reply_errc::malformed_record};
        }
        std::size_t rdlength = load_be16(reply, pos + 8);
        pos += 10;
        if (reply.size() - pos < rdlength) {
            if (info.truncated) return info;
            return unexpected{reply_errc::malformed_record};
        }
        pos += rdlength;
    }
    if (pos != reply.size()) return unexpected{reply_errc::trailing_bytes};
    return info;
}

}  // namespace weft::dns
