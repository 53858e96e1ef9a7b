// Fuzz target: ICMP/ICMPv6 echo reply checks, with and without the IPv4
// header a raw socket delivers.  Whatever is accepted is an echo reply of
// the exact size carrying our token.
#include <algorithm>
#include <cstdint>
#include <span>

#include "base/check.hpp"
#include "wire/icmp_echo.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace ie = weft::icmp_echo;
    ie::token token{};
    for (std::size_t i = 0; i < token.size(); ++i) token[i] = static_cast<std::uint8_t>(i * 17);
    std::span<const std::uint8_t> in(data, size);
    auto check = [&](weft::ip_family f, std::span<const std::uint8_t> m) {
        auto seq = ie::check_reply(f, m, token);
        if (!seq) return;
        WEFT_CHECK(m.size() == ie::message_size);
        WEFT_CHECK(m[0] == (f == weft::ip_family::v4 ? ie::v4_reply : ie::v6_reply));
        WEFT_CHECK(std::equal(token.begin(), token.end(), m.begin() + ie::header_size));
        WEFT_CHECK(*seq == static_cast<std::uint16_t>(m[6] << 8 | m[7]));
    };
    check(weft::ip_family::v4, in);
    check(weft::ip_family::v6, in);
    if (auto payload = ie::strip_ipv4_header(in)) {
        WEFT_CHECK(payload->size() + 20 <= in.size());
        check(weft::ip_family::v4, *payload);
    }
    return 0;
}
