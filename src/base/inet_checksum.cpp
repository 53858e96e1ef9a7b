#include "base/inet_checksum.hpp"

#include <cstring>

namespace weft {

std::uint64_t checksum_add(std::uint64_t sum, std::span<const std::uint8_t> data) noexcept {
    // Sum host-order 32-bit words (a ones' complement sum is independent of
    // byte order up to a final swap), fold, then swap into network order.
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    std::uint64_t acc = 0;
    while (n >= 32) {
        std::uint32_t w[8];
        std::memcpy(w, p, 32);
        acc += std::uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
        p += 32;
        n -= 32;
    }
    while (n >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        acc += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, 2);
        acc += w;
        p += 2;
        n -= 2;
    }
    const std::uint16_t folded = checksum_fold(acc);
    std::uint8_t bytes[2];
    std::memcpy(bytes, &folded, 2);
    sum += static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);  // the host-order sum read in network order
    if (n == 1) sum += std::uint64_t{p[0]} << 8;
    return sum;
}

std::uint16_t checksum_fold(std::uint64_t sum) noexcept {
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

}  // namespace weft
