// Fuzz target: the receive-side TCP coalescer fed what an authenticated peer
// controls, the inner packets it sends, one after another.  The input is a
// sequence of packets, each a 2-byte big-endian length and that many bytes
// (a short tail is one last packet).  They go through a tcp_coalescer
// exactly as the daemon drives it: when add() refuses a packet the pending
// run is flushed and the packet offered again; if it is refused again it
// would be written alone.
//
// Every flush is checked against the packets that went into it:
// - nothing pending: an empty packet;
// - one packet: that packet, byte for byte, marked DATA_VALID;
// - a run: a TCPv4/TCPv6 super-packet with NEEDS_CSUM at the TCP checksum,
//   whose IPv4 header checksum verifies, whose TCP checksum, once completed,
//   verifies over the pseudo-header, and which splits (plan_segments,
//   write_segment: what the kernel would do) into exactly the packets of
//   the run.  Only the fields the coalescer documents as rewritten may
//   differ: the IPv4 id and header checksum, and the TCP checksum.
// Any disagreement aborts: a finding.
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

using bytes = std::vector<std::uint8_t>;

bool sums_to_zero(std::uint64_t sum) { return weft::checksum_fold(sum) == 0xffff; }

// `got` (a segment of the split run) equals `sent` but in the rewritten fields.
bool same_segment(const bytes& got, const bytes& sent, bool v6, std::size_t ip_len) {
    if (got.size() != sent.size()) return false;
    for (std::size_t k = 0; k < got.size(); ++k) {
        if (got[k] == sent[k]) continue;
        if (!v6 && (k == 4 || k == 5 || k == 10 || k == 11)) continue;  // IPv4 id, header checksum
        if (k == ip_len + 16 || k == ip_len + 17) continue;              // TCP checksum
        return false;
    }
    return true;
}

void check_flush(weft::tcp_coalescer& co, std::vector<bytes>& run) {
    using namespace weft;
    const auto out = co.flush();
    WEFT_CHECK(co.empty() && out.header.size() == vnet_header_size);
    const vnet_header h = read_vnet_header(out.header.first<vnet_header_size>());
    if (run.empty()) {
        WEFT_CHECK(out.packet.empty());
        return;
    }
    if (run.size() == 1) {
        WEFT_CHECK(h.gso_type == vnet::gso_none && h.flags == vnet::flag_data_valid);
        WEFT_CHECK(out.packet.size() == run[0].size() &&
                   std::equal(out.packet.begin(), out.packet.end(), run[0].begin()));
        run.clear();
        return;
    }
    const bytes joined(out.packet.begin(), out.packet.end());
    const bool v6 = h.gso_type == vnet::gso_tcpv6;
    WEFT_CHECK(v6 || h.gso_type == vnet::gso_tcpv4);
    WEFT_CHECK(h.flags == vnet::flag_needs_csum && h.csum_offset == 16 && joined.size() <= tcp_coalescer::max_bytes);
    const std::size_t ip_len = h.csum_start;
    if (!v6) WEFT_CHECK(sums_to_zero(checksum_add(0, std::span<const std::uint8_t>(joined.data(), ip_len))));

    // Completed as the kernel would, the TCP checksum verifies.
    bytes done = joined;
    WEFT_CHECK(complete_checksum(done, h));
    std::uint64_t pseudo = v6 ? checksum_add(0, std::span<const std::uint8_t>(done.data() + 8, 32))
                              : checksum_add(0, std::span<const std::uint8_t>(done.data() + 12, 8));
    pseudo += 6 + (done.size() - ip_len);
    WEFT_CHECK(sums_to_zero(checksum_add(pseudo, std::span<const std::uint8_t>(done.data() + ip_len, done.size() - ip_len))));

    // Split again, it gives back the run.
    auto plan = plan_segments(joined, h);
    WEFT_CHECK(plan.has_value() && plan->count == run.size() && plan->ip_header_len == ip_len &&
               plan->header_len == h.hdr_len);
    bytes seg(plan->largest_segment());
    for (std::size_t i = 0; i < run.size(); ++i) {
        const std::size_t n = write_segment(joined, *plan, i, seg);
        WEFT_CHECK(n <= seg.size());
        WEFT_CHECK(same_segment(bytes(seg.begin(), seg.begin() + static_cast<std::ptrdiff_t>(n)), run[i], v6, ip_len));
    }
    run.clear();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace weft;
    static tcp_coalescer co;  // built once: it preallocates 64 KiB
    WEFT_CHECK(co.empty());
    std::vector<bytes> run;  // the packets in the pending run
    std::size_t at = 0;
    while (at < size) {
        std::size_t len = size - at;
        if (len >= 2) {
            len = std::min<std::size_t>((std::size_t{data[at]} << 8) | data[at + 1], size - at - 2);
            at += 2;
        } else {
            at = size - len;
        }
        const std::span<const std::uint8_t> packet(data + at, len);
        at += len;
        if (co.add(packet)) {
            run.emplace_back(packet.begin(), packet.end());
            continue;
        }
        check_flush(co, run);
        if (co.add(packet)) run.emplace_back(packet.begin(), packet.end());
    }
    check_flush(co, run);
    return 0;
}
