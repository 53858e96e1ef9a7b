// The data frame header (FRAME.md beside this file): its layout, its codec,
// the nonce construction, and frame_drop, the one list of every reason the
// data plane drops a frame.  This header and frame.cpp are the only code that
// knows the frame layout; everything else uses the constants below.
//
// Pure functions over caller-owned spans: no allocation, no exceptions, no
// state.  Parsing never aborts on input; writing a header that could not be
// parsed back is a programmer error and aborts (WEFT_CHECK).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/result.hpp"

namespace weft {

// ------------------------------------------------------------- layout --

inline constexpr std::size_t frame_type_offset = 0;     // u8
inline constexpr std::size_t frame_epoch_offset = 1;    // u8
inline constexpr std::size_t frame_flags_offset = 2;    // u16 big-endian
inline constexpr std::size_t frame_sender_offset = 4;   // u32 big-endian
inline constexpr std::size_t frame_counter_offset = 8;  // u64 big-endian
inline constexpr std::size_t frame_header_size = 16;    // also the associated data
inline constexpr std::size_t frame_payload_offset = frame_header_size;
inline constexpr std::size_t frame_tag_size = 16;
// Bytes a frame adds to its payload; also the size of a keepalive, the
// smallest frame there is.
inline constexpr std::size_t frame_overhead = frame_header_size + frame_tag_size;
inline constexpr std::size_t frame_min_size = frame_overhead;
static_assert(frame_overhead == 32);

// The largest frame that may carry a payload of at most `max_payload` bytes
// (the MTU).  Callers size their receive buffers with it.
constexpr std::size_t frame_max_size(std::size_t max_payload) noexcept {
    return frame_overhead + max_payload;
}

// Flags: bits 0-1 the compression of the payload, bits 2-15 reserved (zero).
inline constexpr std::uint16_t frame_flags_compression_mask = 0x0003;
inline constexpr std::uint16_t frame_flags_reserved_mask = 0xfffc;

// Compression ids of the flags field.  The same numbers name the algorithms
// in core/compression.hpp.
inline constexpr std::uint8_t frame_compression_none = 0;
inline constexpr std::uint8_t frame_compression_lz4 = 1;
inline constexpr std::uint8_t frame_compression_zlib = 2;
inline constexpr std::uint8_t frame_compression_max = frame_compression_zlib;

inline constexpr std::size_t frame_nonce_size = 12;
inline constexpr std::size_t frame_salt_size = 12;

// --------------------------------------------------------------- types --

enum class frame_type : std::uint8_t {
    data = 1,       // payload: one IP packet, compressed or not
    keepalive = 2,  // empty payload: exactly frame_min_size bytes, never compressed
};

struct frame_header {
    frame_type type = frame_type::data;
    std::uint8_t epoch = 0;        // low 8 bits of the key epoch
    std::uint8_t compression = 0;  // frame_compression_none, _lz4 or _zlib
    std::uint32_t sender = 0;      // the sender's node id
    std::uint64_t counter = 0;     // never repeats under one key

    friend bool operator==(const frame_header&, const frame_header&) = default;
};

// Every reason the data plane drops a frame or an outbound packet: the
// receive path's reasons in the order it checks them (FRAME.md, "Receive
// order of checks"), then the send path's, then the restart gate.  The daemon
// keeps one counter per reason and peer, indexed by the numeric value, so the
// values are dense from 0 and frame_drop_count is one past the last.  A new
// reason is appended (existing values never move), with frame_drop_count and
// to_string() updated.
enum class frame_drop : std::uint8_t {
    too_short = 0,       // shorter than frame_min_size
    too_long,            // longer than frame_max_size(mtu), or a keepalive with a payload
    bad_type,            // type neither data nor keepalive
    bad_flags,           // a reserved flag bit set, an unknown compression id,
                         // or a compressed keepalive
    unknown_sender,      // sender id not in the BNL
    own_sender,          // sender id is this node's own
    no_key,              // no receive key for that epoch (or its grace is over)
    replay,              // counter inside the window and already seen
    too_old,             // counter behind the window
    auth_failed,         // the AEAD tag did not verify
    decompress_failed,   // malformed compressed payload
    decompress_too_big,  // the payload would decompress past the MTU (an attack)
    bad_inner_packet,    // not an IPv4 or IPv6 packet after decryption
    spoofed_source,      // inner source address outside the sender's BNL subnets
    no_route,            // outbound: no node's subnet holds the destination
    queue_full,          // outbound: the queue of a pair that negotiates is full
    not_accepting,       // after an unclean restart, waiting for a fresh epoch
};
inline constexpr std::size_t frame_drop_count = 17;
static_assert(static_cast<std::size_t>(frame_drop::not_accepting) + 1 == frame_drop_count,
              "frame_drop_count must be one past the last reason");

// The reason's name, equal to its enumerator ("too_short", ...); stable, as
// it appears in `weftctl status --json`.  "unknown" for a value outside the
// enumeration.
std::string_view to_string(frame_drop reason) noexcept;

// ---------------------------------------------------------------- codec --

// Writes the 16 header bytes.  Aborts (programmer error) when the header
// could not be parsed back: an unknown type, a compression id above
// frame_compression_max, or a compressed keepalive.
void write_header(std::span<std::uint8_t, frame_header_size> out,
                  const frame_header& header) noexcept;

// The cheap checks of a received frame, before any lookup or crypto, in this
// order: size (too_short below frame_min_size, too_long above
// frame_max_size(max_payload)), type (bad_type), flags (bad_flags for a
// reserved bit or an unknown compression id), then the keepalive shape (a
// keepalive with a payload is too_long, a compressed one bad_flags).
// `frame` is the whole datagram; `max_payload` the MTU.  Returns the header,
// or the first failed check's reason.  Sender, epoch and counter are not
// judged here: they need the BNL, the keys and the replay window.
result<frame_header, frame_drop> parse_header(std::span<const std::uint8_t> frame,
                                              std::size_t max_payload) noexcept;

// The AEAD nonce of a frame: salt XOR (4 zero bytes || counter big-endian).
// Unique per frame as long as the counter never repeats under one key.
std::array<std::uint8_t, frame_nonce_size> make_nonce(
    std::span<const std::uint8_t, frame_salt_size> salt, std::uint64_t counter) noexcept;

}  // namespace weft
