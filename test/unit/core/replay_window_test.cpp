// core/replay_window: a table of (operation, counter, expected) steps in the
// manner of the WireGuard kernel module's counter self-test (our own
// sequence: in order, duplicates, the window's edges, jumps, reorder, the
// ring wrapping, the top of the counter space, reset()), then every advance
// distance from several ring positions, then a randomized differential test
// against a slow reference (std::set + highest, window 4096).
#include "core/replay_window.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <vector>

namespace {

using weft::replay_window;

constexpr std::uint64_t W = replay_window::window_size;
constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();

// The specification, written the slow and obvious way: every accepted
// counter in a set, plus the mark restored by reset() (everything at or
// below it counts as seen).
class reference_window {
public:
    bool too_old(std::uint64_t c) const { return highest_ && c <= *highest_ && *highest_ - c >= W; }
    bool check(std::uint64_t c) const {
        if (!highest_ || c > *highest_) return true;
        if (too_old(c)) return false;
        if (floor_ && c <= *floor_) return false;
        return seen_.count(c) == 0;
    }
    bool update(std::uint64_t c) {
        if (!check(c)) return false;
        seen_.insert(c);
        highest_ = std::max(highest_.value_or(0), c);
        // Keep the set small; what is behind the window no longer matters.
        if (seen_.size() > 4 * W)
            seen_.erase(seen_.begin(), seen_.lower_bound(*highest_ >= W ? *highest_ - W : 0));
        return true;
    }
    void reset(std::uint64_t h) {
        seen_.clear();
        floor_ = h;
        highest_ = h;
    }
    bool empty() const { return !highest_; }
    std::uint64_t highest() const { return highest_.value_or(0); }

private:
    std::set<std::uint64_t> seen_;
    std::optional<std::uint64_t> floor_;
    std::optional<std::uint64_t> highest_;
};

std::uint64_t test_seed() {
    if (const char* s = std::getenv("WEFT_TEST_SEED")) return std::strtoull(s, nullptr, 10);
    return std::random_device{}();
}

// Every counter from a little below the window to a little above it gives
// the same answers in both.
void expect_same_window(const replay_window& w, const reference_window& ref) {
    BOOST_REQUIRE_EQUAL(w.empty(), ref.empty());
    BOOST_REQUIRE_EQUAL(w.highest(), ref.highest());
    const std::uint64_t h = ref.highest();
    const std::uint64_t lo = h >= W + 70 ? h - W - 70 : 0;
    const std::uint64_t hi = h <= max - 3 ? h + 3 : max;
    for (std::uint64_t c = lo;; ++c) {
        if (w.check(c) != ref.check(c) || w.is_too_old(c) != ref.too_old(c)) {
            BOOST_TEST_REQUIRE(w.check(c) == ref.check(c), "counter " << c << ", highest " << h);
            BOOST_TEST_REQUIRE(w.is_too_old(c) == ref.too_old(c),
                               "counter " << c << ", highest " << h);
        }
        if (c == hi) break;
    }
}

enum class op {
    accept,   // check() then update(), as the receive path does; both must say `expected`
    peek,     // check() only; must not change anything
    too_old,  // is_too_old() must say `expected`
    reset,    // reset(counter)
    highest,  // highest() must be `counter`, and the window not empty
};

struct step {
    op what;
    std::uint64_t counter;
    bool expected = true;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(replay_window_tests)

BOOST_AUTO_TEST_CASE(fresh_window_accepts_counter_zero) {
    replay_window w;
    BOOST_TEST(w.empty());
    BOOST_TEST(w.highest() == 0u);
    BOOST_TEST(w.check(0));
    BOOST_TEST(w.check(max));
    BOOST_TEST(!w.is_too_old(0));
    BOOST_TEST(w.update(0));
    BOOST_TEST(!w.empty());
    BOOST_TEST(w.highest() == 0u);
    BOOST_TEST(!w.check(0));
    BOOST_TEST(!w.update(0));
}

BOOST_AUTO_TEST_CASE(first_counter_anywhere) {
    // The first frame need not be counter 0 (lost frames, a peer that
    // resumed from its reservation): everything within one window behind it
    // is still acceptable, and nothing else is marked.
    for (std::uint64_t first :
         {std::uint64_t{1}, std::uint64_t{63}, std::uint64_t{64}, std::uint64_t{100}, W - 1, W,
          W + 1, std::uint64_t{5000}, std::uint64_t{1} << 40, max}) {
        BOOST_TEST_CONTEXT("first counter " << first) {
            replay_window w;
            reference_window ref;
            BOOST_REQUIRE(w.update(first));
            BOOST_REQUIRE(ref.update(first));
            expect_same_window(w, ref);
        }
    }
}

BOOST_AUTO_TEST_CASE(self_test_table) {
    const std::vector<step> steps{
        // An empty window takes anything; peeking changes nothing.
        {op::peek, 0, true},
        {op::peek, 12345, true},
        {op::peek, max, true},
        // In order from 0, with duplicates.
        {op::accept, 0, true},
        {op::accept, 0, false},
        {op::peek, 0, false},
        {op::accept, 1, true},
        {op::accept, 1, false},
        // A small jump, then the skipped ones out of order.
        {op::accept, 10, true},
        {op::highest, 10},
        {op::accept, 9, true},
        {op::accept, 5, true},
        {op::accept, 9, false},
        {op::accept, 5, false},
        {op::peek, 4, true},
        // highest = W-1: the window is exactly 0 .. 4095, the whole ring.
        {op::accept, W - 1, true},
        {op::accept, 0, false},
        {op::too_old, 0, false},
        {op::accept, 2, true},
        // highest = W: 0 falls out; 1 and 2 stay seen although 4096 takes
        // the same ring word as they do (whole-word clearing would forget them).
        {op::accept, W, true},
        {op::too_old, 0, true},
        {op::accept, 0, false},
        {op::accept, 1, false},
        {op::accept, 2, false},
        {op::accept, 3, true},
        {op::accept, 3, false},
        // A jump of one word: just outside and just inside.
        {op::accept, W + 64, true},
        {op::too_old, 64, true},
        {op::accept, 64, false},
        {op::accept, 65, true},
        {op::accept, 65, false},
        {op::accept, W + 63, true},
        // A jump of exactly one window: everything before is gone.
        {op::accept, 2 * W + 64, true},
        {op::too_old, W + 64, true},
        {op::accept, W + 64, false},
        // Just inside, at the ring position 65 held: the wrap cleared it.
        {op::accept, W + 65, true},
        {op::accept, W + 65, false},
        {op::accept, 2 * W + 63, true},
        {op::accept, 2 * W + 8, true},
        {op::accept, 2 * W + 8, false},
        {op::accept, 2 * W + 65, true},
        {op::highest, 2 * W + 65},
        // A huge jump.
        {op::accept, std::uint64_t{1} << 40, true},
        {op::accept, 2 * W + 65, false},
        {op::too_old, 2 * W + 65, true},
        {op::accept, (std::uint64_t{1} << 40) - (W - 1), true},
        {op::accept, (std::uint64_t{1} << 40) - W, false},
        {op::accept, (std::uint64_t{1} << 40) - 1, true},
        {op::accept, (std::uint64_t{1} << 40) - 1, false},
        // The top of the counter space.
        {op::accept, max - 1, true},
        {op::accept, max, true},
        {op::highest, max},
        {op::accept, max, false},
        {op::accept, max - 1, false},
        {op::accept, max - (W - 1), true},
        {op::accept, max - W, false},
        {op::too_old, max - W, true},
        {op::peek, max - 2, true},
        // A clean restart: everything up to the mark counts as seen.
        {op::reset, 1000},
        {op::highest, 1000},
        {op::peek, 1000, false},
        {op::accept, 0, false},
        {op::accept, 999, false},
        {op::accept, 1000, false},
        {op::accept, 1001, true},
        {op::accept, 1001, false},
        // Slide one window past the mark: counters after it are fresh.
        {op::accept, 1000 + W + 1, true},
        {op::too_old, 1001, true},
        {op::accept, 1001, false},
        {op::accept, 1002, true},
        {op::accept, 1003, true},
        {op::accept, 1002, false},
        // Restores at the edges.
        {op::reset, 0},
        {op::accept, 0, false},
        {op::accept, 1, true},
        {op::accept, 1, false},
        {op::reset, W - 1},
        {op::accept, 0, false},
        {op::accept, W - 1, false},
        {op::accept, W, true},
        {op::reset, 5000},
        {op::accept, 5000 - (W - 1), false},
        {op::too_old, 5000 - W, true},
        {op::accept, 5000, false},
        {op::accept, 5001, true},
        {op::reset, max},
        {op::accept, max, false},
        {op::accept, max - (W - 1), false},
        {op::too_old, max - W, true},
    };

    replay_window w;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const step& s = steps[i];
        BOOST_TEST_CONTEXT("step " << i << ", counter " << s.counter) {
            switch (s.what) {
                case op::accept: {
                    BOOST_TEST(w.check(s.counter) == s.expected);
                    const std::uint64_t before = w.highest();
                    BOOST_TEST(w.update(s.counter) == s.expected);
                    if (!s.expected) BOOST_TEST(w.highest() == before);
                    // Whatever happened, the counter is not acceptable now.
                    BOOST_TEST(!w.check(s.counter));
                    break;
                }
                case op::peek:
                    BOOST_TEST(w.check(s.counter) == s.expected);
                    BOOST_TEST(w.check(s.counter) == s.expected);
                    break;
                case op::too_old:
                    BOOST_TEST(w.is_too_old(s.counter) == s.expected);
                    if (s.expected) BOOST_TEST(!w.check(s.counter));
                    break;
                case op::reset:
                    w.reset(s.counter);
                    BOOST_TEST(w.highest() == s.counter);
                    break;
                case op::highest:
                    BOOST_TEST(!w.empty());
                    BOOST_TEST(w.highest() == s.counter);
                    break;
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(rejection_changes_nothing) {
    replay_window w;
    for (std::uint64_t c = 5000; c < 5000 + 3 * W; c += 3) BOOST_REQUIRE(w.update(c));
    const replay_window before = w;
    BOOST_TEST(!w.update(5000));              // too old
    BOOST_TEST(!w.update(5000 + 3 * W - 3));  // replay of the highest
    BOOST_TEST(!w.update(5000 + 2 * W + 1));  // replay inside (offset 8193 = 3 * 2731)
    BOOST_TEST(w.highest() == before.highest());
    for (std::uint64_t c = 5000 + 2 * W - 100; c < 5000 + 3 * W + 10; ++c)
        BOOST_REQUIRE(w.check(c) == before.check(c));
}

BOOST_AUTO_TEST_CASE(every_advance_distance_from_every_kind_of_ring_position) {
    // Start from a window with every other counter seen, ending at several
    // positions inside a word and on its edges, then advance by distances
    // around word and window sizes; compare the whole window each time.
    const std::vector<std::uint64_t> starts{0, 1, 62, 63, 64, 65, 4000, W - 1, W, 3 * W + 17};
    const std::vector<std::uint64_t> distances{1,   2,      63,     64,    65, 127,   128,
                                               129, W - 65, W - 64, W - 1, W,  W + 1, 2 * W + 5};
    for (std::uint64_t start : starts)
        for (std::uint64_t d : distances) {
            BOOST_TEST_CONTEXT("start " << start << ", advance " << d) {
                replay_window w;
                reference_window ref;
                const std::uint64_t from = start >= 2 * W ? start - 2 * W : 0;
                for (std::uint64_t c = from; c <= start; c += 2) {
                    BOOST_REQUIRE(w.update(c));
                    BOOST_REQUIRE(ref.update(c));
                }
                expect_same_window(w, ref);
                BOOST_REQUIRE(w.update(start + d) == ref.update(start + d));
                expect_same_window(w, ref);
                // And back-fill whatever is still fresh, from the oldest end.
                const std::uint64_t h = ref.highest();
                for (std::uint64_t c = h >= W - 1 ? h - (W - 1) : 0; c <= h; ++c)
                    BOOST_REQUIRE(w.update(c) == ref.update(c));
                expect_same_window(w, ref);
            }
        }
}

BOOST_AUTO_TEST_CASE(randomized_against_reference) {
    const auto seed = test_seed();
    BOOST_TEST_MESSAGE("replay window reference test: seed " << seed
                                                             << " (set WEFT_TEST_SEED to repeat)");
    std::mt19937_64 rng(seed);
    BOOST_TEST_CONTEXT("seed " << seed) {
        // Two runs: from 0, and near the top of the counter space.
        for (std::uint64_t base : {std::uint64_t{0}, max - 3'000'000}) {
            replay_window w;
            reference_window ref;
            if (base != 0) {
                w.reset(base);
                ref.reset(base);
            }
            for (int i = 0; i < 150'000; ++i) {
                const std::uint64_t h = ref.highest();
                const auto below = [&](std::uint64_t d) { return h >= d ? h - d : 0; };
                const auto above = [&](std::uint64_t d) { return h <= max - d ? h + d : max; };
                const unsigned dice = static_cast<unsigned>(rng() % 1000);
                std::uint64_t c;
                if (dice < 500) {
                    c = above(rng() % 3);  // mostly in order
                } else if (dice < 750) {
                    c = below(rng() % (W + 200));  // reordered, around the back edge
                } else if (dice < 800) {
                    c = below(W - 1 + rng() % 3);  // exactly on the back edge
                } else if (dice < 900) {
                    c = above(rng() % (2 * W + 200));  // jumps up to two windows
                } else if (dice < 910) {
                    c = above(rng() % (std::uint64_t{1} << 20));  // far jumps
                } else if (dice < 990) {
                    c = below(rng() % 64);  // recent: mostly replays
                } else if (dice < 999) {
                    c = below(rng() % (W / 2));
                    BOOST_REQUIRE(w.check(c) == ref.check(c));  // a peek only
                    continue;
                } else {
                    c = below(rng() % 10);  // a clean restart
                    w.reset(c);
                    ref.reset(c);
                    continue;
                }
                const bool expected = ref.check(c);
                if (w.check(c) != expected || w.is_too_old(c) != ref.too_old(c) ||
                    w.update(c) != ref.update(c) || w.highest() != ref.highest()) {
                    BOOST_TEST_REQUIRE(false, "step " << i << ": counter " << c << ", highest " << h
                                                      << ", reference says " << expected);
                }
                if (i % 10'000 == 0) expect_same_window(w, ref);
            }
            expect_same_window(w, ref);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
