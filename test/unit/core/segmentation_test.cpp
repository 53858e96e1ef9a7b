// core/segmentation: TSO super-packets split into the segments a peer's
// kernel would have sent, checked against packets built independently here
// (byte-wise RFC 1071 checksums, headers written field by field), for IPv4
// and IPv6, with TCP options, every flag rule, odd sizes and one-segment
// packets; then every refusal by reason; then complete_checksum.  Then
// core/coalescing: segments joined back must split into the same segments,
// carry a correct partial checksum, and every reason not to join holds.
#include "core/segmentation.hpp"

#include "core/coalescing.hpp"

#include "alloc_counter.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <vector>

namespace {

using namespace weft;
using bytes = std::vector<std::uint8_t>;

// The slow, obvious Internet checksum: 16-bit big-endian words.
std::uint16_t ref_checksum(const bytes& pseudo, const std::uint8_t* data, std::size_t n) {
    std::uint32_t sum = 0;
    bytes all = pseudo;
    all.insert(all.end(), data, data + n);
    if (all.size() % 2) all.push_back(0);
    for (std::size_t i = 0; i < all.size(); i += 2) sum += static_cast<std::uint32_t>((all[i] << 8) | all[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    std::uint16_t c = static_cast<std::uint16_t>(~sum);
    return c == 0 ? 0xffff : c;
}

void put16(bytes& b, std::size_t at, unsigned v) {
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}
void put32(bytes& b, std::size_t at, std::uint32_t v) {
    put16(b, at, v >> 16);
    put16(b, at + 2, v & 0xffff);
}

struct tcp_spec {
    bool v6 = false;
    std::uint16_t ip_id = 0x1234;
    std::uint32_t seq = 0xfffff000u;  // wraps within the packet
    std::uint8_t flags = 0x18;        // PSH|ACK
    std::size_t options = 12;         // TCP option bytes (timestamps)
    std::size_t ipv4_options = 0;
};

// One whole packet with `payload`, checksums correct (what a NIC would send).
bytes ref_packet(const tcp_spec& s, const std::uint8_t* payload, std::size_t n, std::uint16_t id, std::uint32_t seq,
                 std::uint8_t flags) {
    const std::size_t iph = s.v6 ? 40 : 20 + s.ipv4_options, tcph = 20 + s.options;
    bytes p(iph + tcph + n, 0);
    bytes pseudo;
    if (!s.v6) {
        p[0] = static_cast<std::uint8_t>(0x40 | (iph / 4));
        put16(p, 2, static_cast<unsigned>(p.size()));
        put16(p, 4, id);
        put16(p, 6, 0x4000);  // DF
        p[8] = 64;
        p[9] = 6;
        put32(p, 12, 0xc6130101);  // 198.19.1.1
        put32(p, 16, 0xc6130201);
        for (std::size_t i = 20; i < iph; ++i) p[i] = 1;  // NOP options
        put16(p, 10, ref_checksum({}, p.data(), iph));
        pseudo.assign(p.begin() + 12, p.begin() + 20);
    } else {
        p[0] = 0x60;
        put16(p, 4, static_cast<unsigned>(tcph + n));
        p[6] = 6;
        p[7] = 64;
        p[8] = 0x20, p[9] = 0x01, p[10] = 0x0d, p[11] = 0xb8, p[23] = 1;
        p[24] = 0x20, p[25] = 0x01, p[26] = 0x0d, p[27] = 0xb8, p[39] = 2;
        pseudo.assign(p.begin() + 8, p.begin() + 40);
    }
    std::uint8_t* t = p.data() + iph;
    put16(p, iph, 40000);
    put16(p, iph + 2, 5201);
    put32(p, iph + 4, seq);
    put32(p, iph + 8, 0x01020304);
    t[12] = static_cast<std::uint8_t>((tcph / 4) << 4);
    t[13] = flags;
    put16(p, iph + 14, 512);
    for (std::size_t i = 0; i < s.options; ++i) t[20 + i] = static_cast<std::uint8_t>(i == 0 ? 8 : 0x11);
    for (std::size_t i = 0; i < n; ++i) t[tcph + i] = payload[i];
    bytes ph = pseudo;
    ph.push_back(0);
    ph.push_back(6);
    ph.push_back(static_cast<std::uint8_t>((tcph + n) >> 8));
    ph.push_back(static_cast<std::uint8_t>(tcph + n));
    put16(p, iph + 16, ref_checksum(ph, t, tcph + n));
    return p;
}

bytes payload_of(std::size_t n) {
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + (i >> 8));
    return b;
}

// A super-packet as the kernel gives it: headers of the first segment, the
// whole payload, lengths of the whole, checksum left partial (garbage here:
// it must not be trusted).
bytes super_packet(const tcp_spec& s, const bytes& payload) {
    bytes p = ref_packet(s, payload.data(), payload.size(), s.ip_id, s.seq, s.flags);
    const std::size_t iph = s.v6 ? 40 : 20 + s.ipv4_options;
    put16(p, iph + 16, 0xbeef);
    return p;
}

vnet_header tso(const tcp_spec& s, std::uint16_t mss) {
    vnet_header h;
    h.flags = vnet::flag_needs_csum;
    h.gso_type = s.v6 ? vnet::gso_tcpv6 : vnet::gso_tcpv4;
    h.gso_size = mss;
    h.hdr_len = 0;  // not trusted
    h.csum_start = static_cast<std::uint16_t>(s.v6 ? 40 : 20);
    h.csum_offset = 16;
    return h;
}

void check_split(const tcp_spec& s, std::size_t total, std::uint16_t mss) {
    BOOST_TEST_CONTEXT("v6=" << s.v6 << " total=" << total << " mss=" << mss << " flags=" << int(s.flags)) {
        bytes payload = payload_of(total);
        bytes sp = super_packet(s, payload);
        auto plan = plan_segments(sp, tso(s, mss));
        BOOST_REQUIRE(plan.has_value());
        const std::size_t want = total == 0 ? 1 : (total + mss - 1) / mss;
        BOOST_TEST(plan->count == want);
        bytes out(plan->largest_segment());
        std::size_t covered = 0;
        for (std::size_t i = 0; i < plan->count; ++i) {
            std::size_t n = write_segment(sp, *plan, i, out);
            const std::size_t chunk = std::min<std::size_t>(mss, total - covered);
            std::uint8_t f = s.flags;
            if (i + 1 < plan->count) f &= static_cast<std::uint8_t>(~0x09);  // FIN, PSH only on the last
            if (i > 0) f &= static_cast<std::uint8_t>(~0x80);               // CWR only on the first
            bytes ref = ref_packet(s, payload.data() + covered, chunk, static_cast<std::uint16_t>(s.ip_id + i),
                                   static_cast<std::uint32_t>(s.seq + covered), f);
            BOOST_REQUIRE_EQUAL(n, ref.size());
            BOOST_TEST(bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)) == ref,
                       boost::test_tools::per_element());
            covered += chunk;
        }
        BOOST_TEST(covered == total);
        // Out of range and too small an output write nothing.
        BOOST_TEST(write_segment(sp, *plan, plan->count, out) == 0u);
        bytes tiny(plan->segment_size(0) - 1);
        BOOST_TEST(write_segment(sp, *plan, 0, tiny) == 0u);
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(segmentation)

BOOST_AUTO_TEST_CASE(vnet_header_round_trip) {
    vnet_header h{vnet::flag_needs_csum, vnet::gso_tcpv4 | vnet::gso_ecn, 52, 1348, 20, 16};
    std::uint8_t raw[vnet_header_size];
    write_vnet_header(raw, h);
    BOOST_TEST(raw[0] == 1);
    BOOST_TEST(raw[1] == 0x81);
    BOOST_TEST((read_vnet_header(raw) == h));
}

BOOST_AUTO_TEST_CASE(splits_like_a_nic_ipv4_and_ipv6) {
    for (bool v6 : {false, true}) {
        tcp_spec s;
        s.v6 = v6;
        check_split(s, 65000, 1348);  // last segment shorter
        check_split(s, 1348 * 5, 1348);  // exact multiple
        check_split(s, 1001, 1348);   // a single segment
        check_split(s, 0, 1348);      // header only
        check_split(s, 4097, 1);      // tiny mss, odd payload bytes
        check_split(s, 3333, 1111);   // odd mss
        s.flags = 0x80 | 0x10 | 0x08 | 0x01;  // CWR ACK PSH FIN
        check_split(s, 5000, 1000);
        s.options = 0;
        check_split(s, 2999, 1460);
    }
    tcp_spec s;
    s.ipv4_options = 8;
    check_split(s, 7000, 1400);
    s.ip_id = 0xffff;  // id wraps
    check_split(s, 7000, 1400);
}

BOOST_AUTO_TEST_CASE(ecn_gso_bit_is_accepted) {
    tcp_spec s;
    bytes sp = super_packet(s, payload_of(3000));
    auto h = tso(s, 1000);
    h.gso_type |= vnet::gso_ecn;
    auto plan = plan_segments(sp, h);
    BOOST_REQUIRE(plan.has_value());
    BOOST_TEST(plan->count == 3u);
    // CWR (set by the sender under ECN) stays on the first segment only, as
    // the kernel's own segmentation does.
    sp[20 + 13] |= 0x80;
    bytes out(2000);
    for (std::size_t i = 0; i < plan->count; ++i) {
        const std::size_t len = write_segment(sp, *plan, i, out);
        BOOST_REQUIRE(len > 0u);
        BOOST_TEST(((out[20 + 13] & 0x80) != 0) == (i == 0), "segment " << i);
    }
}

BOOST_AUTO_TEST_CASE(refusals_by_reason) {
    tcp_spec s;
    const bytes good = super_packet(s, payload_of(3000));
    auto expect = [&](const bytes& p, vnet_header h, segment_error e) {
        auto r = plan_segments(p, h);
        BOOST_REQUIRE(!r.has_value());
        BOOST_TEST(to_string(r.error()) == to_string(e));
    };
    auto h = tso(s, 1000);
    for (std::uint8_t t : {vnet::gso_none, vnet::gso_udp, vnet::gso_udp_l4, std::uint8_t{2}, std::uint8_t{0x7f}}) {
        auto x = h;
        x.gso_type = t;
        expect(good, x, segment_error::unsupported_gso);
    }
    auto z = h;
    z.gso_size = 0;
    expect(good, z, segment_error::bad_gso_size);

    bytes p = good;
    p[0] = 0x65;  // version 6 under a TCPv4 header
    expect(p, h, segment_error::bad_ip_header);
    p = good;
    p[0] = 0x44;  // IHL 16 bytes
    expect(p, h, segment_error::bad_ip_header);
    p = good;
    put16(p, 2, static_cast<unsigned>(p.size() - 1));  // total length disagrees
    expect(p, h, segment_error::bad_ip_header);
    p = good;
    put16(p, 6, 0x2000);  // more fragments
    expect(p, h, segment_error::bad_ip_header);
    p = good;
    p[9] = 17;  // UDP
    expect(p, h, segment_error::bad_ip_header);
    expect(bytes(good.begin(), good.begin() + 19), h, segment_error::bad_ip_header);

    p = good;
    p[20 + 12] = 0x40;  // data offset 16
    expect(p, h, segment_error::bad_tcp_header);
    p = good;
    p[20 + 12] = 0xf0;  // 60 bytes of TCP header
    bytes shortp(p.begin(), p.begin() + 60);
    put16(shortp, 2, 60);
    shortp[10] = shortp[11] = 0;
    expect(shortp, h, segment_error::bad_tcp_header);
    bytes ipv4_only(good.begin(), good.begin() + 30);
    put16(ipv4_only, 2, 30);
    expect(ipv4_only, h, segment_error::bad_tcp_header);

    tcp_spec s6;
    s6.v6 = true;
    const bytes good6 = super_packet(s6, payload_of(3000));
    auto h6 = tso(s6, 1000);
    BOOST_TEST(plan_segments(good6, h6).has_value());
    p = good6;
    p[6] = 0;  // hop-by-hop extension header
    expect(p, h6, segment_error::bad_ip_header);
    p = good6;
    put16(p, 4, 100);
    expect(p, h6, segment_error::bad_ip_header);
    expect(good6, h, segment_error::bad_ip_header);  // TCPv4 type on an IPv6 packet
}

BOOST_AUTO_TEST_CASE(complete_checksum_fills_a_partial_checksum) {
    for (bool v6 : {false, true}) {
        tcp_spec s;
        s.v6 = v6;
        bytes payload = payload_of(999);
        const bytes ref = ref_packet(s, payload.data(), payload.size(), s.ip_id, s.seq, s.flags);
        // What the kernel hands over with CHECKSUM_PARTIAL: the pseudo-header
        // sum (not complemented) in the field.
        bytes p = ref;
        const std::size_t iph = v6 ? 40 : 20, tcp_len = p.size() - iph;
        bytes pseudo = v6 ? bytes(p.begin() + 8, p.begin() + 40) : bytes(p.begin() + 12, p.begin() + 20);
        pseudo.push_back(0);
        pseudo.push_back(6);
        pseudo.push_back(static_cast<std::uint8_t>(tcp_len >> 8));
        pseudo.push_back(static_cast<std::uint8_t>(tcp_len));
        put16(p, iph + 16, static_cast<std::uint16_t>(~ref_checksum(pseudo, nullptr, 0)));
        vnet_header h;
        h.flags = vnet::flag_needs_csum;
        h.csum_start = static_cast<std::uint16_t>(iph);
        h.csum_offset = 16;
        BOOST_TEST(complete_checksum(p, h));
        BOOST_TEST(p == ref, boost::test_tools::per_element());

        h.csum_offset = static_cast<std::uint16_t>(tcp_len - 1);  // field would end past the packet
        BOOST_TEST(!complete_checksum(p, h));
        h.csum_start = static_cast<std::uint16_t>(p.size() + 1);
        h.csum_offset = 0;
        BOOST_TEST(!complete_checksum(p, h));
        vnet_header none;  // no NEEDS_CSUM: untouched
        bytes q = p;
        BOOST_TEST(complete_checksum(q, none));
        BOOST_TEST(q == p);
    }
}

BOOST_AUTO_TEST_CASE(checksum_matches_the_bytewise_reference) {
    for (std::size_t n : {0u, 1u, 2u, 3u, 31u, 32u, 33u, 63u, 1400u, 65535u}) {
        bytes d = payload_of(n);
        for (auto& b : d) b = static_cast<std::uint8_t>(b ^ 0xff);
        const std::uint16_t mine = static_cast<std::uint16_t>(~checksum_fold(checksum_add(0, d)));
        std::uint16_t ref = ref_checksum({}, d.data(), d.size());
        if (mine == 0) BOOST_TEST(ref == 0xffff);
        else BOOST_TEST(mine == ref);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(coalescing)

namespace {

std::vector<bytes> segments_of(const tcp_spec& s, std::size_t total, std::uint16_t mss) {
    bytes sp = super_packet(s, payload_of(total));
    auto plan = plan_segments(sp, tso(s, mss));
    BOOST_REQUIRE(plan.has_value());
    std::vector<bytes> out;
    for (std::size_t i = 0; i < plan->count; ++i) {
        bytes seg(plan->segment_size(i));
        BOOST_REQUIRE(write_segment(sp, *plan, i, seg) == seg.size());
        out.push_back(seg);
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(joined_segments_split_back_into_the_same_segments) {
    for (bool v6 : {false, true}) {
        tcp_spec s;
        s.v6 = v6;
        s.flags = 0x18;  // ACK, PSH on the last
        auto segs = segments_of(s, 20000, 1348);
        tcp_coalescer c;
        for (const auto& seg : segs) BOOST_REQUIRE(c.add(seg));
        BOOST_TEST(c.segments() == segs.size());
        auto out = c.flush();
        BOOST_TEST(c.empty());
        const vnet_header h = read_vnet_header(out.header.first<vnet_header_size>());
        BOOST_TEST(h.gso_type == (v6 ? vnet::gso_tcpv6 : vnet::gso_tcpv4));
        BOOST_TEST(h.gso_size == 1348);
        BOOST_TEST(h.flags == vnet::flag_needs_csum);
        BOOST_TEST(h.csum_start == (v6 ? 40 : 20));
        BOOST_TEST(h.csum_offset == 16);
        const std::size_t hdr = (v6 ? 40u : 20u) + 32u;
        BOOST_TEST(h.hdr_len == hdr);
        BOOST_TEST(out.packet.size() == hdr + 20000);
        // Split again as the kernel would: the very same segments.
        auto plan = plan_segments(out.packet, h);
        BOOST_REQUIRE(plan.has_value());
        BOOST_REQUIRE(plan->count == segs.size());
        for (std::size_t i = 0; i < segs.size(); ++i) {
            bytes seg(plan->segment_size(i));
            BOOST_REQUIRE(write_segment(out.packet, *plan, i, seg) == seg.size());
            BOOST_TEST(seg == segs[i], boost::test_tools::per_element());
        }
        // The partial checksum completes to the whole packet's real one.
        bytes whole(out.packet.begin(), out.packet.end());
        BOOST_TEST(complete_checksum(whole, h));
        bytes payload = payload_of(20000);
        bytes ref = ref_packet(s, payload.data(), payload.size(), s.ip_id, s.seq, s.flags);
        BOOST_TEST(whole == ref, boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(a_single_segment_comes_out_unchanged) {
    tcp_spec s;
    auto segs = segments_of(s, 1000, 1348);
    tcp_coalescer c;
    BOOST_TEST(c.flush().packet.empty());
    BOOST_REQUIRE(c.add(segs[0]));
    auto out = c.flush();
    BOOST_TEST(bytes(out.packet.begin(), out.packet.end()) == segs[0]);
    const vnet_header h = read_vnet_header(out.header.first<vnet_header_size>());
    BOOST_TEST(h.gso_type == vnet::gso_none);
    BOOST_TEST(h.flags == vnet::flag_data_valid);
}

BOOST_AUTO_TEST_CASE(what_does_not_join) {
    tcp_spec s;
    s.flags = 0x10;
    auto segs = segments_of(s, 1348 * 4, 1348);
    auto refused_after_first = [&](const bytes& second, const char* why) {
        BOOST_TEST_CONTEXT(why) {
            tcp_coalescer c;
            BOOST_REQUIRE(c.add(segs[0]));
            BOOST_TEST(!c.add(second));
            BOOST_TEST(c.segments() == 1u);
        }
    };
    refused_after_first(segs[2], "sequence gap");
    refused_after_first(segs[0], "same segment again");
    bytes x = segs[1];
    x[20 + 2] ^= 1;  // destination port
    refused_after_first(x, "another flow");
    x = segs[1];
    x[20 + 8] ^= 1;  // ack number
    refused_after_first(x, "another ack");
    x = segs[1];
    x[20 + 14] ^= 1;  // window
    refused_after_first(x, "another window");
    x = segs[1];
    x[20 + 25] ^= 1;  // an option byte (timestamp)
    refused_after_first(x, "other options");
    x = segs[1];
    x[1] = 3;  // ECN CE in the TOS byte
    refused_after_first(x, "other TOS");
    x = segs[1];
    x[12] ^= 1;  // source address
    refused_after_first(x, "other source");

    // Flags other than ACK / ACK+PSH never join, not even to start a run.
    for (std::uint8_t f : {std::uint8_t{0x11}, std::uint8_t{0x12}, std::uint8_t{0x14}, std::uint8_t{0x02},
                           std::uint8_t{0x30}, std::uint8_t{0x90}}) {
        x = segs[1];
        x[20 + 13] = f;
        tcp_coalescer c;
        BOOST_TEST(!c.add(x), "flags " << int(f));
        BOOST_REQUIRE(c.add(segs[0]));
        BOOST_TEST(!c.add(x), "flags " << int(f));
    }
    // Not TCP, a fragment, no payload, a truncated header: never.
    tcp_coalescer c;
    x = segs[0];
    x[9] = 17;
    BOOST_TEST(!c.add(x));
    x = segs[0];
    x[6] = 0x20;  // MF
    BOOST_TEST(!c.add(x));
    bytes pure_ack(segs[0].begin(), segs[0].begin() + 52);
    pure_ack[2] = 0;
    pure_ack[3] = 52;
    BOOST_TEST(!c.add(pure_ack));
    BOOST_TEST(!c.add(bytes(segs[0].begin(), segs[0].begin() + 30)));
    BOOST_TEST(c.empty());

    // A longer payload than the first's does not join; a shorter one ends the run.
    auto small = segments_of(s, 1000, 1000);
    tcp_spec later = s;
    later.seq = s.seq + 1000;
    auto longer = segments_of(later, 1348, 1348);
    tcp_coalescer d;
    BOOST_REQUIRE(d.add(small[0]));
    BOOST_TEST(!d.add(longer[0]));  // in sequence, but 1348 > 1000
    tcp_coalescer e;
    auto tail = segments_of(s, 1348 + 500 + 1348, 1348);  // 1348, 1348, 500
    BOOST_REQUIRE(e.add(tail[0]));
    BOOST_REQUIRE(e.add(tail[1]));
    BOOST_REQUIRE(e.add(tail[2]));
    // after the short one the run is closed: the next in sequence is refused
    auto more = segments_of(s, 1348 * 3, 1348);
    bytes next = more[0];
    const std::uint32_t seq = s.seq + 1348 * 2 + 500;
    next[20 + 4] = static_cast<std::uint8_t>(seq >> 24);
    next[20 + 5] = static_cast<std::uint8_t>(seq >> 16);
    next[20 + 6] = static_cast<std::uint8_t>(seq >> 8);
    next[20 + 7] = static_cast<std::uint8_t>(seq);
    BOOST_TEST(!e.add(next));

    // PSH ends a run too.
    tcp_spec p = s;
    p.flags = 0x18;
    auto pushed = segments_of(p, 1348 * 3, 1348);  // PSH only on the last
    tcp_coalescer f;
    for (const auto& seg : pushed) BOOST_REQUIRE(f.add(seg));
    bytes after = pushed[0];
    const std::uint32_t seq2 = s.seq + 1348 * 3;
    after[20 + 4] = static_cast<std::uint8_t>(seq2 >> 24);
    after[20 + 5] = static_cast<std::uint8_t>(seq2 >> 16);
    after[20 + 6] = static_cast<std::uint8_t>(seq2 >> 8);
    after[20 + 7] = static_cast<std::uint8_t>(seq2);
    BOOST_TEST(!f.add(after));
}

BOOST_AUTO_TEST_CASE(runs_are_bounded) {
    tcp_spec s;
    s.flags = 0x10;
    auto many = segments_of(s, 100 * 70, 100);  // 70 segments of 100 bytes
    tcp_coalescer c;
    std::size_t taken = 0;
    while (taken < many.size() && c.add(many[taken])) ++taken;
    BOOST_TEST(taken == tcp_coalescer::max_run);
    auto big = segments_of(s, 1348 * 40, 1348);  // 60 x 1400 bytes > 65535
    tcp_spec rest = s;
    rest.seq = s.seq + 1348 * 40;
    for (auto& seg : segments_of(rest, 1348 * 20, 1348)) big.push_back(seg);
    tcp_coalescer d;
    std::size_t bytes_in = 0;
    taken = 0;
    while (taken < big.size() && d.add(big[taken])) bytes_in += big[taken++].size();
    BOOST_TEST(taken < big.size());
    BOOST_TEST(d.flush().packet.size() <= tcp_coalescer::max_bytes);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(offload_allocations)

// Splitting, checksums and joining run per packet: no allocation at all.
BOOST_AUTO_TEST_CASE(split_and_join_allocate_nothing) {
    tcp_spec s;
    s.flags = 0x10;
    bytes sp = super_packet(s, payload_of(60000));
    const vnet_header h = tso(s, 1348);
    bytes out(1500);
    tcp_coalescer c;
    const std::size_t before = weft::test::new_calls;
    auto plan = plan_segments(sp, h);
    BOOST_REQUIRE(plan.has_value());
    std::size_t joined = 0;
    for (std::size_t i = 0; i < plan->count; ++i) {
        std::size_t n = write_segment(sp, *plan, i, out);
        if (c.add(std::span<const std::uint8_t>(out.data(), n))) ++joined;
    }
    auto o = c.flush();
    const std::size_t after = weft::test::new_calls;
    BOOST_TEST(joined == plan->count);
    BOOST_TEST(!o.packet.empty());
    BOOST_TEST(after == before);
}

BOOST_AUTO_TEST_SUITE_END()
