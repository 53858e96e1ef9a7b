#include "core/bnl_distribution.hpp"

#include <algorithm>

#include "base/check.hpp"

namespace weft {

const char* to_string(exchange_reason r) noexcept {
    switch (r) {
        case exchange_reason::push: return "push";
        case exchange_reason::pull_round: return "pull";
        case exchange_reason::pull_announced: return "pull (peer announced a newer list)";
    }
    return "?";
}

bnl_distribution::bnl_distribution(distribution_settings s, std::uint64_t version, std::uint64_t seed,
                                   time_point now)
    : s_(s), version_(version), rng_(seed) {
    WEFT_CHECK(s_.pull_interval.count() > 0 && s_.max_concurrent > 0);
    WEFT_CHECK(s_.jitter >= 0 && s_.jitter < 1);
    // The first round: soon, but spread so that a fleet started together
    // does not pull in one burst.
    const auto first = std::min(s_.first_pull, s_.pull_interval);
    next_round_ = now + std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(first.count()) * uniform()));
}

// splitmix64: enough for jitter, and deterministic for tests.  [0, 1)
double bnl_distribution::uniform() {
    rng_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = rng_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) / static_cast<double>(std::uint64_t{1} << 53);
}

std::chrono::milliseconds bnl_distribution::jittered() {
    const double u = uniform();
    const double f = 1.0 + s_.jitter * (2.0 * u - 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(s_.pull_interval.count()) * f));
}

void bnl_distribution::set_peers(std::span<const std::uint32_t> ids) {
    std::unordered_map<std::uint32_t, peer_state> next;
    for (auto id : ids) {
        auto it = peers_.find(id);
        next[id] = it != peers_.end() ? it->second : peer_state{};
    }
    // A removed peer's exchange may still be running: it no longer counts
    // against the limit once its peer is gone (its done() is then ignored).
    for (const auto& [id, p] : peers_)
        if (p.in_flight && !next.count(id)) --in_flight_;
    peers_ = std::move(next);
    order_.assign(ids.begin(), ids.end());
    std::sort(order_.begin(), order_.end());
    order_.erase(std::unique(order_.begin(), order_.end()), order_.end());
    if (rotation_ >= order_.size()) rotation_ = 0;
}

void bnl_distribution::set_version(std::uint64_t v) { version_ = v; }

bool bnl_distribution::push(time_point now, std::optional<std::uint32_t> from) {
    if (version_ <= pushed_version_) return false;
    pushed_version_ = version_;
    for (auto& [id, p] : peers_) {
        if (from && id == *from) continue;
        if (p.announced && *p.announced >= version_) continue;
        p.push = true;
        p.push_next = now;
        p.backoff = std::chrono::milliseconds(0);
    }
    return true;
}

void bnl_distribution::peer_announced(std::uint32_t peer, std::uint64_t version, time_point now) {
    auto it = peers_.find(peer);
    if (it == peers_.end()) return;
    peer_state& p = it->second;
    p.announced = version;
    p.announced_at = now;
    if (version >= version_) p.push = false;  // it holds ours, or newer
    if (version > version_ &&
        (!p.last_announced_pull || now - *p.last_announced_pull >= s_.announce_pull_min_interval)) {
        p.last_announced_pull = now;
        p.pull = true;
        p.pull_reason = exchange_reason::pull_announced;
    }
}

void bnl_distribution::done(std::uint32_t peer, exchange_result r, time_point now) {
    auto it = peers_.find(peer);
    if (it == peers_.end() || !it->second.in_flight) return;
    peer_state& p = it->second;
    p.in_flight = false;
    --in_flight_;
    switch (r) {
        case exchange_result::busy:
            // Not started: whatever was wanted is still wanted.
            if (p.running == exchange_reason::push) p.push = true;
            else {
                p.pull = true;
                p.pull_reason = p.running;
            }
            return;
        case exchange_result::completed:
            // One exchange settles both directions: the lower version asked.
            if (p.running == exchange_reason::push) p.push = false;
            return;
        case exchange_result::failed:
            if (p.running == exchange_reason::push || p.push) {
                p.push = true;
                p.backoff = std::clamp(p.backoff * 2, s_.push_retry_min, s_.push_retry_max);
                p.push_next = now + p.backoff;
            }
            return;
    }
}

void bnl_distribution::start_round(time_point now) {
    next_round_ = now + jittered();
    std::size_t picked = 0;
    for (std::size_t i = 0; i < order_.size() && picked < s_.pull_fanout; ++i) {
        const std::uint32_t id = order_[(rotation_ + i) % order_.size()];
        peer_state& p = peers_[id];
        if (p.in_flight || p.pull) continue;
        if (p.announced && *p.announced == version_ && now - p.announced_at < s_.pull_interval) continue;
        p.pull = true;
        p.pull_reason = exchange_reason::pull_round;
        ++picked;
    }
    if (!order_.empty()) rotation_ = (rotation_ + std::max<std::size_t>(picked, 1)) % order_.size();
}

std::vector<exchange_task> bnl_distribution::due(time_point now) {
    if (now >= next_round_) start_round(now);
    std::vector<exchange_task> out;
    auto take = [&](std::uint32_t id, peer_state& p, exchange_reason why) {
        p.in_flight = true;
        p.running = why;
        ++in_flight_;
        out.push_back({id, why});
    };
    // Pushes first, in id order (deterministic), then pulls.
    for (auto id : order_) {
        if (in_flight_ >= s_.max_concurrent) return out;
        peer_state& p = peers_[id];
        if (!p.in_flight && p.push && p.push_next <= now) {
            p.push = false;
            // A pull wanted from the same peer is served by this exchange.
            p.pull = false;
            take(id, p, exchange_reason::push);
        }
    }
    for (auto id : order_) {
        if (in_flight_ >= s_.max_concurrent) return out;
        peer_state& p = peers_[id];
        if (!p.in_flight && p.pull) {
            p.pull = false;
            // Announced during an exchange with the same peer, which then
            // brought that version (or another peer did): nothing to fetch.
            if (p.pull_reason == exchange_reason::pull_announced && p.announced && *p.announced <= version_) continue;
            take(id, p, p.pull_reason);
        }
    }
    return out;
}

bnl_distribution::time_point bnl_distribution::next_wakeup() const noexcept {
    time_point t = next_round_;
    // At the limit nothing can start before an exchange ends (and done()
    // is followed by another due()).
    if (in_flight_ >= s_.max_concurrent) return t;
    for (const auto& [id, p] : peers_) {
        if (p.in_flight) continue;
        if (p.pull) return time_point::min();
        if (p.push) t = std::min(t, p.push_next);
    }
    return t;
}

std::optional<std::uint64_t> bnl_distribution::announced(std::uint32_t peer) const {
    auto it = peers_.find(peer);
    if (it == peers_.end()) return std::nullopt;
    return it->second.announced;
}

bool bnl_distribution::push_pending(std::uint32_t peer) const {
    auto it = peers_.find(peer);
    return it != peers_.end() && (it->second.push || (it->second.in_flight && it->second.running == exchange_reason::push));
}

}  // namespace weft
