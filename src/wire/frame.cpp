#include "wire/frame.hpp"

#include "base/check.hpp"
#include "base/endian.hpp"

namespace weft {

namespace {

constexpr bool known_type(std::uint8_t t) noexcept {
    return t == static_cast<std::uint8_t>(frame_type::data) ||
           t == static_cast<std::uint8_t>(frame_type::keepalive);
}

}  // namespace

std::string_view to_string(frame_drop reason) noexcept {
    switch (reason) {
        case frame_drop::too_short: return "too_short";
        case frame_drop::too_long: return "too_long";
        case frame_drop::bad_type: return "bad_type";
        case frame_drop::bad_flags: return "bad_flags";
        case frame_drop::unknown_sender: return "unknown_sender";
        case frame_drop::own_sender: return "own_sender";
        case frame_drop::no_key: return "no_key";
        case frame_drop::replay: return "replay";
        case frame_drop::too_old: return "too_old";
        case frame_drop::auth_failed: return "auth_failed";
        case frame_drop::decompress_failed: return "decompress_failed";
        case frame_drop::decompress_too_big: return "decompress_too_big";
        case frame_drop::bad_inner_packet: return "bad_inner_packet";
        case frame_drop::spoofed_source: return "spoofed_source";
        case frame_drop::no_route: return "no_route";
        case frame_drop::queue_full: return "queue_full";
        case frame_drop::not_accepting: return "not_accepting";
    }
    return "unknown";
}

[[gnu::hot]] void write_header(std::span<std::uint8_t, frame_header_size> out,
                  const frame_header& header) noexcept {
    const auto type = static_cast<std::uint8_t>(header.type);
    WEFT_CHECK(known_type(type));
    WEFT_CHECK(header.compression <= frame_compression_max);
    WEFT_CHECK(header.type != frame_type::keepalive ||
               header.compression == frame_compression_none);
    out[frame_type_offset] = type;
    out[frame_epoch_offset] = header.epoch;
    // Reserved flag bits are written as zero: the receiver drops anything else.
    store_be<std::uint16_t>(out, frame_flags_offset, header.compression);
    store_be<std::uint32_t>(out, frame_sender_offset, header.sender);
    store_be<std::uint64_t>(out, frame_counter_offset, header.counter);
}

[[gnu::hot]] result<frame_header, frame_drop> parse_header(std::span<const std::uint8_t> frame,
                                              std::size_t max_payload) noexcept {
    // Size first: every read below stays inside the first frame_min_size bytes.
    if (frame.size() < frame_min_size) return unexpected{frame_drop::too_short};
    // Written as a subtraction so that no max_payload can overflow the bound.
    const std::size_t payload = frame.size() - frame_overhead;
    if (payload > max_payload) return unexpected{frame_drop::too_long};

    const std::uint8_t type = frame[frame_type_offset];
    if (!known_type(type)) return unexpected{frame_drop::bad_type};

    const std::uint16_t flags = load_be16(frame, frame_flags_offset);
    if ((flags & frame_flags_reserved_mask) != 0) return unexpected{frame_drop::bad_flags};
    const auto compression = static_cast<std::uint8_t>(flags & frame_flags_compression_mask);
    if (compression > frame_compression_max) return unexpected{frame_drop::bad_flags};

    frame_header h;
    h.type = static_cast<frame_type>(type);
    // A keepalive carries nothing: its ciphertext is empty and never compressed.
    if (h.type == frame_type::keepalive) {
        if (payload != 0) return unexpected{frame_drop::too_long};
        if (compression != frame_compression_none) return unexpected{frame_drop::bad_flags};
    }
    h.epoch = frame[frame_epoch_offset];
    h.compression = compression;
    h.sender = load_be32(frame, frame_sender_offset);
    h.counter = load_be64(frame, frame_counter_offset);
    return h;
}

[[gnu::hot]] std::array<std::uint8_t, frame_nonce_size> make_nonce(
    std::span<const std::uint8_t, frame_salt_size> salt, std::uint64_t counter) noexcept {
    static_assert(frame_nonce_size == frame_salt_size && frame_nonce_size == 4 + 8);
    std::array<std::uint8_t, frame_nonce_size> nonce{};
    store_be<std::uint64_t>(nonce, 4, counter);  // bytes 0..3 stay zero
    for (std::size_t i = 0; i < frame_nonce_size; ++i)
        nonce[i] = static_cast<std::uint8_t>(nonce[i] ^ salt[i]);
    return nonce;
}

}  // namespace weft
