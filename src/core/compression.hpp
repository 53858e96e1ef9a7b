// Per-frame payload compression (design.md, "Data frames"): each IP packet is
// compressed on its own, with no state carried from one packet to the next,
// so frames may be lost or reordered.  A payload is sent compressed only
// when that makes it smaller.
//
// Formats on the wire (the frame's compression id says which):
//  - lz4 (id 1): one LZ4 block (the block format, no frame header, no
//    checksum).  Level 1 is LZ4's fast compressor at acceleration 1 (what
//    LZ4_compress_default does); levels 2..12 are LZ4 HC at that level.
//  - zlib (id 2): raw deflate (RFC 1951), no zlib header and no Adler-32:
//    the AEAD tag already authenticates the payload, so the 6 bytes would
//    buy nothing.  Levels 1..9.  Any window up to 32 KiB is accepted.
// Neither format carries its decompressed size: decompression is bounded by
// the caller's output buffer (the MTU) and stops there.
//
// No allocation per call: a compressor allocates all its state (deflate and
// inflate streams with their windows, the LZ4 and LZ4 HC states, about
// 600 KiB together) once, in its constructor, and resets it per packet.
// zlib's internal allocations go through the global operator new, so a
// counting operator new sees them too (test/unit/core/compression_test.cpp).
//
// Not thread-safe: one compressor per thread.  Move-only; using a moved-from
// compressor is a programmer error and aborts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "base/result.hpp"
#include "wire/frame.hpp"

namespace weft {

// The numeric values are the frame's compression ids.
enum class compression_algorithm : std::uint8_t {
    lz4 = frame_compression_lz4,
    zlib = frame_compression_zlib,
};

inline constexpr std::uint8_t lz4_min_level = 1;
inline constexpr std::uint8_t lz4_max_level = 12;
inline constexpr std::uint8_t zlib_min_level = 1;
inline constexpr std::uint8_t zlib_max_level = 9;

// Whether `level` is a valid level of `algo`; false for an unknown algorithm.
constexpr bool valid_compression_level(compression_algorithm algo, std::uint8_t level) noexcept {
    switch (algo) {
        case compression_algorithm::lz4: return level >= lz4_min_level && level <= lz4_max_level;
        case compression_algorithm::zlib: return level >= zlib_min_level && level <= zlib_max_level;
    }
    return false;
}

// An output buffer of this size lets compress() run every algorithm and level
// to the end for an input of up to `max_input` bytes.  A smaller one still
// gives correct results, but an LZ4 HC run that fills it must rebuild its
// 256 KiB state on the next call.
constexpr std::size_t compression_scratch_size(std::size_t max_input) noexcept {
    return max_input + max_input / 255 + 16;  // LZ4_COMPRESSBOUND; deflate needs less
}

class compressor {
public:
    // Allocates all the state.  Throws std::bad_alloc when memory is short
    // (at startup, never on the packet path).
    compressor();
    ~compressor();
    compressor(compressor&&) noexcept;
    compressor& operator=(compressor&&) noexcept;
    compressor(const compressor&) = delete;
    compressor& operator=(const compressor&) = delete;

    // Compresses `in` into `out` and returns the compressed size, which is
    // always smaller than in.size().  nullopt when the result would not be
    // smaller (send the payload uncompressed), when it does not fit in `out`,
    // or when `in` is larger than the libraries accept (2^31 bytes or so).
    // An invalid level (valid_compression_level() false) is a programmer
    // error and aborts.
    [[nodiscard]] std::optional<std::size_t> compress(compression_algorithm algo,
                                                      std::uint8_t level,
                                                      std::span<const std::uint8_t> in,
                                                      std::span<std::uint8_t> out) noexcept;

    // Decompresses one payload into `out`, sized to the MTU.  Returns the
    // decompressed size, or:
    //  - decompress_too_big when the output would be larger than out.size():
    //    decoding stops at the bound, and nothing more is allocated (a
    //    compression bomb costs at most out.size() bytes of output work);
    //  - decompress_failed for an empty, malformed or truncated payload, or
    //    one with bytes after the end of its deflate stream.
    // Both formats lack checksums, so some damaged payloads decode to other
    // bytes; the AEAD tag, checked before, is what guarantees integrity.
    // `out` may be partly written in every case.
    [[nodiscard]] result<std::size_t, frame_drop> decompress(compression_algorithm algo,
                                                             std::span<const std::uint8_t> in,
                                                             std::span<std::uint8_t> out) noexcept;

private:
    struct streams;  // the zlib and lz4 states, never moved once initialised
    std::unique_ptr<streams> s_;
};

}  // namespace weft
