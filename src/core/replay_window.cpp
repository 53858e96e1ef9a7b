#include "core/replay_window.hpp"

#include <algorithm>

#include "base/check.hpp"

namespace weft {

bool replay_window::bit(std::uint64_t counter) const noexcept {
    const std::uint64_t pos = counter % window_size;
    return ((bits_[pos / word_bits] >> (pos % word_bits)) & 1u) != 0;
}

[[gnu::hot]] void replay_window::fill(std::uint64_t first, std::uint64_t count, bool value) noexcept {
    WEFT_CHECK(count <= window_size);
    std::uint64_t pos = first % window_size;
    while (count > 0) {
        const std::uint64_t shift = pos % word_bits;
        const std::uint64_t n = std::min<std::uint64_t>(word_bits - shift, count);
        const std::uint64_t ones = n == word_bits ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
        const std::uint64_t mask = ones << shift;
        std::uint64_t& word = bits_[pos / word_bits];
        word = value ? (word | mask) : (word & ~mask);
        pos = (pos + n) % window_size;
        count -= n;
    }
}

[[gnu::hot]] bool replay_window::is_too_old(std::uint64_t counter) const noexcept {
    // No overflow: the subtraction only runs when counter <= highest_.
    return !empty_ && counter <= highest_ && highest_ - counter >= window_size;
}

[[gnu::hot]] bool replay_window::check(std::uint64_t counter) const noexcept {
    if (empty_ || counter > highest_) return true;
    if (highest_ - counter >= window_size) return false;
    return !bit(counter);
}

[[gnu::hot]] bool replay_window::update(std::uint64_t counter) noexcept {
    if (!check(counter)) return false;
    if (empty_) {
        // Every bit is 0 (invariant of the empty window), which is right for
        // all of counter-4095 .. counter-1 and for the unused positions.
        empty_ = false;
        highest_ = counter;
    } else if (counter > highest_) {
        // Positions of highest_+1 .. counter: their old counters leave the
        // window (or never existed); the new ones are unseen.  A jump of a
        // whole window or more clears everything.
        const std::uint64_t advance = counter - highest_;
        fill(highest_ + 1, std::min(advance, window_size), false);
        highest_ = counter;
    }
    fill(counter, 1, true);
    return true;
}

void replay_window::reset(std::uint64_t highest_seen) noexcept {
    bits_.fill(0);
    empty_ = false;
    highest_ = highest_seen;
    // The window's counters are max(0, h-4095) .. h: all count as seen.  The
    // positions of nonexistent counters stay 0 (see the invariants).
    fill(highest_seen >= window_size - 1 ? highest_seen - (window_size - 1) : 0,
         std::min(highest_seen, window_size - 1) + 1, true);
}

}  // namespace weft
