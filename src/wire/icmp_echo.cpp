#include "wire/icmp_echo.hpp"

#include <algorithm>

#include "base/endian.hpp"
#include "base/inet_checksum.hpp"

namespace weft::icmp_echo {

std::vector<std::uint8_t> build_request(ip_family family, std::uint16_t id, std::uint16_t seq,
                                        const token& t) {
    std::vector<std::uint8_t> m(message_size, 0);
    std::span<std::uint8_t> s(m);
    m[off_type] = family == ip_family::v4 ? v4_request : v6_request;
    store_be<std::uint16_t>(s, off_id, id);
    store_be<std::uint16_t>(s, off_seq, seq);
    std::copy(t.begin(), t.end(), m.begin() + header_size);
    if (family == ip_family::v4) store_be<std::uint16_t>(s, off_checksum, internet_checksum(m));
    return m;
}

std::optional<std::uint16_t> check_reply(ip_family family, std::span<const std::uint8_t> reply,
                                         const token& t) noexcept {
    if (reply.size() != message_size) return std::nullopt;
    if (reply[off_type] != (family == ip_family::v4 ? v4_reply : v6_reply) || reply[off_code] != 0)
        return std::nullopt;
    // Over a whole message with a correct checksum field, the sum folds to zero.
    if (family == ip_family::v4 && internet_checksum(reply) != 0) return std::nullopt;
    if (!std::equal(t.begin(), t.end(), reply.begin() + header_size)) return std::nullopt;
    return load_be16(reply, off_seq);
}

std::optional<std::span<const std::uint8_t>> strip_ipv4_header(
    std::span<const std::uint8_t> packet) noexcept {
    if (packet.size() < 20 || (packet[0] >> 4) != 4) return std::nullopt;
    std::size_t ihl = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > packet.size()) return std::nullopt;
    std::size_t total = load_be16(packet, 2);
    if (total != packet.size()) return std::nullopt;
    return packet.subspan(ihl);
}

}  // namespace weft::icmp_echo
