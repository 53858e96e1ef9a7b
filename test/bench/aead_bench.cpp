// AEAD throughput on one core, as the data plane uses it: one long-lived
// aead_key, a 16-byte AAD (the frame header), in-place packets, a fresh
// counter nonce per packet.  For each algorithm and packet size it runs
// seal() alone and seal()+open() pairs for about a second each.
//
// Rates are per second of this thread's CPU time ("one core"), so that other
// work on a shared machine does not distort them; the last column says which
// share of the wall-clock time the thread really ran.  Below ~90% the machine
// was busy, and figures from `openssl speed -elapsed` (wall time) taken in the
// same minute are depressed by the same contention.
//
// Prints figures and never fails: a number is for a human to compare, above
// all with OpenSSL's own loop on the same machine in the same minute.
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/openssl_cpu.hpp"
#include "base/endian.hpp"
#include "crypto/aead.hpp"
#include "crypto/random.hpp"

namespace {

using weft::crypto::aead_algorithm;
using weft::crypto::aead_key;
using clock_type = std::chrono::steady_clock;

constexpr std::chrono::milliseconds run_time{1000};

struct figures {
    double packets_per_s = 0;  // per CPU second
    double gbit_per_s = 0;     // payload bits only, headers and tags not counted
    double cpu_share = 0;      // CPU time / wall time
    bool failed = false;
};

double thread_cpu_seconds() {
    timespec ts{};
    // A failure shows as "nan" in the figures rather than as a wrong number.
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return std::nan("");
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::array<std::uint8_t, weft::crypto::aead_nonce_size> counter_nonce(std::uint64_t counter) {
    std::array<std::uint8_t, weft::crypto::aead_nonce_size> n{};
    weft::store_be<std::uint64_t>(n, 4, counter);
    return n;
}

// Runs `step(counter)` until run_time has passed, reading the clock only
// every 64 steps so that the clock does not show up in small-packet figures.
template <class Step>
figures measure(std::size_t payload, Step step) {
    std::uint64_t counter = 0;
    bool failed = false;
    const double cpu_start = thread_cpu_seconds();
    const auto start = clock_type::now();
    auto now = start;
    while (now - start < run_time) {
        for (int i = 0; i < 64; ++i) failed |= !step(counter++);
        now = clock_type::now();
    }
    const double cpu = thread_cpu_seconds() - cpu_start;
    const double wall = std::chrono::duration<double>(now - start).count();
    figures f;
    f.packets_per_s = static_cast<double>(counter) / cpu;
    f.gbit_per_s = f.packets_per_s * static_cast<double>(payload) * 8.0 / 1e9;
    f.cpu_share = cpu / wall;
    f.failed = failed;
    return f;
}

}  // namespace

// Usage: bench_aead [ALGORITHM|all [BYTES]]  (default: every algorithm, 64,
// 1400 and 16384 bytes).  A subset makes quick A/B runs against openssl speed.
int main(int argc, char** argv) {
    // Under the OpenSSL CPU features weftd runs with.
    weft::run_under_tuned_openssl(argv);
    std::vector<aead_algorithm> algorithms(weft::crypto::all_aead_algorithms.begin(),
                                           weft::crypto::all_aead_algorithms.end());
    std::vector<std::size_t> sizes{64, 1400, 16384};
    if (argc > 1 && std::string_view(argv[1]) != "all") {
        auto alg = weft::crypto::parse_aead_algorithm(argv[1]);
        if (!alg) {
            std::fprintf(stderr, "unknown algorithm %s\n", argv[1]);
            return 0;  // a bench never fails
        }
        algorithms = {*alg};
    }
    if (argc > 2) sizes = {static_cast<std::size_t>(std::strtoul(argv[2], nullptr, 10))};

    std::printf("weft AEAD bench: one core, in place, 16-byte AAD, ~%lld ms per case\n",
                static_cast<long long>(run_time.count()));
    std::printf("%-18s %6s  %14s %9s  %15s %9s  %5s\n", "algorithm", "bytes", "seal pkt/s",
                "Gbit/s", "seal+open pkt/s", "Gbit/s", "cpu%");
    for (aead_algorithm alg : algorithms) {
        std::vector<std::uint8_t> key_bytes(weft::crypto::key_size(alg));
        weft::crypto::random_bytes(key_bytes);
        auto created = aead_key::create(alg, key_bytes);
        if (!created) {
            std::printf("%-18s unavailable: %s\n", std::string(weft::crypto::name(alg)).c_str(),
                        created.error().message.c_str());
            continue;
        }
        aead_key key = std::move(created).value();
        std::array<std::uint8_t, 16> aad{};
        weft::crypto::random_bytes(aad);
        std::array<std::uint8_t, weft::crypto::aead_tag_size> tag{};

        for (std::size_t size : sizes) {
            std::vector<std::uint8_t> packet(size);
            weft::crypto::random_bytes(packet);

            const figures seal_only = measure(size, [&](std::uint64_t counter) {
                return key.seal(counter_nonce(counter), aad, packet, tag);
            });
            const figures round_trip = measure(size, [&](std::uint64_t counter) {
                const auto nonce = counter_nonce(counter);
                return key.seal(nonce, aad, packet, tag) && key.open(nonce, aad, packet, tag);
            });
            const double share = std::min(seal_only.cpu_share, round_trip.cpu_share);
            std::printf("%-18s %6zu  %14.0f %9.2f  %15.0f %9.2f  %4.0f%%%s\n",
                        std::string(weft::crypto::name(alg)).c_str(), size, seal_only.packets_per_s,
                        seal_only.gbit_per_s, round_trip.packets_per_s, round_trip.gbit_per_s,
                        100.0 * share,
                        seal_only.failed || round_trip.failed ? "  (FAILURES: figures invalid)"
                                                              : "");
        }
    }
    std::printf(
        "\nCompare the seal column with OpenSSL's own loop on this machine, same minute:\n"
        "  openssl speed -elapsed -seconds 2 -bytes 1400 -evp aes-256-gcm\n"
        "  openssl speed -elapsed -seconds 2 -bytes 1400 -evp chacha20-poly1305\n"
        "(openssl speed encrypts without AAD and reports kB/s, 1 kB = 1000 bytes; without\n"
        " -elapsed it divides by CPU time, like the figures above.)\n");
    return 0;
}
