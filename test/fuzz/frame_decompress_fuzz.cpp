// Fuzz target: the receive path's parsers of untrusted bytes.  The first
// byte selects; the rest is used three ways:
//  1. decompress() into an MTU-sized buffer (selector bit 0: lz4 or zlib).
//     Whatever decodes must fit, and must survive a compress/decompress
//     round trip at a level taken from the selector's other bits.
//  2. parse_header() with the MTU as the bound.  An accepted header must be
//     within the size bounds and be written back to exactly the same bytes.
//  3. A replay_window driven by 9-byte records (a control byte, then a
//     big-endian u64 counter), compared at every step with a slow reference
//     (std::set + highest, window 4096).
// Any disagreement is a WEFT_CHECK failure, which aborts: a finding.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <span>

#include "base/check.hpp"
#include "base/endian.hpp"
#include "core/compression.hpp"
#include "core/replay_window.hpp"
#include "wire/frame.hpp"

namespace {

constexpr std::size_t mtu = 1420;
constexpr std::uint64_t window = weft::replay_window::window_size;

// The window's specification, the slow way.
class reference_window {
public:
    bool too_old(std::uint64_t c) const {
        return highest_ && c <= *highest_ && *highest_ - c >= window;
    }
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

void fuzz_decompress(weft::compressor& c, std::uint8_t selector, std::span<const std::uint8_t> in) {
    using weft::compression_algorithm;
    const auto algo =
        (selector & 1) != 0 ? compression_algorithm::zlib : compression_algorithm::lz4;
    std::array<std::uint8_t, mtu> out{};
    auto r = c.decompress(algo, in, out);
    if (!r) {
        WEFT_CHECK(r.error() == weft::frame_drop::decompress_failed ||
                   r.error() == weft::frame_drop::decompress_too_big);
        return;
    }
    WEFT_CHECK(*r <= out.size());
    const std::span<const std::uint8_t> plain(out.data(), *r);

    const unsigned max_level =
        algo == compression_algorithm::lz4 ? weft::lz4_max_level : weft::zlib_max_level;
    const auto level = static_cast<std::uint8_t>(1 + (selector >> 1) % max_level);
    std::array<std::uint8_t, weft::compression_scratch_size(mtu)> packed{};
    auto n = c.compress(algo, level, plain, packed);
    if (!n) return;
    WEFT_CHECK(*n < plain.size());
    std::array<std::uint8_t, mtu> again{};
    auto back = c.decompress(algo, std::span<const std::uint8_t>(packed.data(), *n), again);
    WEFT_CHECK(back.has_value());
    WEFT_CHECK(*back == plain.size());
    WEFT_CHECK(std::equal(plain.begin(), plain.end(), again.begin()));
}

void fuzz_header(std::span<const std::uint8_t> in) {
    auto h = weft::parse_header(in, mtu);
    if (!h) {
        const auto e = h.error();
        WEFT_CHECK(e == weft::frame_drop::too_short || e == weft::frame_drop::too_long ||
                   e == weft::frame_drop::bad_type || e == weft::frame_drop::bad_flags);
        return;
    }
    WEFT_CHECK(in.size() >= weft::frame_min_size && in.size() <= weft::frame_max_size(mtu));
    std::array<std::uint8_t, weft::frame_header_size> written{};
    weft::write_header(written, *h);
    WEFT_CHECK(std::equal(written.begin(), written.end(), in.begin()));
}

void fuzz_window(std::span<const std::uint8_t> in) {
    weft::replay_window w;
    reference_window ref;
    constexpr std::size_t record = 9;
    for (std::size_t off = 0; off + record <= in.size(); off += record) {
        const std::uint8_t control = in[off];
        const std::uint64_t v = weft::load_be64(in, off + 1);
        const std::uint64_t h = ref.highest();
        std::uint64_t c = v;  // modes 1, 2: the counter as it is
        switch (control % 8) {
            case 0:
                w.reset(v);
                ref.reset(v);
                WEFT_CHECK(w.highest() == v && !w.empty());
                continue;
            case 1:
            case 2:
                break;
            case 3:
                c = h + v % (std::uint64_t{1} << 20);
                break;  // forward jumps (may wrap)
            default:
                c = h - (window + 64) + v % (window + 128);
                break;  // around the window
        }
        WEFT_CHECK(w.check(c) == ref.check(c));
        WEFT_CHECK(w.is_too_old(c) == ref.too_old(c));
        if ((control & 8) == 0) WEFT_CHECK(w.update(c) == ref.update(c));
        WEFT_CHECK(w.highest() == ref.highest());
        WEFT_CHECK(w.empty() == ref.empty());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    // One compressor for the process, as the daemon keeps one per thread:
    // state left by one input must not change the next one's result.
    static weft::compressor c;
    const std::span<const std::uint8_t> input(data, size);
    const std::span<const std::uint8_t> rest = input.subspan(1);
    fuzz_decompress(c, input[0], rest);
    fuzz_header(rest);
    fuzz_window(rest);
    return 0;
}
