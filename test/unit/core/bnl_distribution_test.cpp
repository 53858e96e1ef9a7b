#include "core/bnl_distribution.hpp"

#include <boost/test/unit_test.hpp>
#include <set>

using namespace weft;
using namespace std::chrono_literals;
using tp = bnl_distribution::time_point;

namespace {

distribution_settings fast() {
    distribution_settings s;
    s.pull_interval = 10s;
    s.jitter = 0.25;
    s.first_pull = 1s;
    s.pull_fanout = 2;
    s.max_concurrent = 3;
    s.push_retry_min = 1s;
    s.push_retry_max = 8s;
    s.announce_pull_min_interval = 5s;
    return s;
}

const tp t0 = tp() + 1000h;

std::set<std::uint32_t> peers_of(const std::vector<exchange_task>& v, exchange_reason r) {
    std::set<std::uint32_t> out;
    for (const auto& t : v)
        if (t.reason == r) out.insert(t.peer);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bnl_distribution_suite)

BOOST_AUTO_TEST_CASE(pull_rounds_rotate_through_every_peer_with_jitter_in_bounds) {
    auto s = fast();
    s.max_concurrent = 10;
    bnl_distribution d(s, 5, 42, t0);
    const std::vector<std::uint32_t> ids{2, 3, 4, 5, 6};
    d.set_peers(ids);
    // Nothing before the first round; the first round within first_pull.
    BOOST_TEST((d.next_wakeup() <= t0 + 1s));
    std::multiset<std::uint32_t> asked;
    tp now = t0;
    tp last_round{};
    for (int round = 0; round < 10; ++round) {
        now = std::max(now, d.next_wakeup());
        auto tasks = d.due(now);
        BOOST_TEST(tasks.size() == 2u);
        for (const auto& t : tasks) {
            BOOST_TEST((t.reason == exchange_reason::pull_round));
            asked.insert(t.peer);
            d.done(t.peer, exchange_result::completed, now);
        }
        if (round > 0) {
            BOOST_TEST((now - last_round >= 7500ms));
            BOOST_TEST((now - last_round <= 12500ms));
        }
        last_round = now;
        BOOST_TEST(d.due(now).empty());
    }
    // 20 asks over 5 peers in rotation: each asked exactly 4 times.
    for (auto id : ids) BOOST_TEST(asked.count(id) == 4u);
}

BOOST_AUTO_TEST_CASE(push_goes_to_every_peer_but_the_sender_once_per_version) {
    auto s = fast();
    s.first_pull = 1000h;
    s.pull_interval = 1000h;
    bnl_distribution d(s, 5, 1, t0);
    const std::vector<std::uint32_t> ids{2, 3, 4, 5};
    d.set_peers(ids);
    d.set_version(6);
    BOOST_TEST(d.push(t0, 3u));
    BOOST_TEST(!d.push(t0, std::nullopt));  // forward-once
    auto tasks = d.due(t0);
    auto pushed = peers_of(tasks, exchange_reason::push);
    BOOST_TEST(pushed.size() == 3u);  // max_concurrent
    BOOST_TEST(!pushed.count(3));
    for (auto id : pushed) d.done(id, exchange_result::completed, t0);
    tasks = d.due(t0);
    auto rest = peers_of(tasks, exchange_reason::push);
    std::set<std::uint32_t> all = pushed;
    all.insert(rest.begin(), rest.end());
    BOOST_TEST((all == std::set<std::uint32_t>{2, 4, 5}));
    for (auto id : rest) d.done(id, exchange_result::completed, t0);
    for (auto id : ids) BOOST_TEST(!d.push_pending(id));
    // The same version coming back from another peer is not pushed again.
    BOOST_TEST(!d.push(t0 + 1s, 2u));
    // A newer version is.
    d.set_version(7);
    BOOST_TEST(d.push(t0 + 2s));
    BOOST_TEST(d.push_pending(3));
}

BOOST_AUTO_TEST_CASE(failed_push_backs_off_doubling_to_the_cap_and_stops_when_the_peer_has_it) {
    auto s = fast();
    s.pull_interval = 1000h;  // keep pull rounds out of the way
    s.first_pull = 1000h;
    bnl_distribution d(s, 5, 1, t0);
    const std::vector<std::uint32_t> ids{9};
    d.set_peers(ids);
    d.set_version(6);
    d.push(t0);
    tp now = t0;
    std::vector<std::chrono::milliseconds> gaps;
    tp last = now;
    for (int i = 0; i < 6; ++i) {
        auto tasks = d.due(now);
        BOOST_TEST_REQUIRE(tasks.size() == 1u);
        BOOST_TEST(tasks[0].peer == 9u);
        if (i > 0) gaps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(now - last));
        last = now;
        d.done(9, exchange_result::failed, now);
        BOOST_TEST(d.due(now).empty());  // not before the back-off
        BOOST_TEST(d.push_pending(9));
        now = d.next_wakeup();
    }
    const std::vector<std::chrono::milliseconds> want{1s, 2s, 4s, 8s, 8s};
    BOOST_TEST(gaps == want, boost::test_tools::per_element());
    // The peer greets us with our version: no more pushing.
    d.peer_announced(9, 6, now);
    BOOST_TEST(!d.push_pending(9));
    BOOST_TEST(d.due(now + 1h).empty());
}

BOOST_AUTO_TEST_CASE(busy_is_not_a_failure_and_keeps_the_task) {
    auto s = fast();
    s.first_pull = 1000h;
    s.pull_interval = 1000h;
    bnl_distribution d(s, 5, 1, t0);
    const std::vector<std::uint32_t> ids{2};
    d.set_peers(ids);
    d.set_version(6);
    d.push(t0);
    auto tasks = d.due(t0);
    BOOST_TEST_REQUIRE(tasks.size() == 1u);
    d.done(2, exchange_result::busy, t0);
    tasks = d.due(t0);  // at once, no back-off
    BOOST_TEST_REQUIRE(tasks.size() == 1u);
    BOOST_TEST((tasks[0].reason == exchange_reason::push));
}

BOOST_AUTO_TEST_CASE(an_announced_newer_version_pulls_at_once_but_rate_limited_per_peer) {
    auto s = fast();
    s.first_pull = 1000h;
    s.pull_interval = 1000h;
    bnl_distribution d(s, 5, 1, t0);
    const std::vector<std::uint32_t> ids{2, 3};
    d.set_peers(ids);
    d.peer_announced(2, 4, t0);  // older: nothing
    BOOST_TEST(d.due(t0).empty());
    BOOST_TEST(*d.announced(2) == 4u);
    BOOST_TEST(!d.announced(3));
    d.peer_announced(2, 9, t0);
    auto tasks = d.due(t0);
    BOOST_TEST_REQUIRE(tasks.size() == 1u);
    BOOST_TEST((tasks[0] == exchange_task{2, exchange_reason::pull_announced}));
    d.done(2, exchange_result::completed, t0);
    // It keeps claiming a newer version (a liar, or its list did not verify):
    // at most one pull per interval.
    for (int i = 1; i < 50; ++i) {
        d.peer_announced(2, 9, t0 + i * 100ms);
        BOOST_TEST(d.due(t0 + i * 100ms).empty());
    }
    d.peer_announced(2, 9, t0 + 5s);
    BOOST_TEST(d.due(t0 + 5s).size() == 1u);
    // Another peer is not held back by the first one's limit.
    d.peer_announced(3, 9, t0 + 5s);
    BOOST_TEST(d.due(t0 + 5s).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_round_skips_peers_that_greeted_with_our_version_within_the_interval) {
    auto s = fast();  // pull interval 10 s +- 25 %, first round within 1 s, 2 per round
    bnl_distribution d(s, 5, 7, t0);
    const std::vector<std::uint32_t> ids{2, 3, 4, 5};
    d.set_peers(ids);
    // Greetings from the start's negotiations: 2 and 3 hold ours, 4 an older one.
    d.peer_announced(2, 5, t0);
    d.peer_announced(3, 5, t0);
    d.peer_announced(4, 3, t0);
    tp now = d.next_wakeup();
    BOOST_TEST((now <= t0 + 1s));
    auto tasks = d.due(now);
    // 2 and 3 are skipped; the round takes the next two: 4 (it would get our
    // list) and 5 (never heard from).
    BOOST_TEST((peers_of(tasks, exchange_reason::pull_round) == std::set<std::uint32_t>{4, 5}));
    for (const auto& t : tasks) d.done(t.peer, exchange_result::completed, now);
    // Once the greeting is a pull interval old, the peer is asked again.
    std::set<std::uint32_t> later;
    for (int round = 0; round < 4; ++round) {
        now = d.next_wakeup();
        for (const auto& t : d.due(now)) {
            if (now - t0 < 10s) BOOST_TEST((t.peer != 2u && t.peer != 3u));
            later.insert(t.peer);
            d.done(t.peer, exchange_result::completed, now);
        }
    }
    BOOST_TEST((later == std::set<std::uint32_t>{2, 3, 4, 5}));
    // A newer version of ours makes an old greeting of "our version" stale.
    d.peer_announced(2, 5, now);
    d.set_version(6);
    bool asked_2 = false;
    for (int round = 0; round < 3 && !asked_2; ++round) {
        now = d.next_wakeup();
        for (const auto& t : d.due(now)) {
            asked_2 = asked_2 || t.peer == 2u;
            d.done(t.peer, exchange_result::completed, now);
        }
    }
    BOOST_TEST(asked_2);
}

BOOST_AUTO_TEST_CASE(an_announcement_made_in_the_exchange_that_brought_the_list_asks_for_nothing_more) {
    auto s = fast();
    bnl_distribution d(s, 5, 3, t0);
    const std::vector<std::uint32_t> ids{2};
    d.set_peers(ids);
    tp now = d.next_wakeup();
    auto tasks = d.due(now);
    BOOST_TEST_REQUIRE(tasks.size() == 1u);
    BOOST_TEST((tasks[0] == exchange_task{2, exchange_reason::pull_round}));
    // The exchange's own HELLO says 9; it then delivers 9, which the daemon adopts.
    d.peer_announced(2, 9, now);
    d.set_version(9);
    d.done(2, exchange_result::completed, now);
    BOOST_TEST(d.due(now).empty());
    BOOST_TEST((d.next_wakeup() > now));
    // An announcement of something newer than what we now hold still pulls
    // (once the per-peer limit allows).
    d.peer_announced(2, 10, now + 5s);
    tasks = d.due(now + 5s);
    BOOST_TEST_REQUIRE(tasks.size() == 1u);
    BOOST_TEST((tasks[0] == exchange_task{2, exchange_reason::pull_announced}));
}

BOOST_AUTO_TEST_CASE(concurrency_is_bounded_and_removed_peers_free_their_slot) {
    auto s = fast();
    s.first_pull = 1000h;
    s.pull_interval = 1000h;
    s.max_concurrent = 2;
    bnl_distribution d(s, 5, 1, t0);
    const std::vector<std::uint32_t> ids{2, 3, 4, 5};
    d.set_peers(ids);
    d.set_version(6);
    d.push(t0);
    auto tasks = d.due(t0);
    BOOST_TEST(tasks.size() == 2u);
    BOOST_TEST(d.in_flight() == 2u);
    BOOST_TEST(d.due(t0).empty());
    // The list changes: peer 2 and 3 leave while their exchanges run.
    const std::vector<std::uint32_t> left{4, 5};
    d.set_peers(left);
    BOOST_TEST(d.in_flight() == 0u);
    d.done(2, exchange_result::failed, t0);  // ignored: no longer a peer
    BOOST_TEST(d.in_flight() == 0u);
    BOOST_TEST(peers_of(d.due(t0), exchange_reason::push) == (std::set<std::uint32_t>{4, 5}));
}

BOOST_AUTO_TEST_CASE(a_push_in_flight_serves_a_wanted_pull_from_the_same_peer) {
    auto s = fast();
    s.first_pull = 1000h;
    s.pull_interval = 1000h;
    bnl_distribution d(s, 5, 1, t0);
    const std::vector<std::uint32_t> ids{2};
    d.set_peers(ids);
    d.set_version(6);
    d.push(t0);
    d.peer_announced(2, 3, t0);
    auto tasks = d.due(t0);
    BOOST_TEST(tasks.size() == 1u);
    d.done(2, exchange_result::completed, t0);
    BOOST_TEST(d.due(t0 + 1h).empty());
}

BOOST_AUTO_TEST_SUITE_END()
