// The data plane's per-packet cost on one core: outbound (route + seal) on
// one engine and inbound (checks + open + window + anti-spoof) on another,
// for each cipher at 64 B, 1400 B and a 64 KB super-packet split into
// 1400-byte segments.  Prints packets/s and Gbit/s of encrypt+decrypt and
// the ratio to a bare seal+open of the same cipher (what `openssl speed`
// measures): the engine's own overhead.  A program, not a test.
#include <chrono>
#include <cstdio>
#include <numeric>
#include <vector>

#include "base/endian.hpp"
#include "core/data_plane.hpp"
#include "core/key_schedule.hpp"
#include "test_pairs.hpp"

using namespace weft;
using clk = std::chrono::steady_clock;

namespace {

pair_state make_state(std::uint32_t self, std::uint32_t peer, cipher_id c) {
    return test::make_pair_state(self, peer, peer == 1 ? "a" : "b", c, 0, 0, 1, 9);
}

std::vector<std::uint8_t> packet(std::size_t len) {
    std::vector<std::uint8_t> p(len, 0x42);
    std::fill_n(p.begin(), 28, std::uint8_t{0});
    p[0] = 0x45;
    store_be<std::uint16_t>(p, 2, static_cast<std::uint16_t>(len));
    p[8] = 64;
    p[9] = 17;
    const std::uint8_t src[] = {198, 19, 1, 5}, dst[] = {198, 19, 2, 9};
    std::copy(src, src + 4, p.begin() + 12);
    std::copy(dst, dst + 4, p.begin() + 16);
    return p;
}

}  // namespace

int main() {
    auto l = parse_bnl(
        "network = bench\nversion = 1\nsigned = 2026-01-01T00:00:00Z\n"
        "[node a]\nid = 1\nipv4 = 198.18.0.1\nsubnet = 198.19.1.0/24\n"
        "[node b]\nid = 2\nipv4 = 198.18.0.2\nsubnet = 198.19.2.0/24\n");
    auto bnl = std::make_shared<const bnl_index>(std::move(l).value());
    constexpr unsigned mtu = 1420;
    std::printf("%-18s %-12s %12s %10s %14s %8s\n", "cipher", "size", "packets/s", "Gbit/s", "bare AEAD Gb/s", "ratio");
    for (auto c : {cipher_id::aes_256_gcm, cipher_id::chacha20_poly1305, cipher_id::aes_128_gcm}) {
        for (std::size_t size : {64, 1400, 65536}) {
            data_plane a({1, mtu, 4, std::uint64_t{1} << 62}), b({2, mtu, 4});
            a.set_nodes(bnl);
            b.set_nodes(bnl);
            a.install(make_state(1, 2, c), true, false, 0);
            b.install(make_state(2, 1, c), true, false, 0);
            a.set_reservation(2, std::uint64_t{1} << 62);
            const std::size_t seg = std::min<std::size_t>(size, 1400);
            const std::size_t segments = (size + seg - 1) / seg;
            auto p = packet(seg);
            std::vector<std::uint8_t> buf(data_plane::headroom + mtu + data_plane::tailroom);
            std::uint64_t packets = 0, bytes = 0;
            auto t0 = clk::now();
            while (clk::now() - t0 < std::chrono::milliseconds(700)) {
                for (int i = 0; i < 256; ++i)
                    for (std::size_t s = 0; s < segments; ++s) {
                        std::copy(p.begin(), p.end(), buf.begin() + data_plane::headroom);
                        auto out = a.outbound(buf, p.size(), 1);
                        auto in = b.inbound(out.out, {ip_address::v4(198, 18, 0, 1), 3406}, 1);
                        if (in.what != data_plane::action::to_tun) return 1;
                        ++packets;
                        bytes += seg;
                    }
            }
            double secs = std::chrono::duration<double>(clk::now() - t0).count();
            // The same cipher, seal + open of the same bytes, no engine.
            auto key = crypto::aead_key::create(aead_of(c), make_state(1, 2, c).current->tx_key.span()).value();
            std::vector<std::uint8_t> raw(seg + 16);
            std::array<std::uint8_t, 12> nonce{};
            std::uint64_t raw_bytes = 0;
            auto t1 = clk::now();
            while (clk::now() - t1 < std::chrono::milliseconds(400)) {
                for (int i = 0; i < 256; ++i) {
                    store_be<std::uint64_t>(nonce, 4, raw_bytes);
                    (void)key.seal(nonce, std::span(raw).first(16), std::span(raw).subspan(16, seg - 16),
                                   std::span(raw).subspan(seg).first<16>());
                    (void)key.open(nonce, std::span(raw).first(16), std::span(raw).subspan(16, seg - 16),
                                   std::span(raw).subspan(seg).first<16>());
                    raw_bytes += seg;
                }
            }
            double raw_secs = std::chrono::duration<double>(clk::now() - t1).count();
            double gbps = static_cast<double>(bytes) * 8 / secs / 1e9;
            double raw_gbps = static_cast<double>(raw_bytes) * 8 / raw_secs / 1e9;
            char label[32];
            std::snprintf(label, sizeof label, size == 65536 ? "64KB-split" : "%zu B", size);
            std::printf("%-18s %-12s %12.0f %10.2f %14.2f %8.2f\n", std::string(name(c)).c_str(), label,
                        static_cast<double>(packets) / secs, gbps, raw_gbps, gbps / raw_gbps);
        }
    }
    std::printf("\nGbit/s counts inner packet bytes; each packet is sealed and opened once (one core).\n"
                "Compare: openssl speed -elapsed -evp aes-256-gcm -bytes 1400 (seal only).\n");
    return 0;
}
