// The data plane's decisions, without I/O: what to do with a packet read
// from the TUN device (route, queue, seal, or answer "unreachable") and with
// a frame received over UDP (check, open, verify, deliver, or drop and
// count why).  The caller owns the buffers and does the reads and writes.
//
// Not thread-safe: one thread drives it (the daemon's event loop).  The
// per-packet calls allocate nothing; queues are allocated once per peer.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/bnl_index.hpp"
#include "core/compression.hpp"
#include "core/pair_state.hpp"
#include "core/prefix_table.hpp"
#include "core/replay_window.hpp"
#include "crypto/aead.hpp"
#include "wire/frame.hpp"

namespace weft {

struct peer_endpoint {
    ip_address address;
    std::uint16_t port = 0;
    friend bool operator==(const peer_endpoint&, const peer_endpoint&) = default;
};
std::string to_string(const peer_endpoint& e);

inline constexpr std::size_t frame_drop_kinds = frame_drop_count;

struct traffic_counters {
    std::uint64_t tx_packets = 0, tx_bytes = 0, rx_packets = 0, rx_bytes = 0;
    std::array<std::uint64_t, frame_drop_kinds> drops{};
    void drop(frame_drop d) noexcept { ++drops[static_cast<std::size_t>(d)]; }
    std::uint64_t dropped(frame_drop d) const noexcept { return drops[static_cast<std::size_t>(d)]; }
};

class data_plane {
public:
    struct settings {
        std::uint32_t self_id = 0;
        unsigned mtu = 1420;
        std::size_t queue_packets = 64;        // per peer, while its keys are negotiated
        std::uint64_t reservation_block = counter_reservation_block;
        unsigned icmp_per_second = 50;         // answers to unroutable packets
    };
    // Room the caller leaves in front of a packet so the frame header can be
    // written in place, and behind it for the tag.
    static constexpr std::size_t headroom = frame_header_size;
    static constexpr std::size_t tailroom = frame_tag_size;

    explicit data_plane(settings s);

    // --- from the control plane
    // A new node list: routing and anti-spoofing follow it; peers that left
    // are forgotten (their keys and queues with them).
    void set_nodes(std::shared_ptr<const bnl_index> bnl);
    // Keys from a completed negotiation, or loaded at start.  `accept_rx`
    // false: frames under these keys are refused until a fresh epoch arrives
    // (after an unclean stop, nothing captured before the crash may replay).
    // Returns false if the state cannot be used (unknown peer, bad key).
    // `restored`: loaded from disk at start; the previous epoch is then not
    // installed (its replay window was not saved, so its frames could replay).
    bool install(const pair_state& st, bool accept_rx, bool restored);
    // A negotiation has persisted a new epoch but not yet heard the peer's
    // CONFIRM: frames under it are accepted from now on (the peer may start
    // sending as soon as it hears our CONFIRM), while sending stays on the
    // old epoch until install().  The epoch received so far becomes the
    // previous one.  Returns false as install() does.
    bool accept_epoch(const pair_state& st);
    // Drops a peer's keys and queued packets (its identity changed: a new
    // pin).  It stays a listed peer, with no keys: frames under the old keys
    // are dropped (no_key) and outbound packets wait for a new negotiation.
    void forget_keys(std::uint32_t peer) noexcept;
    // The sender reserved counters up to `reserved` on disk.
    void set_reservation(std::uint32_t peer, std::uint64_t reserved) noexcept;
    // What a clean stop may save: the next send counter, and the receive
    // window of the current receive key, with that key's epoch and whether
    // it accepts frames (a key restored after an unclean stop, or held
    // before it was accepted, does not: its empty window proves nothing).
    struct live_counters {
        std::uint64_t tx_next = 0, rx_highest = 0;
        bool rx_seen = false;
        std::optional<std::uint32_t> rx_epoch;
        bool rx_accepting = false;
        // The rx_highwater to save for `epoch` (highest counter + 1, 0 =
        // none), or nothing when the receive window held for it cannot be
        // trusted after a restart: not that epoch's, or not accepting.
        std::optional<std::uint64_t> trusted_highwater(std::uint32_t epoch) const noexcept {
            if (!rx_epoch || *rx_epoch != epoch || !rx_accepting) return std::nullopt;
            return rx_seen ? rx_highest + 1 : 0;
        }
    };
    std::optional<live_counters> counters_of(std::uint32_t peer) const noexcept;

    // --- the packet path
    enum class action {
        send,         // `out` is a frame for `endpoint`
        queued,       // kept until keys arrive; `peer` needs a negotiation
        reserve,      // persist a counter reservation for `peer` (up to `reserve_to`), then retry
        to_tun,       // `out` is a packet for the TUN device
        keepalive,    // authenticated keepalive: nothing to deliver
        drop,         // `reason` says why; already counted
    };
    struct result {
        action what = action::drop;
        frame_drop reason = frame_drop::too_short;
        std::uint32_t peer = 0;
        std::span<std::uint8_t> out;
        peer_endpoint endpoint{};
        std::uint64_t reserve_to = 0;
        bool endpoint_moved = false;  // inbound: the peer roamed
    };

    // A packet read from the TUN device, at buf[headroom, headroom + len),
    // buf.size() >= headroom + mtu + tailroom.  Sealed in place (or through
    // the compression scratch buffer).
    result outbound(std::span<std::uint8_t> buf, std::size_t len, std::int64_t now);
    // A frame received from `from`, decrypted in place.
    result inbound(std::span<std::uint8_t> frame, const peer_endpoint& from, std::int64_t now);
    // After install(): the packets queued for `peer`, sealed one by one into
    // `buf` (same layout as outbound).  Returns send or nothing more (drop
    // with reason queue_full means "empty").
    result drain_one(std::uint32_t peer, std::span<std::uint8_t> buf, std::int64_t now);
    // An authenticated empty frame that keeps NAT mappings open.
    result keepalive(std::uint32_t peer, std::span<std::uint8_t> buf, std::int64_t now);

    // --- what weftctl shows
    struct peer_view {
        std::uint32_t id;
        std::string name;
        std::optional<peer_endpoint> endpoint;
        std::optional<std::uint32_t> epoch;  // sending key
        bool accepting = true;
        std::size_t queued = 0;
        std::int64_t last_rx = 0, last_tx = 0;
        traffic_counters counters;
    };
    std::vector<peer_view> peers() const;
    const traffic_counters& unattributed() const noexcept { return global_; }  // unknown or own sender id
    std::uint64_t tx_frames_under_current(std::uint32_t peer) const noexcept;

private:
    struct tx_key {
        std::uint32_t epoch = 0;
        std::uint8_t compression = 0, level = 0;
        crypto::aead_key aead;
        std::array<std::uint8_t, 12> salt{};
        std::uint64_t next = 0, reserved = 0, sent = 0;
    };
    struct rx_key {
        std::uint32_t epoch = 0;
        crypto::aead_key aead;
        std::array<std::uint8_t, 12> salt{};
        replay_window window;
        std::int64_t valid_until = 0;  // 0: no limit
        bool accepting = true;
    };
    struct queued_packet {
        std::uint16_t len = 0;
        std::vector<std::uint8_t> bytes;  // mtu bytes, allocated once
    };
    struct peer {
        std::uint32_t id = 0;
        std::string name;
        std::optional<peer_endpoint> endpoint;  // where frames go: listed, or roamed
        peer_endpoint listed_endpoint;           // from the node list
        std::optional<tx_key> tx;
        std::optional<rx_key> rx_current, rx_previous;
        std::vector<queued_packet> queue;  // ring, allocated on first use
        std::size_t q_head = 0, q_len = 0;
        std::int64_t last_rx = 0, last_tx = 0;
        traffic_counters counters;
    };

    result seal(peer& p, std::span<std::uint8_t> buf, std::size_t len, bool keepalive, std::int64_t now);
    result dropped(peer* p, frame_drop why, std::uint32_t peer_id = 0);
    result unreachable(std::span<std::uint8_t> buf, std::size_t len, std::int64_t now);
    rx_key* rx_for(peer& p, std::uint8_t epoch_low, std::int64_t now) noexcept;
    static std::optional<crypto::aead_algorithm> alg_of(std::uint8_t cipher) noexcept;
    static std::optional<rx_key> make_rx_key(const pair_state& st, const pair_keyset& ks, std::int64_t valid_until,
                                             bool accepting);

    settings settings_;
    std::shared_ptr<const bnl_index> bnl_;
    prefix_table<std::uint32_t> routes_;  // every subnet -> owner node id
    std::unordered_map<std::uint32_t, peer> peers_;
    compressor compressor_;
    std::vector<std::uint8_t> scratch_;   // compression and ICMP output
    traffic_counters global_;
    std::int64_t icmp_window_ = 0;
    unsigned icmp_sent_ = 0;
};

}  // namespace weft
