// Fuzz target: a TUN read with a virtio_net_hdr, as the kernel (or anything
// that can write to the device) hands it over.  The first 10 bytes are the
// vnet header, the rest the packet.  Accepted super-packets are split into
// every segment; each must fit the plan, be a well-formed IPv4/IPv6 + TCP
// packet whose lengths add up, whose IPv4 header checksum verifies, whose
// TCP checksum verifies over the pseudo-header, and whose payloads, laid end
// to end, are the super-packet's payload.  complete_checksum() is run on a
// copy and must stay within bounds.  The segments are then offered to a
// tcp_coalescer: whatever run it joins must split again into exactly the
// segments it was made of.  Any disagreement aborts: a finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "base/check.hpp"
#include "core/coalescing.hpp"
#include "core/segmentation.hpp"

namespace {

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

bool sums_to_zero(std::uint64_t sum) { return weft::checksum_fold(sum) == 0xffff; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace weft;
    if (size < vnet_header_size || size > vnet_header_size + 65535 + 64) return 0;
    vnet_header h = read_vnet_header(std::span<const std::uint8_t, vnet_header_size>(data, vnet_header_size));
    // Keep the fuzzer's time on plausible segment sizes.
    if (h.gso_size != 0 && h.gso_size < 64) h.gso_size = static_cast<std::uint16_t>(h.gso_size + 64);
    std::span<const std::uint8_t> packet(data + vnet_header_size, size - vnet_header_size);

    std::vector<std::uint8_t> copy(packet.begin(), packet.end());
    (void)complete_checksum(copy, h);

    auto plan = plan_segments(packet, h);
    if (!plan) return 0;
    WEFT_CHECK(plan->count >= 1 && plan->header_len + plan->payload_len == packet.size());
    std::vector<std::uint8_t> out(plan->largest_segment());
    std::vector<std::vector<std::uint8_t>> run;  // what the coalescer took
    weft::tcp_coalescer co;
    bool joining = true;
    std::size_t covered = 0;
    for (std::size_t i = 0; i < plan->count; ++i) {
        std::size_t n = write_segment(packet, *plan, i, out);
        WEFT_CHECK(n == plan->segment_size(i) && n >= plan->header_len && n <= out.size());
        const std::uint8_t* ip = out.data();
        const std::size_t ihl = plan->ip_header_len;
        std::uint64_t pseudo;
        if (!plan->v6) {
            WEFT_CHECK(be16(ip + 2) == n);
            WEFT_CHECK(sums_to_zero(checksum_add(0, std::span<const std::uint8_t>(ip, ihl))));
            pseudo = checksum_add(0, std::span<const std::uint8_t>(ip + 12, 8));
        } else {
            WEFT_CHECK(be16(ip + 4) == n - 40);
            pseudo = checksum_add(0, std::span<const std::uint8_t>(ip + 8, 32));
        }
        pseudo += 6 + (n - ihl);
        WEFT_CHECK(sums_to_zero(checksum_add(pseudo, std::span<const std::uint8_t>(ip + ihl, n - ihl))));
        const std::size_t payload = n - plan->header_len;
        WEFT_CHECK(std::memcmp(out.data() + plan->header_len, packet.data() + plan->header_len + covered, payload) == 0);
        covered += payload;
        if (joining && co.add(std::span<const std::uint8_t>(out.data(), n)))
            run.emplace_back(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
        else
            joining = false;
    }
    WEFT_CHECK(covered == plan->payload_len);
    auto joined = co.flush();
    WEFT_CHECK(co.empty());
    if (run.size() >= 2) {
        const vnet_header jh = read_vnet_header(joined.header.first<vnet_header_size>());
        auto again = plan_segments(joined.packet, jh);
        WEFT_CHECK(again.has_value() && again->count == run.size());
        std::vector<std::uint8_t> seg(again->largest_segment());
        for (std::size_t i = 0; i < run.size(); ++i) {
            std::size_t n = write_segment(joined.packet, *again, i, seg);
            WEFT_CHECK(n == run[i].size() && std::memcmp(seg.data(), run[i].data(), n) == 0);
        }
    } else if (run.size() == 1) {
        WEFT_CHECK(joined.packet.size() == run[0].size() &&
                   std::memcmp(joined.packet.data(), run[0].data(), run[0].size()) == 0);
    }
    return 0;
}
