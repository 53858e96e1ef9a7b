// When a node exchanges node lists with which peer: the pull rounds, the
// push fan-out with its retries, and the pulls a peer's greeting asks for.
// A decision-maker only: it never opens a connection; the daemon asks
// `due(now)` what to start, starts those exchanges, and reports each outcome
// with `done()`.
//
// One exchange serves both directions (src/wire/NEGOTIATION.md, "Node-list
// exchange": the side holding the lower version asks), so a task is just
// "exchange with this peer"; `reason` says why, for the logs.
//
// Rules:
// - Pull: every pull interval (jittered by +-jitter), `pull_fanout` peers,
//   taken in rotation, so over rounds every peer is asked.  The first round
//   comes soon after start (within `first_pull`), so a node that was down
//   catches up at once.
// - A round skips a peer whose greeting (HELLO, of a negotiation too) showed
//   our version within the last pull interval: a pull would find what that
//   greeting said, and a list it takes later it pushes to us.  After a
//   start the negotiations' greetings usually cover the first round, so no
//   TLS handshake competes with the tunnel's first packets for nothing.
// - A peer that announces a newer version than ours (HELLO) is pulled from
//   at once, at most once per `announce_pull_min_interval` per peer: a
//   peer lying about its version cannot make us fetch in a loop.
// - Push: `push()` marks every peer (except the one the list came from) to
//   receive the current version.  A version is pushed once (forward-once:
//   a list that comes back from another peer is not sent around again).  A
//   failed push is retried with doubling back-off between push_retry_min and
//   push_retry_max for as long as that version is current; a peer that
//   announces our version or a newer one needs no push.
// - At most `max_concurrent` exchanges run at once; pushes go first.
//
// Threading: none; the caller serialises calls (the daemon's io thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace weft {

struct distribution_settings {
    std::chrono::milliseconds pull_interval{90'000};
    double jitter = 0.25;  // pull_interval * (1 +- jitter)
    std::chrono::milliseconds first_pull{5'000};
    std::size_t pull_fanout = 2;
    std::size_t max_concurrent = 4;
    std::chrono::milliseconds push_retry_min{1'000};
    std::chrono::milliseconds push_retry_max{60'000};
    std::chrono::milliseconds announce_pull_min_interval{10'000};
};

enum class exchange_reason { push, pull_round, pull_announced };
const char* to_string(exchange_reason r) noexcept;

struct exchange_task {
    std::uint32_t peer = 0;
    exchange_reason reason = exchange_reason::pull_round;
    friend bool operator==(const exchange_task&, const exchange_task&) = default;
};

// What became of an exchange the daemon started.
enum class exchange_result {
    completed,  // whatever was sent or received
    failed,  // could not reach the peer, or it broke off
    busy,    // not started: the transport had no free slot; try again later
};

class bnl_distribution {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    // `seed` drives the jitter only (the daemon passes a random one; tests a
    // fixed one).
    bnl_distribution(distribution_settings s, std::uint64_t version, std::uint64_t seed, time_point now);

    // The peers of the list in force (this node excluded).  State of peers
    // no longer listed is dropped; new peers start idle.
    void set_peers(std::span<const std::uint32_t> ids);
    // The version now in force.  Call push() as well when it should spread.
    void set_version(std::uint64_t v);
    std::uint64_t version() const noexcept { return version_; }

    // Spread the current version to every peer except `from`.  Returns false
    // (and does nothing) when this version was pushed before.
    bool push(time_point now, std::optional<std::uint32_t> from = std::nullopt);
    // A peer's greeting said it holds `version`.
    void peer_announced(std::uint32_t peer, std::uint64_t version, time_point now);
    // The outcome of an exchange returned by due().
    void done(std::uint32_t peer, exchange_result r, time_point now);

    // The exchanges to start now (each is then in flight until done()).
    std::vector<exchange_task> due(time_point now);
    // When due() may next have something (or a pull round is due).  Call
    // due() again after every done() as well.
    time_point next_wakeup() const noexcept;

    // The version the peer last announced, if it has greeted us.
    std::optional<std::uint64_t> announced(std::uint32_t peer) const;
    bool push_pending(std::uint32_t peer) const;
    std::size_t in_flight() const noexcept { return in_flight_; }

private:
    struct peer_state {
        std::optional<std::uint64_t> announced;
        time_point announced_at{};  // when `announced` was last heard
        bool push = false;
        time_point push_next{};
        std::chrono::milliseconds backoff{0};
        bool pull = false;
        exchange_reason pull_reason = exchange_reason::pull_round;
        std::optional<time_point> last_announced_pull;
        bool in_flight = false;
        exchange_reason running = exchange_reason::pull_round;
    };
    double uniform();
    std::chrono::milliseconds jittered();
    void start_round(time_point now);

    distribution_settings s_;
    std::uint64_t version_;
    std::uint64_t pushed_version_ = 0;
    std::uint64_t rng_;
    std::vector<std::uint32_t> order_;  // rotation order of pull rounds
    std::size_t rotation_ = 0;
    std::unordered_map<std::uint32_t, peer_state> peers_;
    time_point next_round_;
    std::size_t in_flight_ = 0;
};

}  // namespace weft
