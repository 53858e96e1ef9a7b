// Fuzz target: the check of a DNS reply against the query it answers.  The
// first input byte picks the query (name and id), the rest is the reply.
// Whatever is accepted has our id, QR, our opcode and our question.
#include <cstdint>
#include <span>

#include "base/check.hpp"
#include "base/endian.hpp"
#include "wire/dns_probe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    static constexpr const char* names[] = {".", "example.org", "A.b-c._d", "x"};
    auto q = weft::dns::build_query(static_cast<std::uint16_t>(0x1234 + (data[0] >> 2)),
                                    names[data[0] & 3]);
    WEFT_CHECK(q.has_value());
    std::span<const std::uint8_t> query(*q);
    std::span<const std::uint8_t> reply(data + 1, size - 1);
    auto r = weft::dns::check_reply(query, reply);
    if (!r) {
        WEFT_CHECK(weft::dns::to_string(r.error()) != nullptr);
        return 0;
    }
    WEFT_CHECK(reply.size() >= query.size());
    WEFT_CHECK(weft::load_be16(reply, 0) == weft::load_be16(query, 0));
    WEFT_CHECK((reply[2] & 0x80) != 0);
    WEFT_CHECK(((reply[2] >> 3) & 0xf) == 0);
    WEFT_CHECK(r->rcode == (reply[3] & 0xf));
    WEFT_CHECK(r->truncated == ((reply[2] & 0x02) != 0));
    WEFT_CHECK(weft::load_be16(reply, 4) == 1);
    return 0;
}
