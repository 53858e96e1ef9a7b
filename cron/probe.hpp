// Probing nameservers: every server at once from one thread, non-blocking
// sockets and poll(2), never past the deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "wire/resolv_conf.hpp"

namespace weft::nscheck {

using clock = std::chrono::steady_clock;

enum class probe_method { dns, ping, dns_or_ping };

struct probe_settings {
    probe_method method = probe_method::dns;
    std::chrono::milliseconds timeout{1500};  // per attempt
    unsigned attempts = 2;                    // per server and kind of probe
    std::uint16_t port = 53;                  // DNS port
    std::string query_name = ".";             // asked for NS records
};

struct probe_outcome {
    bool alive = false;
    std::string detail;  // "answered (NOERROR)", "no answer", "invalid reply (...)", ...
};

// Probes `servers` (one outcome each, same order) until each has answered
// or used its attempts, or until `deadline`, whichever comes first.  A
// server is alive when a DNS probe (or, for ping and dns_or_ping, an ICMP
// echo) got a valid answer.  The query name must be valid (checked by the
// caller with dns::encode_name); socket errors end that server's probe.
std::vector<probe_outcome> probe_all(const std::vector<nameserver>& servers,
                                     const probe_settings& s, clock::time_point deadline);

}  // namespace weft::nscheck
