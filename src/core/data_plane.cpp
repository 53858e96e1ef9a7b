#include "core/data_plane.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/icmp.hpp"
#include "core/ip_packet.hpp"
#include "core/key_schedule.hpp"

namespace weft {

std::string to_string(const peer_endpoint& e) {
    return (e.address.family == ip_family::v6 ? "[" + to_string(e.address) + "]" : to_string(e.address)) + ":" +
           std::to_string(e.port);
}

data_plane::data_plane(settings s)
    : settings_(s),
      scratch_(std::max(headroom + compression_scratch_size(s.mtu) + tailroom, icmp_unreachable_max_size)) {}

void data_plane::set_nodes(std::shared_ptr<const bnl_index> bnl) {
    bnl_ = std::move(bnl);
    routes_.clear();
    std::unordered_map<std::uint32_t, peer> next;
    for (const auto& n : bnl_->list().nodes) {
        for (const auto& s : n.subnets) routes_.insert(s, n.id);
        if (n.id == settings_.self_id) continue;
        peer_endpoint listed{n.endpoint(), n.port};
        auto it = peers_.find(n.id);
        if (it != peers_.end() && it->second.name == n.name) {
            peer p = std::move(it->second);
            // A changed endpoint in the list wins over a roamed one.
            if (!p.endpoint || p.listed_endpoint != listed) p.endpoint = listed;
            p.listed_endpoint = listed;
            next.emplace(n.id, std::move(p));
        } else {
            // New, or the id now names another node: nothing carries over.
            peer p;
            p.id = n.id;
            p.name = n.name;
            p.endpoint = listed;
            p.listed_endpoint = listed;
            next.emplace(n.id, std::move(p));
        }
    }
    peers_ = std::move(next);
}

bool data_plane::install(const pair_state& st, bool accept_rx, bool restored) {
    auto it = peers_.find(st.peer_id);
    if (it == peers_.end() || !st.current || st.self_id != settings_.self_id || st.peer_name != it->second.name)
        return false;
    peer& p = it->second;
    const pair_keyset& cur = *st.current;
    auto alg = crypto::aead_algorithm_from_id(cur.cipher);
    if (!alg) return false;

    auto make_rx = [&](const pair_keyset& ks, std::int64_t valid_until) {
        return make_rx_key(st, ks, valid_until, accept_rx);
    };

    // Receive side: keep the live window of an epoch we already hold, so a
    // reinstall (or the step from current to previous) never reopens it.
    std::optional<rx_key> rx_cur, rx_prev;
    if (p.rx_current && p.rx_current->epoch == cur.epoch) {
        rx_cur = std::move(p.rx_current);
        rx_cur->accepting = rx_cur->accepting && accept_rx;
    } else {
        rx_cur = make_rx(cur, 0);
        if (!rx_cur) return false;
    }
    if (st.previous && !restored) {
        const std::int64_t until = st.previous->valid_until;
        if (p.rx_current && p.rx_current->epoch == st.previous->epoch) {
            rx_prev = std::move(p.rx_current);
            rx_prev->valid_until = until;
        } else if (p.rx_previous && p.rx_previous->epoch == st.previous->epoch) {
            rx_prev = std::move(p.rx_previous);
        }
        // Not held: never rebuilt.  A fresh window for an epoch that has
        // carried traffic would accept its captured frames again.
    }
    // Send side: a new epoch starts at its persisted reservation; the same
    // epoch keeps its live counter.
    if (!p.tx || p.tx->epoch != cur.epoch) {
        auto a = crypto::aead_key::create(*alg, cur.tx_key.span());
        if (!a) return false;
        tx_key k{cur.epoch, cur.compression, cur.level, std::move(a).value(), {}, cur.tx_reserved, cur.tx_reserved, 0};
        std::copy(cur.tx_salt.span().begin(), cur.tx_salt.span().end(), k.salt.begin());
        p.tx = std::move(k);
    }
    p.rx_current = std::move(rx_cur);
    p.rx_previous = std::move(rx_prev);
    return true;
}

std::optional<data_plane::rx_key> data_plane::make_rx_key(const pair_state& st, const pair_keyset& ks,
                                                          std::int64_t valid_until, bool accepting) {
    auto ks_alg = alg_of(ks.cipher);
    if (!ks_alg) return std::nullopt;
    auto a = crypto::aead_key::create(*ks_alg, ks.rx_key.span());
    if (!a) return std::nullopt;
    rx_key k{ks.epoch, std::move(a).value(), {}, {}, valid_until, accepting};
    std::copy(ks.rx_salt.span().begin(), ks.rx_salt.span().end(), k.salt.begin());
    // rx_highwater is "frames seen up to": highest counter + 1, 0 = none.
    if (st.clean_shutdown && ks.rx_highwater > 0) k.window.reset(ks.rx_highwater - 1);
    return k;
}

bool data_plane::accept_epoch(const pair_state& st) {
    auto it = peers_.find(st.peer_id);
    if (it == peers_.end() || !st.current || st.self_id != settings_.self_id || st.peer_name != it->second.name)
        return false;
    peer& p = it->second;
    if (p.rx_current && p.rx_current->epoch == st.current->epoch) return true;
    auto rx = make_rx_key(st, *st.current, 0, true);
    if (!rx) return false;
    // The new state's previous epoch stays accepted, with its live window,
    // for as long as that state says (the grace period).  Whatever else we
    // held (an epoch whose negotiation never confirmed) goes.
    std::optional<rx_key> prev;
    if (st.previous) {
        if (p.rx_current && p.rx_current->epoch == st.previous->epoch)
            prev = std::move(p.rx_current);
        else if (p.rx_previous && p.rx_previous->epoch == st.previous->epoch)
            prev = std::move(p.rx_previous);
        if (prev) prev->valid_until = st.previous->valid_until;
    }
    p.rx_previous = std::move(prev);
    p.rx_current = std::move(rx);
    return true;
}

void data_plane::forget_keys(std::uint32_t peer_id) noexcept {
    auto it = peers_.find(peer_id);
    if (it == peers_.end()) return;
    peer& p = it->second;
    p.tx.reset();
    p.rx_current.reset();
    p.rx_previous.reset();
    p.q_head = 0;
    p.q_len = 0;
}

std::optional<crypto::aead_algorithm> data_plane::alg_of(std::uint8_t cipher) noexcept {
    return crypto::aead_algorithm_from_id(cipher);
}

void data_plane::set_reservation(std::uint32_t peer_id, std::uint64_t reserved) noexcept {
    auto it = peers_.find(peer_id);
    if (it != peers_.end() && it->second.tx && reserved > it->second.tx->reserved) it->second.tx->reserved = reserved;
}

std::optional<data_plane::live_counters> data_plane::counters_of(std::uint32_t peer_id) const noexcept {
    auto it = peers_.find(peer_id);
    if (it == peers_.end() || !it->second.tx) return std::nullopt;
    live_counters c;
    c.tx_next = it->second.tx->next;
    if (const auto& rx = it->second.rx_current) {
        c.rx_epoch = rx->epoch;
        c.rx_accepting = rx->accepting;
        if (!rx->window.empty()) {
            c.rx_seen = true;
            c.rx_highest = rx->window.highest();
        }
    }
    return c;
}

std::uint64_t data_plane::tx_frames_under_current(std::uint32_t peer_id) const noexcept {
    auto it = peers_.find(peer_id);
    return it == peers_.end() || !it->second.tx ? 0 : it->second.tx->sent;
}

data_plane::result data_plane::dropped(peer* p, frame_drop why, std::uint32_t peer_id) {
    (p ? p->counters : global_).drop(why);
    result r;
    r.what = action::drop;
    r.reason = why;
    r.peer = p ? p->id : peer_id;
    return r;
}

[[gnu::hot]] data_plane::result data_plane::outbound(std::span<std::uint8_t> buf, std::size_t len, std::int64_t now) {
    WEFT_CHECK(buf.size() >= headroom + settings_.mtu + tailroom);
    if (len == 0 || len > settings_.mtu) return dropped(nullptr, frame_drop::bad_inner_packet);
    auto info = parse_ip_packet(buf.subspan(headroom, len));
    if (!info) return dropped(nullptr, frame_drop::bad_inner_packet);
    const std::uint32_t* owner = routes_.lookup(info->dst);
    if (!owner || *owner == settings_.self_id) return unreachable(buf, len, now);
    auto it = peers_.find(*owner);
    if (it == peers_.end()) return unreachable(buf, len, now);
    peer& p = it->second;
    if (!p.tx) {
        // Keys are being negotiated: hold the packet (bounded), so the
        // first packets of a new pair are not lost.
        if (p.queue.empty()) {
            p.queue.resize(settings_.queue_packets);
            for (auto& q : p.queue) q.bytes.resize(settings_.mtu);
        }
        if (p.q_len == p.queue.size()) return dropped(&p, frame_drop::queue_full);
        auto& slot = p.queue[(p.q_head + p.q_len) % p.queue.size()];
        std::memcpy(slot.bytes.data(), buf.data() + headroom, len);
        slot.len = static_cast<std::uint16_t>(len);
        ++p.q_len;
        result r;
        r.what = action::queued;
        r.peer = p.id;
        return r;
    }
    return seal(p, buf, len, false, now);
}

data_plane::result data_plane::drain_one(std::uint32_t peer_id, std::span<std::uint8_t> buf, std::int64_t now) {
    auto it = peers_.find(peer_id);
    result none;
    none.what = action::drop;
    none.reason = frame_drop::queue_full;
    none.peer = peer_id;
    if (it == peers_.end() || !it->second.tx || it->second.q_len == 0) return none;
    peer& p = it->second;
    auto& slot = p.queue[p.q_head];
    std::memcpy(buf.data() + headroom, slot.bytes.data(), slot.len);
    result r = seal(p, buf, slot.len, false, now);
    if (r.what != action::reserve) {  // a reservation retries the same packet
        p.q_head = (p.q_head + 1) % p.queue.size();
        --p.q_len;
    }
    return r;
}

data_plane::result data_plane::keepalive(std::uint32_t peer_id, std::span<std::uint8_t> buf, std::int64_t now) {
    auto it = peers_.find(peer_id);
    if (it == peers_.end()) return dropped(nullptr, frame_drop::unknown_sender, peer_id);
    if (!it->second.tx) return dropped(&it->second, frame_drop::no_key);
    return seal(it->second, buf, 0, true, now);
}

[[gnu::hot]] data_plane::result data_plane::seal(peer& p, std::span<std::uint8_t> buf, std::size_t len, bool keepalive,
                                    std::int64_t now) {
    tx_key& k = *p.tx;
    if (k.next == std::numeric_limits<std::uint64_t>::max()) return dropped(&p, frame_drop::no_key);
    if (k.next >= k.reserved) {
        // Counters are used only below a reservation that is on disk, so a
        // crash can never make this key repeat a nonce.
        result r;
        r.what = action::reserve;
        r.peer = p.id;
        auto room = std::numeric_limits<std::uint64_t>::max() - k.next;
        r.reserve_to = k.next + std::min<std::uint64_t>(settings_.reservation_block, room);
        return r;
    }
    std::span<std::uint8_t> frame = buf;
    std::size_t payload = len;
    std::uint8_t used_compression = 0;
    if (k.compression != 0 && len > 0) {
        auto n = compressor_.compress(static_cast<compression_algorithm>(k.compression), k.level,
                                      buf.subspan(headroom, len), std::span(scratch_).subspan(headroom, compression_scratch_size(settings_.mtu)));
        if (n) {
            frame = scratch_;
            payload = *n;
            used_compression = k.compression;
        }
    }
    frame_header h;
    h.type = keepalive ? frame_type::keepalive : frame_type::data;
    h.epoch = static_cast<std::uint8_t>(k.epoch & 0xff);
    h.compression = used_compression;
    h.sender = settings_.self_id;
    h.counter = k.next;
    write_header(frame.first<frame_header_size>(), h);
    auto nonce = make_nonce(k.salt, k.next);
    if (!k.aead.seal(nonce, frame.first(frame_header_size), frame.subspan(frame_header_size, payload),
                     frame.subspan(frame_header_size + payload).first<frame_tag_size>()))
        return dropped(&p, frame_drop::no_key);
    ++k.next;
    ++k.sent;
    if (!keepalive) {
        ++p.counters.tx_packets;
        p.counters.tx_bytes += len;
    }
    p.last_tx = now;
    result r;
    r.what = action::send;
    r.peer = p.id;
    r.out = frame.first(frame_header_size + payload + frame_tag_size);
    r.endpoint = *p.endpoint;
    return r;
}

[[gnu::hot]] data_plane::rx_key* data_plane::rx_for(peer& p, std::uint8_t epoch_low, std::int64_t now) noexcept {
    if (p.rx_current && (p.rx_current->epoch & 0xff) == epoch_low) return &*p.rx_current;
    if (p.rx_previous && (p.rx_previous->epoch & 0xff) == epoch_low) {
        if (p.rx_previous->valid_until == 0 || now < p.rx_previous->valid_until) return &*p.rx_previous;
        p.rx_previous.reset();  // grace period over
    }
    return nullptr;
}

[[gnu::hot]] data_plane::result data_plane::inbound(std::span<std::uint8_t> frame, const peer_endpoint& from, std::int64_t now) {
    auto h = parse_header(frame, settings_.mtu);
    if (!h) return dropped(nullptr, h.error());
    if (h->sender == settings_.self_id) return dropped(nullptr, frame_drop::own_sender);
    auto it = peers_.find(h->sender);
    if (it == peers_.end()) return dropped(nullptr, frame_drop::unknown_sender, h->sender);
    peer& p = it->second;
    rx_key* k = rx_for(p, h->epoch, now);
    if (!k) return dropped(&p, frame_drop::no_key);
    if (!k->accepting) return dropped(&p, frame_drop::not_accepting);
    // Cheap rejection before any crypto; the window itself changes only
    // after the tag verified.
    if (!k->window.check(h->counter)) {
        return dropped(&p, k->window.is_too_old(h->counter) ? frame_drop::too_old : frame_drop::replay);
    }
    const std::size_t ct_len = frame.size() - frame_overhead;
    auto nonce = make_nonce(k->salt, h->counter);
    if (!k->aead.open(nonce, frame.first(frame_header_size), frame.subspan(frame_header_size, ct_len),
                      frame.subspan(frame_header_size + ct_len).first<frame_tag_size>()))
        return dropped(&p, frame_drop::auth_failed);
    if (!k->window.update(h->counter)) return dropped(&p, frame_drop::replay);

    result r;
    r.peer = p.id;
    p.last_rx = now;
    if (!p.endpoint || *p.endpoint != from) {  // authenticated and new: the peer roamed
        p.endpoint = from;
        r.endpoint_moved = true;
    }
    r.endpoint = from;
    if (h->type == frame_type::keepalive) {
        r.what = action::keepalive;
        return r;
    }
    std::span<std::uint8_t> packet = frame.subspan(frame_header_size, ct_len);
    if (h->compression != 0) {
        auto n = compressor_.decompress(static_cast<compression_algorithm>(h->compression), packet,
                                        std::span(scratch_).first(settings_.mtu));
        if (!n) {
            auto d = dropped(&p, n.error());
            d.endpoint_moved = r.endpoint_moved;
            return d;
        }
        packet = std::span(scratch_).first(*n);
    }
    auto info = parse_ip_packet(packet);
    const std::uint32_t* owner = info ? routes_.lookup(info->src) : nullptr;
    if (!info || !owner || *owner != p.id) {
        auto d = dropped(&p, info ? frame_drop::spoofed_source : frame_drop::bad_inner_packet);
        d.endpoint_moved = r.endpoint_moved;
        return d;
    }
    ++p.counters.rx_packets;
    p.counters.rx_bytes += packet.size();
    r.what = action::to_tun;
    r.out = packet;
    return r;
}

data_plane::result data_plane::unreachable(std::span<std::uint8_t> buf, std::size_t len, std::int64_t now) {
    result r = dropped(nullptr, frame_drop::no_route);
    if (now != icmp_window_) {
        icmp_window_ = now;
        icmp_sent_ = 0;
    }
    if (icmp_sent_ >= settings_.icmp_per_second) return r;
    std::size_t n = build_icmp_unreachable(buf.subspan(headroom, len), std::span(scratch_));
    if (n == 0) return r;
    ++icmp_sent_;
    r.what = action::to_tun;
    r.out = std::span(scratch_).first(n);
    return r;
}

std::vector<data_plane::peer_view> data_plane::peers() const {
    std::vector<peer_view> out;
    out.reserve(peers_.size());
    for (const auto& [id, p] : peers_) {
        peer_view v{id, p.name, p.endpoint, std::nullopt, true, p.q_len, p.last_rx, p.last_tx, p.counters};
        if (p.tx) v.epoch = p.tx->epoch;
        if (p.rx_current) v.accepting = p.rx_current->accepting;
        out.push_back(std::move(v));
    }
    std::sort(out.begin(), out.end(), [](const peer_view& a, const peer_view& b) { return a.id < b.id; });
    return out;
}

}  // namespace weft
