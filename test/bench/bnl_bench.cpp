// How long a node takes to accept a large list: a 10,000-node list (an IPv4
// /24 and an IPv6 /48 per node, a pin on every third node) signed with
// Ed25519, then parse_bnl alone, verify_bnl (signature + strict parse) and
// serialise_bnl, each timed over 20 runs.  Prints figures; never fails.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/bnl_trust.hpp"
#include "crypto/signature.hpp"
#include "wire/bnl.hpp"

namespace {

constexpr std::size_t node_count = 10'000;
constexpr int runs = 20;

weft::bnl_list make_list() {
    weft::bnl_list l;
    l.network = "bench";
    l.version = 1795295543;
    l.signed_at = 1795295543;
    l.comments = {"# benchmark list"};
    l.nodes.reserve(node_count);
    for (std::size_t i = 0; i < node_count; ++i) {
        weft::bnl_node n;
        char name[32];
        std::snprintf(name, sizeof name, "node-%05zu", i);
        n.name = name;
        n.id = static_cast<std::uint32_t>(i + 1);
        const auto hi = static_cast<std::uint8_t>(i >> 8), lo = static_cast<std::uint8_t>(i & 0xff);
        n.ipv4 = weft::ip_address::v4(198, 18, hi, lo);
        if (i % 2 == 0) {
            weft::ip_address v6;
            v6.family = weft::ip_family::v6;
            v6.bytes = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, hi, lo};
            n.ipv6 = v6;
        }
        weft::ip_prefix p4;
        p4.address = weft::ip_address::v4(10, hi, lo, 0);
        p4.length = 24;
        weft::ip_prefix p6;
        p6.address.family = weft::ip_family::v6;
        p6.address.bytes = {0x20, 0x01, 0x0d, 0xb8, hi, lo, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        p6.length = 48;
        n.subnets = {p4, p6};
        if (i % 3 == 0) {
            weft::cert_pin pin;
            for (std::size_t k = 0; k < pin.size(); ++k)
                pin[k] = static_cast<std::uint8_t>(i * 31 + k);
            n.pin = pin;
        }
        l.nodes.push_back(std::move(n));
    }
    return l;
}

template <class F>
double ms_per_run(F&& f) {
    f();  // warm up
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < runs; ++i) f();
    const std::chrono::duration<double, std::milli> elapsed =
        std::chrono::steady_clock::now() - start;
    return elapsed.count() / runs;
}

}  // namespace

int main() {
    const weft::bnl_list list = make_list();
    auto key = weft::crypto::private_key::generate(weft::crypto::key_type::ed25519);
    if (!key) {
        std::fprintf(stderr, "bench_bnl: key generation failed: %s\n", key.error().message.c_str());
        return 0;
    }
    auto signed_file = weft::sign_bnl(list, *key);
    if (!signed_file) {
        std::fprintf(stderr, "bench_bnl: signing failed: %s\n",
                     weft::to_string(signed_file.error()).c_str());
        return 0;
    }
    const std::string body = weft::serialise_bnl(list);
    // The trusted key as a node holds it: loaded from PEM.
    std::vector<weft::crypto::public_key> keys;
    if (auto pub = weft::crypto::public_key::from_pem(key->public_part().to_pem()))
        keys.push_back(std::move(pub).value());

    std::size_t sink = 0;  // keeps the work observable
    const double parse_ms = ms_per_run([&] {
        auto r = weft::parse_bnl(body);
        sink += r ? r->nodes.size() : 0;
    });
    const double verify_ms = ms_per_run([&] {
        auto r = weft::verify_bnl(*signed_file,
                                  keys);  // copies the file, as a caller handing it over would
        sink += r ? r->list.nodes.size() : 0;
    });
    const double serialise_ms = ms_per_run([&] { sink += weft::serialise_bnl(list).size(); });
    const double sign_ms = ms_per_run([&] {
        auto r = weft::sign_bnl(list, *key);
        sink += r ? r->size() : 0;
    });

    std::printf("bnl bench: %zu nodes, 2 subnets each, %zu pins\n", node_count,
                (node_count + 2) / 3);
    std::printf("  signed file     %zu bytes (body %zu)\n", signed_file->size(), body.size());
    std::printf("  parse_bnl       %8.2f ms/run\n", parse_ms);
    std::printf("  verify_bnl      %8.2f ms/run (signature + parse)\n", verify_ms);
    std::printf("  serialise_bnl   %8.2f ms/run\n", serialise_ms);
    std::printf("  sign_bnl        %8.2f ms/run (validate + serialise + sign)\n", sign_ms);
    std::printf("  (%d runs each; checksum %zu)\n", runs, sink);
    return 0;
}
