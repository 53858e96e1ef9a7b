// Two data planes (alpha = 1, beta = 2) exchanging frames through byte
// buffers: every cipher and compression, and every drop with its reason.
#include <boost/test/unit_test.hpp>
#include <cstring>
#include <numeric>

#include "alloc_counter.hpp"
#include "base/endian.hpp"
#include "core/data_plane.hpp"
#include "core/key_schedule.hpp"
#include "test_pairs.hpp"

namespace {

using namespace weft;

pair_state make_state(std::uint32_t self, std::uint32_t peer, cipher_id c, std::uint8_t comp, std::uint8_t level,
                      std::uint32_t epoch, std::uint8_t seed) {
    return test::make_pair_state(self, peer, peer == 1 ? "alpha" : "beta", c, comp, level, epoch, seed);
}

constexpr unsigned mtu = 1420;

bnl_list two_node_list() {
    bnl_list l;
    l.network = "t";
    l.version = 1;
    l.signed_at = 1;
    bnl_node a, b;
    a.name = "alpha";
    a.id = 1;
    a.ipv4 = ip_address::v4(198, 18, 0, 1);
    a.subnets = {parse_prefix("198.19.1.0/24").prefix.value(), parse_prefix("2001:db8:1::/48").prefix.value()};
    b.name = "beta";
    b.id = 2;
    b.ipv4 = ip_address::v4(198, 18, 0, 2);
    b.subnets = {parse_prefix("198.19.2.0/24").prefix.value(), parse_prefix("2001:db8:2::/48").prefix.value()};
    l.nodes = {a, b};
    return l;
}

// An IPv4 UDP packet from src to dst with `payload` bytes of `fill`.
std::vector<std::uint8_t> ipv4_packet(const char* src, const char* dst, std::size_t payload, std::uint8_t fill = 0x5a) {
    std::vector<std::uint8_t> p(20 + 8 + payload, fill);
    std::fill_n(p.begin(), 28, std::uint8_t{0});
    p[0] = 0x45;
    store_be<std::uint16_t>(p, 2, static_cast<std::uint16_t>(p.size()));
    p[8] = 64;
    p[9] = 17;
    auto s = parse_ipv4(src).value(), d = parse_ipv4(dst).value();
    std::copy_n(s.bytes.begin(), 4, p.begin() + 12);
    std::copy_n(d.bytes.begin(), 4, p.begin() + 16);
    store_be<std::uint16_t>(p, 24, static_cast<std::uint16_t>(8 + payload));
    return p;
}

std::vector<std::uint8_t> ipv6_packet(const char* src, const char* dst, std::size_t payload) {
    std::vector<std::uint8_t> p(40 + 8 + payload, 0x33);
    std::fill_n(p.begin(), 48, std::uint8_t{0});
    p[0] = 0x60;
    store_be<std::uint16_t>(p, 4, static_cast<std::uint16_t>(8 + payload));
    p[6] = 17;
    p[7] = 64;
    auto s = parse_ipv6(src).value(), d = parse_ipv6(dst).value();
    std::copy(s.bytes.begin(), s.bytes.end(), p.begin() + 8);
    std::copy(d.bytes.begin(), d.bytes.end(), p.begin() + 24);
    return p;
}

struct pair_fixture {
    std::shared_ptr<const bnl_index> bnl = std::make_shared<const bnl_index>(two_node_list());
    data_plane a{{1, mtu, 8}};
    data_plane b{{2, mtu, 8}};
    std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(data_plane::headroom + mtu + data_plane::tailroom);
    peer_endpoint a_ep{ip_address::v4(198, 18, 0, 1), 3406}, b_ep{ip_address::v4(198, 18, 0, 2), 3406};

    explicit pair_fixture(cipher_id c = cipher_id::aes_256_gcm, std::uint8_t comp = 0, std::uint8_t level = 0) {
        a.set_nodes(bnl);
        b.set_nodes(bnl);
        BOOST_REQUIRE(a.install(make_state(1, 2, c, comp, level, 1, 7), true, false));
        BOOST_REQUIRE(b.install(make_state(2, 1, c, comp, level, 1, 7), true, false));
        a.set_reservation(2, 1u << 20);
        b.set_reservation(1, 1u << 20);
    }
    // alpha seals `packet`; returns the frame bytes.
    std::vector<std::uint8_t> seal(const std::vector<std::uint8_t>& packet, data_plane& from) {
        std::copy(packet.begin(), packet.end(), buf.begin() + data_plane::headroom);
        auto r = from.outbound(buf, packet.size(), 100);
        BOOST_REQUIRE_MESSAGE(r.what == data_plane::action::send,
                              "action " << static_cast<int>(r.what) << " reason " << to_string(r.reason)
                                        << " size " << packet.size());
        return {r.out.begin(), r.out.end()};
    }
    data_plane::result open(std::vector<std::uint8_t> frame, data_plane& to, const peer_endpoint& from) {
        opened = std::move(frame);
        return to.inbound(opened, from, 100);
    }
    std::vector<std::uint8_t> opened;
};

bool delivered(const data_plane::result& r, const std::vector<std::uint8_t>& packet) {
    return r.what == data_plane::action::to_tun && std::equal(r.out.begin(), r.out.end(), packet.begin(), packet.end());
}

std::uint64_t drops(const data_plane& d, std::uint32_t peer, frame_drop why) {
    for (const auto& v : d.peers())
        if (v.id == peer) return v.counters.dropped(why);
    return 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_plane_engine)

BOOST_AUTO_TEST_CASE(round_trip_every_cipher_and_compression) {
    for (auto c : {cipher_id::aes_256_gcm, cipher_id::aes_128_gcm, cipher_id::chacha20_poly1305}) {
        for (auto [comp, level] : {std::pair<int, int>{0, 0}, {1, 1}, {1, 9}, {2, 6}}) {
            pair_fixture f(c, static_cast<std::uint8_t>(comp), static_cast<std::uint8_t>(level));
            for (std::size_t size : {0, 1, 100, 1000, 1372}) {
                auto p4 = ipv4_packet("198.19.1.5", "198.19.2.9", size);
                auto frame = f.seal(p4, f.a);
                if (comp != 0 && size >= 100) BOOST_TEST(frame.size() < p4.size() + frame_overhead);  // compressible
                if (comp == 0) BOOST_TEST(frame.size() == p4.size() + frame_overhead);
                BOOST_TEST(delivered(f.open(frame, f.b, f.a_ep), p4));
                auto p6 = ipv6_packet("2001:db8:2::7", "2001:db8:1::1", size);
                BOOST_TEST(delivered(f.open(f.seal(p6, f.b), f.a, f.b_ep), p6));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(every_single_byte_change_is_rejected_and_changes_nothing) {
    pair_fixture f;
    auto p = ipv4_packet("198.19.1.5", "198.19.2.9", 40);
    auto frame = f.seal(p, f.a);
    for (std::size_t i = 0; i < frame.size(); ++i) {
        auto bad = frame;
        bad[i] ^= 0x01;
        auto r = f.open(bad, f.b, f.a_ep);
        BOOST_TEST_INFO("byte " << i);
        BOOST_TEST((r.what == data_plane::action::drop));
    }
    // The window was never touched: the genuine frame is still accepted once.
    BOOST_TEST(delivered(f.open(frame, f.b, f.a_ep), p));
    BOOST_TEST(drops(f.b, 1, frame_drop::auth_failed) >= 24u);
}

BOOST_AUTO_TEST_CASE(replays_reflections_and_strangers_are_dropped_by_reason) {
    pair_fixture f;
    auto p = ipv4_packet("198.19.1.5", "198.19.2.9", 40);
    auto frame = f.seal(p, f.a);
    BOOST_TEST(delivered(f.open(frame, f.b, f.a_ep), p));
    auto again = f.open(frame, f.b, f.a_ep);
    BOOST_TEST((again.what == data_plane::action::drop && again.reason == frame_drop::replay));
    BOOST_TEST(drops(f.b, 1, frame_drop::replay) == 1u);
    // Reflected to its sender: alpha's own id in the header.
    auto refl = f.open(frame, f.a, f.b_ep);
    BOOST_TEST((refl.reason == frame_drop::own_sender));
    // A frame claiming to come from a node id not in the list.
    auto stranger = f.seal(p, f.a);
    store_be<std::uint32_t>(stranger, frame_sender_offset, 99);
    auto r = f.open(stranger, f.b, f.a_ep);
    BOOST_TEST((r.reason == frame_drop::unknown_sender));
    BOOST_TEST(f.b.unattributed().dropped(frame_drop::unknown_sender) == 1u);
}

BOOST_AUTO_TEST_CASE(spoofed_inner_source_is_dropped) {
    pair_fixture f;
    // alpha may only send from its own subnets: 198.19.2.5 is beta's.
    auto p = ipv4_packet("198.19.2.5", "198.19.2.9", 40);
    auto r = f.open(f.seal(p, f.a), f.b, f.a_ep);
    BOOST_TEST((r.reason == frame_drop::spoofed_source));
    auto p2 = ipv4_packet("203.0.113.1", "198.19.2.9", 40);
    r = f.open(f.seal(p2, f.a), f.b, f.a_ep);
    BOOST_TEST((r.reason == frame_drop::spoofed_source));
    BOOST_TEST(drops(f.b, 1, frame_drop::spoofed_source) == 2u);
}

BOOST_AUTO_TEST_CASE(a_compression_bomb_is_dropped) {
    pair_fixture f(cipher_id::aes_256_gcm, 1, 1);
    // Seal a lz4 stream of 1 MiB of zeros with alpha's real key, by hand.
    compressor c;
    std::vector<std::uint8_t> zeros(256 * 1024, 0), packed(compression_scratch_size(256 * 1024));
    auto n = c.compress(compression_algorithm::lz4, 1, zeros, packed);
    BOOST_REQUIRE(n);
    BOOST_REQUIRE(*n + frame_overhead <= mtu + frame_overhead);
    auto st = make_state(1, 2, cipher_id::aes_256_gcm, 1, 1, 1, 7);
    auto key = crypto::aead_key::create(crypto::aead_algorithm::aes_256_gcm, st.current->tx_key.span()).value();
    std::vector<std::uint8_t> frame(frame_header_size + *n + frame_tag_size);
    write_header(std::span(frame).first<frame_header_size>(), {frame_type::data, 1, 1, 1, 500});
    std::copy_n(packed.begin(), *n, frame.begin() + frame_header_size);
    auto nonce = make_nonce(st.current->tx_salt.span(), 500);
    BOOST_REQUIRE(key.seal(nonce, std::span(frame).first(16), std::span(frame).subspan(16, *n),
                           std::span(frame).subspan(16 + *n).first<16>()));
    auto r = f.open(frame, f.b, f.a_ep);
    BOOST_TEST((r.reason == frame_drop::decompress_too_big));
}

BOOST_AUTO_TEST_CASE(no_route_answers_icmp_unreachable_and_queues_wait_for_keys) {
    std::shared_ptr<const bnl_index> bnl = std::make_shared<const bnl_index>(two_node_list());
    data_plane a({1, mtu, 4});
    a.set_nodes(bnl);
    std::vector<std::uint8_t> buf(data_plane::headroom + mtu + data_plane::tailroom);
    auto p = ipv4_packet("198.19.1.5", "198.19.99.9", 40);  // nobody's subnet
    std::copy(p.begin(), p.end(), buf.begin() + data_plane::headroom);
    auto r = a.outbound(buf, p.size(), 1);
    BOOST_REQUIRE((r.what == data_plane::action::to_tun));
    BOOST_TEST(r.out[9] == 1);    // ICMP
    BOOST_TEST(r.out[20] == 3);   // destination unreachable
    BOOST_TEST(a.unattributed().dropped(frame_drop::no_route) == 1u);
    // To beta without keys: queued (4 at most), then drained in order once keys arrive.
    for (int i = 0; i < 6; ++i) {
        auto q = ipv4_packet("198.19.1.5", "198.19.2.9", 10, static_cast<std::uint8_t>(i));
        std::copy(q.begin(), q.end(), buf.begin() + data_plane::headroom);
        r = a.outbound(buf, q.size(), 1);
        BOOST_TEST((r.what == (i < 4 ? data_plane::action::queued : data_plane::action::drop)));
        BOOST_TEST(r.peer == 2u);
    }
    BOOST_TEST(drops(a, 2, frame_drop::queue_full) == 2u);
    BOOST_REQUIRE(a.install(make_state(1, 2, cipher_id::aes_256_gcm, 0, 0, 1, 7), true, false));
    data_plane b({2, mtu, 4});
    b.set_nodes(bnl);
    BOOST_REQUIRE(b.install(make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 1, 7), true, false));
    // The first drain asks for a counter reservation before any counter is used.
    r = a.drain_one(2, buf, 1);
    BOOST_REQUIRE((r.what == data_plane::action::reserve));
    BOOST_TEST(r.reserve_to == counter_reservation_block);
    a.set_reservation(2, r.reserve_to);
    for (int i = 0; i < 4; ++i) {
        r = a.drain_one(2, buf, 1);
        BOOST_REQUIRE((r.what == data_plane::action::send));
        std::vector<std::uint8_t> frame(r.out.begin(), r.out.end());
        auto in = b.inbound(frame, {ip_address::v4(198, 18, 0, 1), 3406}, 1);
        BOOST_REQUIRE((in.what == data_plane::action::to_tun));
        BOOST_TEST(in.out.back() == i);  // in order
    }
    BOOST_TEST((a.drain_one(2, buf, 1).what == data_plane::action::drop));
}

BOOST_AUTO_TEST_CASE(counters_never_pass_the_reservation) {
    pair_fixture f;
    f.a.set_reservation(2, (1u << 20) + 0);  // no change: already there
    auto p = ipv4_packet("198.19.1.5", "198.19.2.9", 10);
    std::copy(p.begin(), p.end(), f.buf.begin() + data_plane::headroom);
    data_plane small({1, mtu, 8, 3});  // reservation blocks of 3 counters
    small.set_nodes(f.bnl);
    BOOST_REQUIRE(small.install(make_state(1, 2, cipher_id::aes_256_gcm, 0, 0, 1, 7), true, false));
    std::vector<std::uint64_t> seen;
    for (int i = 0; i < 10; ++i) {
        auto r = small.outbound(f.buf, p.size(), 1);
        if (r.what == data_plane::action::reserve) {
            small.set_reservation(2, r.reserve_to);
            r = small.outbound(f.buf, p.size(), 1);
        }
        BOOST_REQUIRE((r.what == data_plane::action::send));
        seen.push_back(load_be64(r.out, frame_counter_offset));
        std::copy(p.begin(), p.end(), f.buf.begin() + data_plane::headroom);
    }
    for (std::size_t i = 0; i < seen.size(); ++i) BOOST_TEST(seen[i] == i);
}

BOOST_AUTO_TEST_CASE(restart_rules_clean_and_unclean) {
    pair_fixture f;
    auto p = ipv4_packet("198.19.1.5", "198.19.2.9", 10);
    std::vector<std::vector<std::uint8_t>> captured;
    for (int i = 0; i < 5; ++i) {
        captured.push_back(f.seal(p, f.a));
        BOOST_TEST(delivered(f.open(captured.back(), f.b, f.a_ep), p));
    }
    auto live = f.b.counters_of(1).value();
    BOOST_TEST(live.rx_seen);
    BOOST_TEST(live.rx_highest == 4u);
    BOOST_TEST(live.trusted_highwater(1).value() == 5u);
    BOOST_TEST(!live.trusted_highwater(2));  // another epoch's window says nothing

    // Clean restart of beta: the window comes back from rx_highwater.
    auto st = make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 1, 7);
    st.clean_shutdown = true;
    st.current->rx_highwater = live.rx_highest + 1;
    data_plane b2({2, mtu, 8});
    b2.set_nodes(f.bnl);
    BOOST_REQUIRE(b2.install(st, true, true));
    for (auto& c : captured) {
        auto r = b2.inbound(c, f.a_ep, 100);
        BOOST_TEST((r.reason == frame_drop::replay));
    }
    auto fresh = f.seal(p, f.a);
    BOOST_TEST(delivered(b2.inbound(fresh, f.a_ep, 100), p));

    // Unclean restart: nothing under the old keys is accepted.
    data_plane b3({2, mtu, 8});
    b3.set_nodes(f.bnl);
    BOOST_REQUIRE(b3.install(make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 1, 7), false, true));
    auto later = f.seal(p, f.a);
    BOOST_TEST((b3.inbound(later, f.a_ep, 100).reason == frame_drop::not_accepting));
    // A clean stop now must not vouch for this (empty) window: saved as
    // clean, the next start would accept every captured frame again.
    BOOST_TEST(!b3.counters_of(1).value().trusted_highwater(1));
    // ... until a fresh epoch is installed.
    BOOST_REQUIRE(b3.install(make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 2, 9), true, false));
    BOOST_REQUIRE(f.a.install(make_state(1, 2, cipher_id::aes_256_gcm, 0, 0, 2, 9), true, false));
    f.a.set_reservation(2, 1u << 20);
    auto fresh2 = f.seal(p, f.a);
    BOOST_TEST(delivered(b3.inbound(fresh2, f.a_ep, 100), p));
    BOOST_TEST(b3.counters_of(1).value().trusted_highwater(2).value() == 1u);
}

// A rekey that persisted but never confirmed: the receive key is the new
// epoch while the stored pair (and the send key) are still the old one.  A
// clean stop then has no trustworthy window for the stored epoch.
BOOST_AUTO_TEST_CASE(clean_stop_window_belongs_to_the_stored_epoch) {
    pair_fixture f;
    auto p = ipv4_packet("198.19.1.5", "198.19.2.9", 10);
    for (int i = 0; i < 3; ++i) BOOST_TEST(delivered(f.open(f.seal(p, f.a), f.b, f.a_ep), p));
    BOOST_TEST(f.b.counters_of(1).value().trusted_highwater(1).value() == 3u);
    auto next = make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 2, 9);
    next.previous = make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 1, 7).current;
    BOOST_REQUIRE(f.b.accept_epoch(next));
    auto live = f.b.counters_of(1).value();
    BOOST_TEST(live.rx_epoch.value() == 2u);
    BOOST_TEST(!live.trusted_highwater(1));
    BOOST_TEST(live.trusted_highwater(2).value() == 0u);
}

BOOST_AUTO_TEST_CASE(previous_epoch_is_accepted_only_during_its_grace) {
    pair_fixture f;
    auto p = ipv4_packet("198.19.1.5", "198.19.2.9", 10);
    auto old1 = f.seal(p, f.a), old2 = f.seal(p, f.a);
    BOOST_TEST(delivered(f.open(old1, f.b, f.a_ep), p));
    // beta rekeys to epoch 2; epoch 1 stays until t=200.
    auto st = make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 2, 11);
    st.previous = make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 1, 7).current->clone();
    st.previous->valid_until = 200;
    BOOST_REQUIRE(f.b.install(st, true, false));
    BOOST_TEST(delivered(f.b.inbound(old2, f.a_ep, 150), p));          // in grace
    BOOST_TEST((f.b.inbound(old1, f.a_ep, 150).reason == frame_drop::replay));  // window kept across the step
    auto old3 = f.seal(p, f.a);
    BOOST_TEST((f.b.inbound(old3, f.a_ep, 200).reason == frame_drop::no_key));  // grace over
}

// A negotiation persisted epoch 2 (accepted at once), then failed before
// CONFIRM; the next one, epoch 3, still has epoch 1 as its previous.  Epoch
// 1's window survives both steps and the install: its captured frames stay
// replays, and epoch 2's keys are gone.
BOOST_AUTO_TEST_CASE(an_unconfirmed_epoch_never_reopens_the_previous_window) {
    pair_fixture f;
    auto p = ipv4_packet("198.19.1.5", "198.19.2.9", 10);
    auto old1 = f.seal(p, f.a);
    BOOST_TEST(delivered(f.open(old1, f.b, f.a_ep), p));
    auto with_previous = [](pair_state st) {
        st.previous = make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 1, 7).current->clone();
        st.previous->valid_until = 300;
        return st;
    };
    BOOST_REQUIRE(f.b.accept_epoch(with_previous(make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 2, 11))));
    auto b3 = with_previous(make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 3, 13));
    BOOST_REQUIRE(f.b.accept_epoch(b3));
    BOOST_TEST((f.b.inbound(old1, f.a_ep, 100).reason == frame_drop::replay));
    BOOST_REQUIRE(f.b.install(b3, true, false));
    BOOST_TEST((f.b.inbound(old1, f.a_ep, 101).reason == frame_drop::replay));
    auto fresh1 = f.seal(p, f.a);
    BOOST_TEST(delivered(f.b.inbound(fresh1, f.a_ep, 102), p));  // epoch 1, in grace
    // A sender on the abandoned epoch 2 is not heard.
    pair_fixture g;
    BOOST_REQUIRE(g.a.install(make_state(1, 2, cipher_id::aes_256_gcm, 0, 0, 2, 11), true, false));
    g.a.set_reservation(2, 1u << 20);
    auto abandoned = g.seal(p, g.a);
    BOOST_TEST((f.b.inbound(abandoned, f.a_ep, 103).reason == frame_drop::no_key));
}

// The race a fast rekey exposed: the peer hears our CONFIRM and sends under
// the new epoch before its CONFIRM reaches us.  Once persisted, the new
// epoch is accepted; we keep sending under the old one until install().
BOOST_AUTO_TEST_CASE(a_persisted_epoch_is_accepted_before_the_peers_confirm) {
    pair_fixture f;
    auto p = ipv4_packet("198.19.1.5", "198.19.2.9", 10);
    auto old1 = f.seal(p, f.a);
    // alpha completes epoch 2 first and sends under it at once.
    auto a2 = make_state(1, 2, cipher_id::aes_256_gcm, 0, 0, 2, 11);
    a2.previous = make_state(1, 2, cipher_id::aes_256_gcm, 0, 0, 1, 7).current->clone();
    a2.previous->valid_until = 130;
    BOOST_REQUIRE(f.a.install(a2, true, false));
    f.a.set_reservation(2, 1u << 20);
    auto new1 = f.seal(p, f.a);
    BOOST_TEST((f.b.inbound(new1, f.a_ep, 100).reason == frame_drop::no_key));  // beta has not persisted yet
    // beta persisted epoch 2 and sent CONFIRM; alpha's CONFIRM is on its way.
    auto b2 = make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 2, 11);
    b2.previous = make_state(2, 1, cipher_id::aes_256_gcm, 0, 0, 1, 7).current->clone();
    b2.previous->valid_until = 130;
    BOOST_REQUIRE(f.b.accept_epoch(b2));
    auto new2 = f.seal(p, f.a);
    BOOST_TEST(delivered(f.b.inbound(new2, f.a_ep, 100), p));
    BOOST_TEST(delivered(f.b.inbound(old1, f.a_ep, 100), p));  // the old epoch: still accepted, in grace
    // beta still sends under epoch 1, which alpha accepts as its previous.
    auto back = f.seal(ipv4_packet("198.19.2.9", "198.19.1.5", 10), f.b);
    BOOST_TEST(back[1] == 1u);  // epoch byte: see FRAME.md
    // The full install keeps the window of epoch 2 (no replay reopened).
    BOOST_REQUIRE(f.b.install(b2, true, false));
    BOOST_TEST((f.b.inbound(new2, f.a_ep, 101).reason == frame_drop::replay));
    // Unknown peer or foreign state: refused.
    auto stranger = make_state(2, 9, cipher_id::aes_256_gcm, 0, 0, 3, 1);
    BOOST_TEST(!f.b.accept_epoch(stranger));
}

// A re-pinned node keeps its id and name: its old keys must go anyway.
BOOST_AUTO_TEST_CASE(forgotten_keys_are_neither_accepted_nor_used) {
    pair_fixture f;
    auto p = ipv4_packet("198.19.1.5", "198.19.2.9", 10);
    auto frame = f.seal(p, f.a);
    f.b.forget_keys(1);
    BOOST_TEST((f.b.inbound(frame, f.a_ep, 100).reason == frame_drop::no_key));
    auto back = ipv4_packet("198.19.2.9", "198.19.1.5", 10);
    std::copy(back.begin(), back.end(), f.buf.begin() + data_plane::headroom);
    auto r = f.b.outbound(f.buf, back.size(), 100);
    BOOST_TEST((r.what == data_plane::action::queued));  // waits for a new negotiation
    f.b.forget_keys(99);  // unknown: nothing happens
}

BOOST_AUTO_TEST_CASE(roaming_only_on_authenticated_new_frames) {
    pair_fixture f;
    auto p = ipv4_packet("198.19.1.5", "198.19.2.9", 10);
    peer_endpoint moved{ip_address::v4(198, 18, 9, 9), 4000};
    auto frame = f.seal(p, f.a);
    auto r = f.open(frame, f.b, moved);
    BOOST_TEST(r.endpoint_moved);
    BOOST_TEST((f.b.peers()[0].endpoint.value() == moved));
    // A replay from yet another address moves nothing.
    peer_endpoint attacker{ip_address::v4(198, 18, 6, 6), 5000};
    r = f.open(frame, f.b, attacker);
    BOOST_TEST(!r.endpoint_moved);
    BOOST_TEST((f.b.peers()[0].endpoint.value() == moved));
    // Neither does a forged frame.
    auto forged = f.seal(p, f.a);
    forged[20] ^= 1;
    r = f.open(forged, f.b, attacker);
    BOOST_TEST(!r.endpoint_moved);
    BOOST_TEST((f.b.peers()[0].endpoint.value() == moved));
}

BOOST_AUTO_TEST_CASE(the_packet_path_allocates_nothing) {
    for (auto [comp, level] : {std::pair<int, int>{0, 0}, {1, 1}, {2, 6}}) {
        pair_fixture f(cipher_id::aes_256_gcm, static_cast<std::uint8_t>(comp), static_cast<std::uint8_t>(level));
        auto p = ipv4_packet("198.19.1.5", "198.19.2.9", 1000);
        std::vector<std::uint8_t> frame(p.size() + frame_overhead + 64);
        std::size_t before = weft::test::new_calls;
        std::size_t delivered_count = 0;
        for (int i = 0; i < 1000; ++i) {
            std::copy(p.begin(), p.end(), f.buf.begin() + data_plane::headroom);
            auto out = f.a.outbound(f.buf, p.size(), 100);
            if (out.what != data_plane::action::send) break;
            std::copy(out.out.begin(), out.out.end(), frame.begin());
            auto in = f.b.inbound(std::span(frame).first(out.out.size()), f.a_ep, 100);
            delivered_count += in.what == data_plane::action::to_tun;
            // and a forged one, dropped
            frame[20] ^= 1;
            (void)f.b.inbound(std::span(frame).first(out.out.size()), f.a_ep, 100);
        }
        BOOST_TEST(delivered_count == 1000u);
        BOOST_TEST(weft::test::new_calls == before);
    }
}

BOOST_AUTO_TEST_SUITE_END()
