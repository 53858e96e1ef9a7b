#include "core/compression.hpp"

// zlib's documented switch for a const next_in; must precede the include.
#define ZLIB_CONST
#include <lz4.h>
#include <lz4hc.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

#include "base/check.hpp"

namespace weft {

namespace {

// Raw deflate (negative window bits), the largest window.  memLevel 8 is
// zlib's default: its hash table and symbol buffer are allocated once.
constexpr int zlib_raw_window_bits = -15;
constexpr int zlib_mem_level = 8;
constexpr int zlib_initial_level = 6;

// compress() switches levels with deflateParams() right after deflateReset();
// from 1.2.12 on, zlib knows the stream is fresh there and does not run
// deflate() inside deflateParams().
static_assert(ZLIB_VERNUM >= 0x12c0, "zlib 1.2.12 or newer is required");

// Beyond this neither library takes an input in one call; no packet comes near.
constexpr std::size_t max_input_size = LZ4_MAX_INPUT_SIZE;

// zlib allocates through these, so that its memory comes from the global
// operator new like everything else (and a counting operator new in a test
// sees it).  Zeroed like zlib's default calloc-based allocator.
voidpf zlib_alloc(voidpf /*opaque*/, uInt items, uInt size) {
    const std::size_t bytes = std::size_t{items} * size;  // no overflow: 32 x 32 bits
    void* p = ::operator new(bytes, std::nothrow);
    if (p != nullptr) std::memset(p, 0, bytes);
    return p;
}

void zlib_free(voidpf /*opaque*/, voidpf p) { ::operator delete(p); }

const char* as_chars(const std::uint8_t* p) noexcept { return reinterpret_cast<const char*>(p); }
char* as_chars(std::uint8_t* p) noexcept { return reinterpret_cast<char*>(p); }

// Sizes the libraries take as int / uInt; larger buffers are clamped (an
// output) or refused (an input) by the callers below.
int clamp_int(std::size_t n) noexcept {
    return static_cast<int>(std::min<std::size_t>(n, INT_MAX));
}
uInt clamp_uint(std::size_t n) noexcept {
    return static_cast<uInt>(std::min<std::size_t>(n, UINT_MAX));
}

}  // namespace

// A z_stream with its end call, so that a constructor that throws halfway
// still releases what it initialised.
template <int (*End)(z_streamp)>
struct z_owner {
    z_stream z{};
    bool ready = false;
    z_owner() = default;
    z_owner(const z_owner&) = delete;
    z_owner& operator=(const z_owner&) = delete;
    ~z_owner() {
        if (ready) End(&z);
    }
};

// Lives on the heap and never moves: a z_stream's internal state points back
// at the z_stream, so the streams must keep their address.
struct compressor::streams {
    z_owner<deflateEnd> deflate;
    z_owner<inflateEnd> inflate;
    int deflate_level = zlib_initial_level;  // the level deflate is set to now
    LZ4_stream_t lz4{};
    LZ4_streamHC_t lz4hc{};

    streams() {
        deflate.z.zalloc = inflate.z.zalloc = zlib_alloc;
        deflate.z.zfree = inflate.z.zfree = zlib_free;

        int rc = deflateInit2(&deflate.z, deflate_level, Z_DEFLATED, zlib_raw_window_bits,
                              zlib_mem_level, Z_DEFAULT_STRATEGY);
        if (rc == Z_MEM_ERROR) throw std::bad_alloc();
        WEFT_CHECK(rc == Z_OK);
        deflate.ready = true;

        rc = inflateInit2(&inflate.z, zlib_raw_window_bits);
        if (rc == Z_MEM_ERROR) throw std::bad_alloc();
        WEFT_CHECK(rc == Z_OK);
        inflate.ready = true;
        // inflate allocates its 32 KiB window lazily, on the first call that
        // stops before the end of a stream (a truncated payload, or a bomb
        // stopped at the output bound).  Setting a one-byte dictionary makes
        // it allocate the window now; inflateReset() keeps the window and
        // forgets the dictionary, so every later call is allocation-free.
        const Bytef none = 0;
        rc = inflateSetDictionary(&inflate.z, &none, 1);
        if (rc == Z_MEM_ERROR) throw std::bad_alloc();
        WEFT_CHECK(rc == Z_OK);
        WEFT_CHECK(inflateReset(&inflate.z) == Z_OK);

        // LZ4 states are plain memory, initialised once; each call then
        // resets them cheaply (LZ4_compress_fast_extState, LZ4_resetStreamHC_fast).
        WEFT_CHECK(LZ4_initStream(&lz4, sizeof lz4) != nullptr);
        WEFT_CHECK(LZ4_initStreamHC(&lz4hc, sizeof lz4hc) != nullptr);
    }

    streams(const streams&) = delete;
    streams& operator=(const streams&) = delete;
};

compressor::compressor() : s_(std::make_unique<streams>()) {}
compressor::~compressor() = default;
compressor::compressor(compressor&&) noexcept = default;
compressor& compressor::operator=(compressor&&) noexcept = default;

std::optional<std::size_t> compressor::compress(compression_algorithm algo, std::uint8_t level,
                                                std::span<const std::uint8_t> in,
                                                std::span<std::uint8_t> out) noexcept {
    WEFT_CHECK(s_ != nullptr);
    WEFT_CHECK(valid_compression_level(algo, level));
    // Nothing is smaller than nothing.
    if (in.empty() || in.size() > max_input_size) return std::nullopt;
    // Only a result shorter than the input is worth sending.
    const std::size_t useful = std::min(out.size(), in.size() - 1);
    if (useful == 0) return std::nullopt;

    std::size_t produced = 0;
    switch (algo) {
        case compression_algorithm::lz4: {
            int n = 0;
            if (level == 1) {
                // What LZ4_compress_default does, with our state instead of
                // one on the stack; it stops early once `useful` is exceeded.
                n = LZ4_compress_fast_extState(&s_->lz4, as_chars(in.data()), as_chars(out.data()),
                                               static_cast<int>(in.size()),
                                               static_cast<int>(useful), 1);
            } else {
                // LZ4_compress_HC_extStateHC would clear 256 KiB per call;
                // the fast reset starts an independent block without that.
                // All of `out` is offered: a run that fails marks the state
                // dirty, and the next reset would then clear it in full.
                LZ4_resetStreamHC_fast(&s_->lz4hc, level);
                n = LZ4_compress_HC_continue(&s_->lz4hc, as_chars(in.data()), as_chars(out.data()),
                                             static_cast<int>(in.size()), clamp_int(out.size()));
            }
            if (n <= 0) return std::nullopt;  // did not fit
            produced = static_cast<std::size_t>(n);
            break;
        }
        case compression_algorithm::zlib: {
            z_stream& z = s_->deflate.z;
            // After deflateReset(), deflateParams() only switches tables
            // (see the static_assert above).
            WEFT_CHECK(deflateReset(&z) == Z_OK);
            if (s_->deflate_level != level) {
                WEFT_CHECK(deflateParams(&z, level, Z_DEFAULT_STRATEGY) == Z_OK);
                s_->deflate_level = level;
            }
            z.next_in = in.data();
            z.avail_in = static_cast<uInt>(in.size());
            z.next_out = out.data();
            z.avail_out = static_cast<uInt>(useful);  // useful < in.size() <= max_input_size
            // Z_STREAM_END: it all fit.  Z_OK or Z_BUF_ERROR: `useful` ran
            // out, so the result would not be smaller.  The next call resets.
            if (deflate(&z, Z_FINISH) != Z_STREAM_END) return std::nullopt;
            produced = useful - z.avail_out;
            break;
        }
    }
    // (An unknown algorithm failed valid_compression_level() above.)
    if (produced == 0 || produced >= in.size()) return std::nullopt;
    return produced;
}

result<std::size_t, frame_drop> compressor::decompress(compression_algorithm algo,
                                                       std::span<const std::uint8_t> in,
                                                       std::span<std::uint8_t> out) noexcept {
    WEFT_CHECK(s_ != nullptr);
    // No compressor produces an empty payload.
    if (in.empty() || in.size() > max_input_size) return unexpected{frame_drop::decompress_failed};

    switch (algo) {
        case compression_algorithm::lz4: {
            const int cap = clamp_int(out.size());
            const int src_size = static_cast<int>(in.size());
            // Safe decoding never writes past `cap`, whatever the input says.
            const int n =
                LZ4_decompress_safe(as_chars(in.data()), as_chars(out.data()), src_size, cap);
            if (n >= 0) return static_cast<std::size_t>(n);
            // Malformed, or more than `cap` bytes: an LZ4 block does not say
            // its size, so decode again, stopping at `cap`.  Reaching it means
            // the block holds more than fits: too big (even if it would turn
            // out malformed later).  Only dropped frames take this path.
            const int partial = LZ4_decompress_safe_partial(
                as_chars(in.data()), as_chars(out.data()), src_size, cap, cap);
            if (partial == cap) return unexpected{frame_drop::decompress_too_big};
            return unexpected{frame_drop::decompress_failed};
        }
        case compression_algorithm::zlib: {
            z_stream& z = s_->inflate.z;
            // Keeps the window allocated in the constructor.
            WEFT_CHECK(inflateReset(&z) == Z_OK);
            z.next_in = in.data();
            z.avail_in = static_cast<uInt>(in.size());
            z.next_out = out.data();
            z.avail_out = clamp_uint(out.size());
            const uInt cap = z.avail_out;
            // One call with Z_FINISH: inflate stops when the stream ends, the
            // input runs out, the data is bad, or the output is full.
            const int rc = inflate(&z, Z_FINISH);
            if (rc == Z_STREAM_END) {
                if (z.avail_in != 0) return unexpected{frame_drop::decompress_failed};
                return static_cast<std::size_t>(cap - z.avail_out);
            }
            // Output full and the stream not over: it holds more than fits.
            if (z.avail_out == 0 && (rc == Z_BUF_ERROR || rc == Z_OK))
                return unexpected{frame_drop::decompress_too_big};
            // Z_DATA_ERROR (malformed), Z_BUF_ERROR with room left (truncated).
            return unexpected{frame_drop::decompress_failed};
        }
    }
    return unexpected{frame_drop::decompress_failed};  // an id that names no algorithm
}

}  // namespace weft
