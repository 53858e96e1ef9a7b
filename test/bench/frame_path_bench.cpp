// The data plane's per-packet cost on one core: outbound (route + seal) on
// one engine and inbound (checks + open + window + anti-spoof) on another,
// for each cipher at 64 B, 1400 B and a 64 KB TCP super-packet split into
// 1400-byte segments by core/segmentation (as a TUN read with TSO gives
// it: the split, its checksums and the copies are in the figure).  Prints
// packets/s and Gbit/s of encrypt+decrypt, the ratio to a bare seal+open
// of the same cipher in this process (the engine's own overhead), and the
// ratio to `openssl speed -aead -evp CIPHER -bytes SIZE` run now, on this
// machine: openssl measures sealing only, so the ratio is against half its
// rate (one seal + one open per packet).  Each rate is the best of several
// short slices (the engine's and the bare ones interleaved) and of three
// openssl runs: other load and a VM's stolen time only ever make a slice
// slower, so the best one is the figure that repeats.  Last, the Internet
// checksum that splitting and coalescing run over every segment: ns per
// 1400 bytes for the path checksum_add() takes here and for the portable
// loop.  A program, not a test.
//   bench_frame_path [--no-openssl]
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "app/openssl_cpu.hpp"
#include "base/endian.hpp"
#include "base/inet_checksum.hpp"
#include "core/data_plane.hpp"
#include "core/key_schedule.hpp"
#include "core/segmentation.hpp"
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

// A TCP/IPv4 super-packet of `payload` bytes from 198.19.1.5 to 198.19.2.9.
std::vector<std::uint8_t> tcp_super_packet(std::size_t payload) {
    std::vector<std::uint8_t> p(40 + payload, 0x42);
    std::fill_n(p.begin(), 40, std::uint8_t{0});
    p[0] = 0x45;
    store_be<std::uint16_t>(p, 2, static_cast<std::uint16_t>(p.size()));
    p[8] = 64;
    p[9] = 6;
    const std::uint8_t src[] = {198, 19, 1, 5}, dst[] = {198, 19, 2, 9};
    std::copy(src, src + 4, p.begin() + 12);
    std::copy(dst, dst + 4, p.begin() + 16);
    p[32] = 0x50;
    p[33] = 0x10;
    return p;
}

// openssl speed's rate for one cipher and size, bytes/s (0 if unavailable).
double openssl_speed_once(const char* cipher, std::size_t bytes) {
    std::string cmd = std::string("openssl speed -elapsed -seconds 1 -mr -aead -evp ") + cipher + " -bytes " +
                      std::to_string(bytes) + " 2>/dev/null";
    FILE* f = ::popen(cmd.c_str(), "r");
    if (!f) return 0;
    char line[256];
    double rate = 0;
    while (std::fgets(line, sizeof line, f)) {
        if (std::strncmp(line, "+F:", 3) != 0) continue;
        const char* last = std::strrchr(line, ':');
        if (last) rate = std::strtod(last + 1, nullptr);
    }
    ::pclose(f);
    return rate;
}

// The best of three runs.
double openssl_speed(const char* cipher, std::size_t bytes) {
    double best = 0;
    for (int i = 0; i < 3; ++i) best = std::max(best, openssl_speed_once(cipher, bytes));
    return best;
}

// Rates of one slice: work units (packets) and bytes per second.
struct rate {
    double per_s = 0, bytes_per_s = 0;
};

// Runs `step` (one batch: adds to `units` and `bytes`) for `length`.
template <class Step>
rate slice(Step&& step, std::chrono::milliseconds length) {
    std::uint64_t units = 0, bytes = 0;
    const auto t0 = clk::now();
    while (clk::now() - t0 < length) step(units, bytes);
    const double secs = std::chrono::duration<double>(clk::now() - t0).count();
    return {static_cast<double>(units) / secs, static_cast<double>(bytes) / secs};
}

const char* openssl_name(cipher_id c) {
    switch (c) {
        case cipher_id::aes_256_gcm: return "aes-256-gcm";
        case cipher_id::aes_128_gcm: return "aes-128-gcm";
        case cipher_id::chacha20_poly1305: return "chacha20-poly1305";
    }
    return "";
}

}  // namespace

int main(int argc, char** argv) {
    // Under the OpenSSL CPU features weftd runs with (and openssl speed,
    // started from here, inherits them).
    run_under_tuned_openssl(argv);
    const bool with_openssl = !(argc > 1 && std::strcmp(argv[1], "--no-openssl") == 0);
    auto l = parse_bnl(
        "network = bench\nversion = 1\nsigned = 2026-01-01T00:00:00Z\n"
        "[node a]\nid = 1\nipv4 = 198.18.0.1\nsubnet = 198.19.1.0/24\n"
        "[node b]\nid = 2\nipv4 = 198.18.0.2\nsubnet = 198.19.2.0/24\n");
    auto bnl = std::make_shared<const bnl_index>(std::move(l).value());
    constexpr unsigned mtu = 1420;
    std::printf("%-18s %-11s %10s %8s %9s %6s %13s %7s\n", "cipher", "size", "packets/s", "Gbit/s", "bare Gb/s",
                "ratio", "openssl Gb/s", "ratio");
    for (auto c : {cipher_id::aes_256_gcm, cipher_id::chacha20_poly1305, cipher_id::aes_128_gcm}) {
        for (std::size_t size : {64, 1400, 65536}) {
            data_plane a({1, mtu, 4, std::uint64_t{1} << 62}), b({2, mtu, 4});
            a.set_nodes(bnl);
            b.set_nodes(bnl);
            a.install(make_state(1, 2, c), true, false);
            b.install(make_state(2, 1, c), true, false);
            a.set_reservation(2, std::uint64_t{1} << 62);
            const std::size_t seg = std::min<std::size_t>(size, 1400);
            const bool split = size > 1400;
            auto p = packet(seg);
            // 64 KB: one TSO super-packet (65535 bytes in all), 1360-byte
            // segments of 1400 bytes, the last shorter.
            auto super = tcp_super_packet(65535 - 40);
            vnet_header vh;
            vh.gso_type = vnet::gso_tcpv4;
            vh.gso_size = 1360;
            auto plan = plan_segments(super, vh);
            if (!plan) return 1;
            std::vector<std::uint8_t> buf(data_plane::headroom + mtu + data_plane::tailroom);
            bool broken = false;
            auto engine = [&](std::uint64_t& packets, std::uint64_t& bytes) {
                for (int i = 0; i < (split ? 8 : 256); ++i) {
                    const std::size_t segments = split ? plan->count : 1;
                    for (std::size_t s = 0; s < segments; ++s) {
                        std::size_t len = p.size();
                        if (split)
                            len = write_segment(super, *plan, s, std::span(buf).subspan(data_plane::headroom, mtu));
                        else
                            std::copy(p.begin(), p.end(), buf.begin() + data_plane::headroom);
                        auto out = a.outbound(buf, len, 1);
                        auto in = b.inbound(out.out, {ip_address::v4(198, 18, 0, 1), 3406}, 1);
                        if (in.what != data_plane::action::to_tun) broken = true;
                        ++packets;
                        bytes += len;
                    }
                }
            };
            // The same cipher, seal + open of the same bytes, no engine.
            auto key = crypto::aead_key::create(aead_of(c), make_state(1, 2, c).current->tx_key.span()).value();
            std::vector<std::uint8_t> raw(seg + 16);
            std::array<std::uint8_t, 12> nonce{};
            std::uint64_t counter = 0;
            auto bare = [&](std::uint64_t& packets, std::uint64_t& bytes) {
                for (int i = 0; i < 256; ++i) {
                    store_be<std::uint64_t>(nonce, 4, ++counter);
                    (void)key.seal(nonce, std::span(raw).first(16), std::span(raw).subspan(16, seg - 16),
                                   std::span(raw).subspan(seg).first<16>());
                    (void)key.open(nonce, std::span(raw).first(16), std::span(raw).subspan(16, seg - 16),
                                   std::span(raw).subspan(seg).first<16>());
                    ++packets;
                    bytes += seg;
                }
            };
            rate best, best_bare;
            for (int k = 0; k < 10; ++k) {
                rate r = slice(engine, std::chrono::milliseconds(70));
                if (broken) return 1;
                if (r.bytes_per_s > best.bytes_per_s) best = r;
                rate q = slice(bare, std::chrono::milliseconds(40));
                if (q.bytes_per_s > best_bare.bytes_per_s) best_bare = q;
            }
            const double gbps = best.bytes_per_s * 8 / 1e9;
            const double raw_gbps = best_bare.bytes_per_s * 8 / 1e9;
            // openssl seals only: per packet we seal and open, so half its rate.
            const double ossl_gbps = with_openssl ? openssl_speed(openssl_name(c), seg) * 8 / 1e9 : 0;
            char label[32];
            std::snprintf(label, sizeof label, split ? "64KB-split" : "%zu B", size);
            std::printf("%-18s %-11s %10.0f %8.2f %9.2f %6.2f %13.2f %7s\n", std::string(name(c)).c_str(), label,
                        best.per_s, gbps, raw_gbps, gbps / raw_gbps, ossl_gbps,
                        ossl_gbps > 0 ? std::to_string(gbps / (ossl_gbps / 2)).substr(0, 4).c_str() : "-");
        }
    }
    // Back-to-back checksums of one 1400-byte segment, both paths,
    // interleaved slices.
    std::vector<std::uint8_t> segment(1400);
    for (std::size_t i = 0; i < segment.size(); ++i) segment[i] = static_cast<std::uint8_t>(i * 131 + 7);
    volatile std::uint64_t sink = 0;  // every sum is kept, so none is optimised away
    auto sum_with = [&](auto fn) {
        return [&sink, &segment, fn](std::uint64_t& units, std::uint64_t& bytes) {
            for (int i = 0; i < 1024; ++i) sink = fn(sink, segment);
            units += 1024;
            bytes += 1024 * segment.size();
        };
    };
    auto chosen = sum_with(checksum_add);
    auto portable = sum_with(checksum_add_portable);
    rate best_chosen, best_portable;
    for (int k = 0; k < 10; ++k) {
        if (rate r = slice(chosen, std::chrono::milliseconds(20)); r.per_s > best_chosen.per_s) best_chosen = r;
        if (rate r = slice(portable, std::chrono::milliseconds(20)); r.per_s > best_portable.per_s) best_portable = r;
    }
    std::printf("\n%-18s %-11s %10s %8s\n", "checksum", "size", "ns", "Gbit/s");
    std::printf("%-18s %-11s %10.1f %8.2f\n", checksum_add_uses_avx2() ? "checksum_add avx2" : "checksum_add",
                "1400 B", 1e9 / best_chosen.per_s, best_chosen.bytes_per_s * 8 / 1e9);
    std::printf("%-18s %-11s %10.1f %8.2f\n", "portable", "1400 B", 1e9 / best_portable.per_s,
                best_portable.bytes_per_s * 8 / 1e9);
    std::printf("\nGbit/s counts inner packet bytes; each packet is sealed and opened once (one core).\n"
                "bare: seal+open of the same bytes in this process; ratio = Gbit/s / bare.\n"
                "openssl: `openssl speed -elapsed -aead -evp CIPHER -bytes SIZE` (seal only), run now;\n"
                "its ratio = Gbit/s / (openssl / 2).  64KB-split: 1400-byte segments (the last shorter).\n");
    return 0;
}
