// Figures for the routing table: build time, lookup rate and memory for a
// network of 10,000 nodes with an IPv4 /24 and an IPv6 /48 each.  Prints,
// never fails.  Run a Release build for meaningful numbers.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <new>
#include <random>
#include <unordered_set>
#include <vector>

#include "core/prefix_table.hpp"
#include "wire/ip.hpp"

// Every heap allocation of the program is counted, to measure the table's
// real footprint (growth slack included) and to show that lookups allocate
// nothing.
namespace {
std::atomic<std::size_t> allocation_count{0};
std::atomic<std::size_t> live_bytes{0};

// The size is stored in front of each block so that the unsized delete can
// subtract it; 16 bytes keeps the block aligned for any fundamental type.
constexpr std::size_t header_size = 16;

void* counted_alloc(std::size_t n) {
    void* p = std::malloc(n + header_size);
    if (p == nullptr) throw std::bad_alloc();
    allocation_count.fetch_add(1, std::memory_order_relaxed);
    live_bytes.fetch_add(n, std::memory_order_relaxed);
    *static_cast<std::size_t*>(p) = n;
    return static_cast<unsigned char*>(p) + header_size;
}

void counted_free(void* p) noexcept {
    if (p == nullptr) return;
    void* block = static_cast<unsigned char*>(p) - header_size;
    live_bytes.fetch_sub(*static_cast<std::size_t*>(block), std::memory_order_relaxed);
    std::free(block);
}
}  // namespace

void* operator new(std::size_t n) {
    return counted_alloc(n);
}
void* operator new[](std::size_t n) {
    return counted_alloc(n);
}
void operator delete(void* p) noexcept {
    counted_free(p);
}
void operator delete[](void* p) noexcept {
    counted_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    counted_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    counted_free(p);
}

namespace {

using weft::ip_address;
using weft::ip_family;
using weft::ip_prefix;
using node_id = std::uint32_t;

constexpr std::size_t node_count = 10'000;
constexpr std::size_t addresses_per_set = 1u << 20;
constexpr int lookup_passes = 8;

ip_address v4_address(std::uint32_t bits) {
    ip_address a;
    a.family = ip_family::v4;
    for (std::size_t i = 0; i < 4; ++i)
        a.bytes[i] = static_cast<std::uint8_t>(bits >> (24 - 8 * i));
    return a;
}

// An address under fd00::/8: bits 8..47 are `site`, bits 48..63 `subnet`
// and bits 64..127 `host`.
ip_address v6_address(std::uint64_t site, std::uint64_t subnet, std::uint64_t host) {
    ip_address a;
    a.family = ip_family::v6;
    a.bytes[0] = 0xfd;
    for (std::size_t i = 1; i < 6; ++i)
        a.bytes[i] = static_cast<std::uint8_t>(site >> (8 * (5 - i)));
    for (std::size_t i = 6; i < 8; ++i)
        a.bytes[i] = static_cast<std::uint8_t>(subnet >> (8 * (7 - i)));
    for (std::size_t i = 8; i < 16; ++i)
        a.bytes[i] = static_cast<std::uint8_t>(host >> (8 * (15 - i)));
    return a;
}

struct network {
    // Per node: a /24 inside 10.0.0.0/8 and a /48 inside fd00::/8.
    std::vector<std::uint32_t> v4_nets;   // the top 24 bits
    std::vector<std::uint64_t> v6_sites;  // bits 8..47
    std::unordered_set<std::uint32_t> v4_set;
    std::unordered_set<std::uint64_t> v6_set;
};

network make_network(std::mt19937_64& rng) {
    network n;
    while (n.v4_nets.size() < node_count) {
        auto net = static_cast<std::uint32_t>(0x0a0000u | (rng() & 0xffffu));
        if (n.v4_set.insert(net).second) n.v4_nets.push_back(net);
    }
    while (n.v6_sites.size() < node_count) {
        std::uint64_t site = rng() & 0xff'ffff'ffffu;
        if (n.v6_set.insert(site).second) n.v6_sites.push_back(site);
    }
    return n;
}

// Timing uses the process's CPU time, not the wall clock: the build hosts
// are shared, and time spent descheduled is not the table's.
struct cpu_clock {
    std::clock_t start = std::clock();
    double seconds() const { return static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC; }
};

// Looks every address up lookup_passes times; prints the rate and returns a
// checksum of the results so the work cannot be optimised away.
std::uint64_t time_lookups(const char* what, const weft::prefix_table<node_id>& table,
                           const std::vector<ip_address>& addresses) {
    std::uint64_t checksum = 0;
    std::size_t hits = 0;
    cpu_clock timer;
    for (int pass = 0; pass < lookup_passes; ++pass) {
        for (const ip_address& a : addresses) {
            const node_id* v = table.lookup(a);
            if (v != nullptr) {
                checksum += *v;
                ++hits;
            }
        }
    }
    double secs = timer.seconds();
    double n = static_cast<double>(addresses.size()) * lookup_passes;
    std::printf("  %-10s %7.1f M lookups/s  %6.1f ns/lookup  (%.0f%% hit)\n", what, n / secs / 1e6,
                secs / n * 1e9, 100.0 * static_cast<double>(hits) / n);
    return checksum;
}

}  // namespace

int main() try {
    std::mt19937_64 rng(20240601);
    network net = make_network(rng);

    // Build: 10,000 nodes x (v4 /24 + v6 /48).
    std::size_t bytes_before = live_bytes.load();
    cpu_clock build_timer;
    weft::prefix_table<node_id> table;
    for (std::size_t i = 0; i < node_count; ++i) {
        auto id = static_cast<node_id>(i);
        table.insert(ip_prefix{v4_address(net.v4_nets[i] << 8), 24}, id);
        table.insert(ip_prefix{v6_address(net.v6_sites[i], 0, 0), 48}, id);
    }
    double build_secs = build_timer.seconds();
    std::size_t heap_bytes = live_bytes.load() - bytes_before;
    std::printf("prefix_table: %zu nodes, %zu prefixes (v4 /24 + v6 /48 each)\n", node_count,
                table.size());
    std::printf("  build      %7.2f ms  (%.0f ns/insert)\n", build_secs * 1e3,
                build_secs / static_cast<double>(table.size()) * 1e9);
    std::printf("  memory     %7zu bytes on the heap, %.1f bytes/prefix (%zu trie nodes)\n",
                heap_bytes, static_cast<double>(heap_bytes) / static_cast<double>(table.size()),
                table.node_count());

    // Lookup sets: hits at random hosts of random nodes; misses inside the
    // same /8s (so they walk as deep as hits do) but outside every prefix.
    std::vector<ip_address> v4_hits, v4_misses, v6_hits, v6_misses;
    for (auto* v : {&v4_hits, &v4_misses, &v6_hits, &v6_misses}) v->reserve(addresses_per_set);
    while (v4_hits.size() < addresses_per_set) {
        std::uint32_t net24 = net.v4_nets[rng() % node_count];
        v4_hits.push_back(v4_address(net24 << 8 | static_cast<std::uint32_t>(rng() & 0xff)));
    }
    while (v4_misses.size() < addresses_per_set) {
        auto bits = static_cast<std::uint32_t>(0x0a000000u | (rng() & 0xffffffu));
        if (net.v4_set.count(bits >> 8) == 0) v4_misses.push_back(v4_address(bits));
    }
    while (v6_hits.size() < addresses_per_set)
        v6_hits.push_back(v6_address(net.v6_sites[rng() % node_count], rng(), rng()));
    while (v6_misses.size() < addresses_per_set) {
        std::uint64_t site = rng() & 0xff'ffff'ffffu;
        if (net.v6_set.count(site) == 0) v6_misses.push_back(v6_address(site, rng(), rng()));
    }

    std::size_t allocations_before = allocation_count.load();
    std::uint64_t checksum = 0;
    checksum += time_lookups("v4 hit", table, v4_hits);
    checksum += time_lookups("v4 miss", table, v4_misses);
    checksum += time_lookups("v6 hit", table, v6_hits);
    checksum += time_lookups("v6 miss", table, v6_misses);
    std::printf("  heap allocations during lookups: %zu (checksum %llu)\n",
                allocation_count.load() - allocations_before,
                static_cast<unsigned long long>(checksum));

    // The sizing target: 10,000 nodes with 1-3 prefixes each, a v4 /24 and
    // up to two v6 prefixes, a /48 and a /56../64 inside it.
    bytes_before = live_bytes.load();
    weft::prefix_table<node_id> mixed;
    for (std::size_t i = 0; i < node_count; ++i) {
        auto id = static_cast<node_id>(i);
        mixed.insert(ip_prefix{v4_address(net.v4_nets[i] << 8), 24}, id);
        auto extra = rng() % 3;
        if (extra >= 1) mixed.insert(ip_prefix{v6_address(net.v6_sites[i], 0, 0), 48}, id);
        if (extra >= 2) {
            // A more specific one inside it, /56../64 (bit 55 set).
            auto len = static_cast<std::uint8_t>(56 + rng() % 9);
            mixed.insert(ip_prefix{v6_address(net.v6_sites[i], 0x0100, 0), len}, id);
        }
    }
    heap_bytes = live_bytes.load() - bytes_before;
    std::printf("mixed: %zu nodes, %zu prefixes (v4 /24, 0-2 of v6 /48 and /56../64)\n", node_count,
                mixed.size());
    std::printf("  memory     %7zu bytes on the heap, %.1f bytes/prefix (%zu trie nodes)\n",
                heap_bytes, static_cast<double>(heap_bytes) / static_cast<double>(mixed.size()),
                mixed.node_count());

    // Tear down the first table: erase everything (the merging path).
    cpu_clock erase_timer;
    for (std::size_t i = 0; i < node_count; ++i) {
        table.erase(ip_prefix{v4_address(net.v4_nets[i] << 8), 24});
        table.erase(ip_prefix{v6_address(net.v6_sites[i], 0, 0), 48});
    }
    std::printf("erase all of the first: %.2f ms, %zu prefixes and %zu nodes left\n",
                erase_timer.seconds() * 1e3, table.size(), table.node_count());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_prefix_table: %s\n", e.what());
    return 1;
}
