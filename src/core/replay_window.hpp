// The anti-replay window of one receive key (FRAME.md; design.md, "Data
// frames"): which of the last 4096 counters have been accepted, in 64 words
// of 64 bits used as a ring, RFC 6479 style (no shifting as the window
// slides: only the bits that leave the window are cleared).
//
// Use, per received frame:  check() before the AEAD open (cheap rejection of
// obvious replays; changes nothing), then update() only once the tag has
// verified.  update() checks again, because another frame with the same
// counter may have been accepted between the two calls.
//
// Semantics, exactly (test/unit/core/replay_window_test.cpp compares them
// with a slow reference): with h the highest counter accepted so far, a
// counter c is acceptable when nothing has been accepted yet, or c > h, or
// h - 4096 < c <= h and c was not accepted before.  Anything at or below
// h - 4096 is too old.  Every counter, 0 and 2^64-1 included, is valid.
//
// Invariants (between calls):
//  - The bit of counter c is bit c % 64 of word (c / 64) % 64, that is ring
//    position c % 4096.  The window is the counters h-4095 .. h that exist;
//    they map one to one onto the 4096 positions.
//  - For each counter in the window its bit is 1 iff it was accepted (or
//    restored by reset()).  Every position that belongs to no counter of the
//    window (only while h < 4095: the positions h+1 .. 4095) is 0.
//  - While empty(), highest() is 0 and every bit is 0.
// When h grows to h', the positions of h+1 .. h' are cleared (they held
// counters that leave the window, or nothing): at most 65 word operations,
// one for an in-order frame.  Clearing single bits rather than whole words
// is what makes all 4096 counters usable; whole-word clearing as in RFC 6479
// would leave a guaranteed window of only 63 * 64 = 4032.
//
// A plain value: no allocation, no I/O, no exceptions.  Not thread-safe: one
// receive key's window is used by one thread at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace weft {

class replay_window {
public:
    static constexpr std::uint64_t window_size = 4096;
    static constexpr std::size_t word_bits = 64;
    static constexpr std::size_t word_count = window_size / word_bits;
    static_assert(word_count * word_bits == window_size && word_count == 64);

    // Nothing accepted yet: every counter, 0 included, is acceptable.
    replay_window() noexcept = default;

    // The read-only pre-check: true when `counter` would be accepted now;
    // false when it is too old or was already accepted.
    [[nodiscard]] bool check(std::uint64_t counter) const noexcept;

    // When check(counter) is false: whether that is because the counter is
    // behind the window (frame_drop::too_old) rather than a repeat inside it
    // (frame_drop::replay).  False whenever check(counter) is true.
    [[nodiscard]] bool is_too_old(std::uint64_t counter) const noexcept;

    // Call only after the frame's tag verified.  Accepts `counter` if
    // check(counter) holds, sliding the window forward when it is the new
    // highest, and returns true; otherwise changes nothing and returns false
    // (a replay after all).
    [[nodiscard]] bool update(std::uint64_t counter) noexcept;

    // The highest counter accepted (or restored); 0 while empty(), which is
    // indistinguishable from "0 accepted" without empty().
    [[nodiscard]] std::uint64_t highest() const noexcept { return highest_; }

    // True until the first update() that accepts, or reset().
    [[nodiscard]] bool empty() const noexcept { return empty_; }

    // After a clean restart: every counter <= highest_seen counts as
    // accepted, so a frame captured before the restart cannot be replayed;
    // every counter above is acceptable.  To restore a window that had
    // accepted nothing, construct a fresh one instead (reset(0) would refuse
    // counter 0).
    void reset(std::uint64_t highest_seen) noexcept;

private:
    [[nodiscard]] bool bit(std::uint64_t counter) const noexcept;
    // Sets the ring positions of the `count` counters from `first` on
    // (count <= window_size) to `value`.
    void fill(std::uint64_t first, std::uint64_t count, bool value) noexcept;

    std::array<std::uint64_t, word_count> bits_{};
    std::uint64_t highest_ = 0;
    bool empty_ = true;
};

}  // namespace weft
