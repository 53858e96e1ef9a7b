// Fuzz target: the whole receive path of the data plane (data_plane::inbound:
// header checks, sender, key, replay window, AEAD, decompression bound,
// inner packet, anti-spoofing).  First byte: even = the rest is a frame off
// the wire (almost always dropped before or at the tag); odd = the rest is a
// payload that the target seals with the real sender key first, so the
// paths after authentication (decompression of hostile input, malformed
// inner packets, spoofed sources) are reached.  Bit 1 of the first byte
// picks the pair's cipher: AES-128-GCM, or ChaCha20-Poly1305 (composed from
// ChaCha20 and Poly1305, crypto/aead.hpp).  A fresh engine per input keeps
// runs deterministic.
#include <cstdint>
#include <vector>

#include "base/check.hpp"
#include "core/data_plane.hpp"
#include "core/ip_packet.hpp"
#include "core/key_schedule.hpp"
#include "test_pairs.hpp"

namespace {

using namespace weft;

std::shared_ptr<const bnl_index> make_bnl() {
    auto l = parse_bnl(
        "network = fuzz\nversion = 1\nsigned = 2026-01-01T00:00:00Z\n"
        "[node a]\nid = 1\nipv4 = 198.18.0.1\nsubnet = 198.19.1.0/24\nsubnet = 2001:db8:1::/48\n"
        "[node b]\nid = 2\nipv4 = 198.18.0.2\nsubnet = 198.19.2.0/24\nsubnet = 2001:db8:2::/48\n");
    WEFT_CHECK(l.has_value());
    return std::make_shared<const bnl_index>(std::move(l).value());
}

pair_state make_state(std::uint32_t self, std::uint32_t peer, bool chacha) {
    return test::make_pair_state(self, peer, peer == 1 ? "a" : "b",
                                 chacha ? cipher_id::chacha20_poly1305 : cipher_id::aes_128_gcm, 1, 1, 1, 3);
}

crypto::aead_key sealer(const pair_state& s, bool chacha) {
    return crypto::aead_key::create(chacha ? crypto::aead_algorithm::chacha20_poly1305 : crypto::aead_algorithm::aes_128_gcm,
                                    s.current->tx_key.span())
        .value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto bnl = make_bnl();
    static const pair_state senders[2] = {make_state(1, 2, false), make_state(1, 2, true)};
    static crypto::aead_key seal_keys[2] = {sealer(senders[0], false), sealer(senders[1], true)};
    if (size < 1) return 0;
    const bool chacha = (data[0] & 2) != 0;
    const pair_state& sender = senders[chacha];
    crypto::aead_key& seal_key = seal_keys[chacha];
    constexpr unsigned mtu = 1420;
    data_plane b({2, mtu, 4});
    b.set_nodes(bnl);
    WEFT_CHECK(b.install(make_state(2, 1, chacha), true, false));
    const peer_endpoint from{ip_address::v4(198, 18, 0, 1), 3406};
    std::vector<std::uint8_t> frame;
    if ((data[0] & 1) == 0) {
        frame.assign(data + 1, data + size);
    } else {
        if (size < 3 || size - 3 > mtu) return 0;
        // byte 1: compression flag (0..3), byte 2: frame type; then the payload
        const std::size_t n = size - 3;
        frame.resize(frame_header_size + n + frame_tag_size);
        frame_header h{data[2] & 1 ? frame_type::data : frame_type::keepalive, 1,
                       static_cast<std::uint8_t>(data[1] % 3), 1, 0};
        if (h.type == frame_type::keepalive) {
            h.compression = 0;
            frame.resize(frame_overhead);
        } else {
            std::copy(data + 3, data + size, frame.begin() + frame_header_size);
        }
        const std::size_t ct = frame.size() - frame_overhead;
        write_header(std::span(frame).first<frame_header_size>(), h);
        auto nonce = make_nonce(sender.current->tx_salt.span(), 0);
        WEFT_CHECK(seal_key.seal(nonce, std::span(frame).first(frame_header_size),
                                 std::span(frame).subspan(frame_header_size, ct),
                                 std::span(frame).subspan(frame_header_size + ct).first<frame_tag_size>()));
    }
    auto r = b.inbound(frame, from, 1);
    // What is delivered fits the MTU and comes from the sender's subnets.
    if (r.what == data_plane::action::to_tun) {
        WEFT_CHECK(r.out.size() <= mtu);
        auto info = parse_ip_packet(r.out);
        WEFT_CHECK(info.has_value());
        WEFT_CHECK(bnl->owner(info->src) && bnl->owner(info->src)->id == 1);
    }
    // The same frame again is never delivered twice.
    if (r.what == data_plane::action::to_tun || r.what == data_plane::action::keepalive) {
        auto again = b.inbound(frame, from, 1);
        WEFT_CHECK(again.what == data_plane::action::drop);
    }
    return 0;
}
