#include "app/daemon.hpp"

#include <sys/epoll.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <set>
#include <stdexcept>

#include "core/segmentation.hpp"
#include "crypto/cpu_features.hpp"
#include "io/file.hpp"
#include "io/unique_fd.hpp"

namespace weft::app {

namespace asio = boost::asio;
using asio::awaitable;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

peer_endpoint to_peer(const io::udp_endpoint& e) { return {e.addr, e.port}; }
io::udp_endpoint to_udp(const peer_endpoint& e) { return {e.address, e.port}; }

std::string read_or_throw(const std::filesystem::path& p, std::size_t max, const char* what) {
    std::string out;
    if (auto ec = io::read_file_bounded(p, max, out))
        throw std::runtime_error(std::string(what) + " " + p.string() + ": " + ec.message());
    return out;
}

}  // namespace

std::string check_config(const weft_config& cfg) {
    std::vector<crypto::public_key> keys;
    for (const auto& k : cfg.bnl_keys) {
        auto key = crypto::public_key::from_pem(read_or_throw(k, 64 * 1024, "bnl-key"));
        if (!key) throw std::runtime_error("bnl-key " + k.string() + ": " + key.error().message);
        keys.push_back(std::move(key).value());
    }
    auto v = verify_bnl(read_or_throw(cfg.bnl, bnl_max_file_bytes, "bnl"), keys);
    if (!v) throw std::runtime_error("bnl " + cfg.bnl.string() + ": " + to_string(v.error()));
    bnl_index idx(v->list);
    const bnl_node* self = idx.by_name(cfg.name);
    if (!self) throw std::runtime_error("node '" + cfg.name + "' is not in the node list " + cfg.bnl.string());
    auto tls = io::tls_context::load({cfg.cert, cfg.key, cfg.ca});
    if (!tls) throw std::runtime_error(tls.error());
    if ((*tls)->own_name() != cfg.name)
        throw std::runtime_error("certificate " + cfg.cert.string() + " is for '" + (*tls)->own_name() +
                                 "', but this node is '" + cfg.name + "'");
    if (self->pin && *self->pin != (*tls)->own_fingerprint())
        throw std::runtime_error("certificate " + cfg.cert.string() + " does not match this node's pin in the node list");
    return describe(cfg) + "node list: network " + v->list.network + ", version " + std::to_string(v->list.version) +
           ", " + std::to_string(v->list.nodes.size()) + " nodes; this node id " + std::to_string(self->id) + "\n";
}

daemon::daemon(weft_config cfg, io::logger& log)
    : cfg_(std::move(cfg)), log_(log), signals_(io_), tick_(io_), dist_timer_(io_) {}

daemon::~daemon() = default;

std::int64_t daemon::now() const { return static_cast<std::int64_t>(std::time(nullptr)); }

void daemon::start() {
    // The node list: trusted keys, signature, and this node's own entry.
    for (const auto& k : cfg_.bnl_keys) {
        auto key = crypto::public_key::from_pem(read_or_throw(k, 64 * 1024, "bnl-key"));
        if (!key) throw std::runtime_error("bnl-key " + k.string() + ": " + key.error().message);
        trusted_.push_back(std::move(key).value());
    }
    auto v = verify_bnl(read_or_throw(cfg_.bnl, bnl_max_file_bytes, "bnl"), trusted_);
    if (!v) throw std::runtime_error("bnl " + cfg_.bnl.string() + ": " + to_string(v.error()));
    bnl_file_ = std::make_shared<const verified_bnl>(std::move(v).value());
    bnl_ = std::make_shared<const bnl_index>(bnl_file_->list);
    const bnl_node* self = bnl_->by_name(cfg_.name);
    if (!self) throw std::runtime_error("node '" + cfg_.name + "' is not in the node list " + cfg_.bnl.string());
    self_id_ = self->id;
    const std::uint16_t port = cfg_.port.value_or(self->port);

    auto tls = io::tls_context::load({cfg_.cert, cfg_.key, cfg_.ca});
    if (!tls) throw std::runtime_error(tls.error());
    tls_ = std::move(tls).value();
    if (tls_->own_name() != cfg_.name)
        throw std::runtime_error("certificate " + cfg_.cert.string() + " is for '" + tls_->own_name() +
                                 "', but this node is '" + cfg_.name + "'");
    auto store = io::state_store::open(cfg_.state_dir, self_id_);
    if (!store) throw std::runtime_error("state-dir " + cfg_.state_dir.string() + ": " + store.error());
    store_.emplace(std::move(store).value());
    for (const auto& w : store_->warnings()) log_.warning("state: {}", w);
    // Bound before anything visible happens: a live socket (another daemon)
    // or a bad path refuses the start before the interface and the up hook.
    open_control();

    auto tun = io::tun_device::open(cfg_.interface, cfg_.mtu, cfg_.offload);
    if (!tun) throw std::runtime_error(tun.error());
    tun_.emplace(std::move(tun).value());
    auto udp = io::udp_socket::open(port, cfg_.listen);
    if (!udp) throw std::runtime_error(udp.error());
    udp_.emplace(std::move(udp).value());

    io::negotiation_settings ns;
    ns.listen = {{cfg_.listen ? asio::ip::make_address(to_string(*cfg_.listen)) : asio::ip::address(asio::ip::address_v6::any()), port}};
    ns.prefs = cfg_.prefs;
    for (const auto& [name, p] : cfg_.peer_prefs) ns.peer_prefs[name] = p;
    ns.require_ou = cfg_.require_ou;
    ns.handshake_timeout = cfg_.handshake_timeout;
    ns.max_connections = cfg_.max_connections;
    ns.list_ask_interval = cfg_.list_ask_interval;
    ns.rekey_after = cfg_.rekey_after;
    ns.rekey_messages = cfg_.rekey_messages;
    ns.rekey_grace = cfg_.rekey_grace;
    // Built once more (IPv4 only) when the host has no dual-stack listener.
    auto make_negotiation = [&]() {
        neg_ = std::make_unique<io::negotiation_service>(io_, ns, *tls_, self_id_, [this] { return bnl_; }, *store_, log_);
        neg_->on_established = [this](const pair_state& st) { established(st); };
        // Accept a new epoch as soon as it is persisted (the peer may send under it).
        neg_->on_persisted = [this](const pair_state& st) {
            if (dp_) dp_->accept_epoch(st);
        };
        start_distribution(ns.max_list_exchanges);
        return neg_->start();
    };
    if (auto ec = make_negotiation()) {
        if (cfg_.listen) throw std::runtime_error("cannot listen on port " + std::to_string(port) + ": " + ec.message());
        neg_.reset();
        ns.listen = {{asio::ip::address_v4::any(), port}};
        if (auto ec2 = make_negotiation())
            throw std::runtime_error("cannot listen on port " + std::to_string(port) + ": " + ec2.message());
    }

    data_plane::settings ds;
    ds.self_id = self_id_;
    ds.mtu = cfg_.mtu;
    ds.queue_packets = cfg_.queue_packets;
    dp_ = std::make_unique<data_plane>(ds);
    dp_->set_nodes(bnl_);
    // Offloads: TUN reads may be 64 KiB TCP super-packets (split here),
    // frames to one peer leave in one UDP_SEGMENT send, and the socket may
    // hand over several coalesced frames at once (UDP_GRO).  Each is probed;
    // what the kernel lacks falls back to one packet per read/write and
    // sendmmsg/recvmmsg batches.
    gso_ = cfg_.offload && udp_->probe_gso();
    gro_ = cfg_.offload && udp_->enable_gro();
    tx_slot_size_ = data_plane::headroom + cfg_.mtu + data_plane::tailroom;
    tun_buf_.resize(io::vnet_header_bytes + 65536);
    drain_buf_.resize(tx_slot_size_);
    tx_buf_.resize((tx_max_frames + 1) * tx_slot_size_);
    tx_batch_ = std::make_unique<io::udp_batch<tx_max_frames>>();
    rx_batch_ = std::make_unique<io::udp_batch<tx_max_frames>>();
    if (gro_) {
        udp_buf_.resize(65536);
    } else {
        // One frame per message: a frame is at most mtu + overhead bytes;
        // anything larger is reported truncated and dropped.
        const std::size_t slot = cfg_.mtu + frame_overhead + 1;
        rx_buf_.resize(tx_max_frames * slot);
        for (std::size_t i = 0; i < tx_max_frames; ++i)
            (*rx_batch_)[i].buffer = std::span(rx_buf_).subspan(i * slot, slot);
    }
    if (tun_->offload()) rx_join_ = std::make_unique<tcp_coalescer>();
    if (!tun_->offload_refused().empty())
        log_.warning("tun: the kernel refused offloads ({}); reading and writing plain packets",
                     tun_->offload_refused());
    log_.notice("data path: TUN offloads (TSO, checksum) {}, UDP GSO {}, UDP GRO {}, TCP coalescing {}{}",
                tun_->offload() ? "on" : "off", gso_ ? "on" : "off", gro_ ? "on" : "off", rx_join_ ? "on" : "off",
                cfg_.offload ? "" : " (offload = off)");
    install_restored();

    hooks_ = std::make_unique<io::hook_runner>(io_, log_, cfg_.dir, cfg_.hook_timeout);
    if (cfg_.hooks.up) hooks_->run("up", *cfg_.hooks.up, io::interface_hook_env(tun_->name()));
    subnet_hooks(nullptr, *bnl_);

    if (control_) control_->start();  // answers from here on
    started_at_ = now();
    log_.notice("weftd {} started: node {} (id {}), network {}, node list version {}, interface {}, port {}",
                WEFT_VERSION, cfg_.name, self_id_, bnl_->list().network, bnl_->list().version, tun_->name(), port);
    log_.info("OpenSSL CPU features: {}", crypto::openssl_cpu_settings());
    if (const char* cap = std::getenv("OPENSSL_ia32cap"); cap && *cap == '\0')
        log_.warning("OPENSSL_ia32cap is set but empty: OpenSSL runs without AES-NI or any other CPU feature "
                     "(slow, and AES from tables); unset it, or set it to :~0 to keep what OpenSSL detects");
    neg_->request_missing(std::chrono::milliseconds(std::min<std::size_t>(bnl_->list().nodes.size() * 50, 10'000)));
}

void daemon::install_restored() {
    for (const auto& n : bnl_->list().nodes) {
        const pair_state* st = neg_->pair(n.id);
        if (!st || !st->current) continue;
        const bool clean = st->clean_shutdown;
        if (!dp_->install(*st, clean, true)) {
            log_.warning("state: keys for {} unusable; renegotiating", n.name);
            neg_->request(n.id);
            continue;
        }
        if (clean) {
            // From now on a crash is an unclean stop again.  If the mark
            // cannot be cleared, a crash would restore this start's window:
            // then accept nothing under these keys, as after a crash.
            if (auto ec = neg_->update(n.id, [](pair_state& s) { s.clean_shutdown = false; })) {
                log_.error("state: cannot save state for {}: {}; accepting after renegotiation", n.name,
                           ec.message());
                dp_->install(*st, false, true);
                neg_->request(n.id);
                continue;
            }
            log_.info("resumed pair with {} at epoch {} without renegotiating", n.name, st->current->epoch);
        } else {
            // Anything captured before the crash could replay into a window
            // we did not save: accept the peer only under a fresh epoch.
            log_.notice("pair with {}: previous stop was unclean; sending at once, accepting after renegotiation", n.name);
            neg_->request(n.id);
        }
    }
}

int daemon::run() {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.add(SIGHUP);
    signals_.add(SIGUSR1);
    signals_.add(SIGUSR2);
    auto spawn = [this](awaitable<void> a) {
        asio::co_spawn(io_, std::move(a), [this](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                fail(ex);
            }
        });
    };
    spawn(signal_loop());
    spawn(tick_loop());
    spawn(distribution_loop());
    run_loop();
    shutdown();
    return exit_code_;
}

namespace {

// The epoll descriptor of Asio's reactor, which Boost keeps private.  An
// explicit instantiation may name a private member ([temp.spec.general]),
// so this reads it without touching the object's layout; a Boost that
// renames the member makes this stop compiling rather than misbehave.
using asio_reactor = asio::detail::epoll_reactor;
int asio_reactor::*reactor_epoll_fd();
template <int asio_reactor::*Member>
struct expose_reactor_epoll_fd {
    friend int asio_reactor::*reactor_epoll_fd() { return Member; }
};
template struct expose_reactor_epoll_fd<&asio_reactor::epoll_fd_>;

}  // namespace

// The event loop.  A packet that wakes an idle node goes from epoll_wait()
// straight to tun_ready() or udp_ready(): no trip through Asio's scheduler,
// reactor and operation objects, whose code, heap and stack are cold pages
// after an idle period (HOWTO, performance section, "The event loop").
// Everything else (TLS, timers, signals, the control socket) stays in
// Asio: its reactor's epoll descriptor is one of the three this loop
// waits on, and io_.poll() runs what is ready after every wake (after the
// packets have gone out), which also runs anything the packet handlers
// posted.  Level-triggered: a handler that stops after a batch is called
// again at once.  For the same reason as the loop, every function a packet
// passes through (here and in core, wire, crypto and io) is [[gnu::hot]],
// which makes GCC place them together: a new one on that path should be too.
void daemon::run_loop() {
    const int asio_fd = asio::use_service<asio_reactor>(io_).*reactor_epoll_fd();
    io::unique_fd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (ep.get() < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    enum : std::uint32_t { tun_event, udp_event, asio_event };
    for (auto [fd, what] : {std::pair{tun_->fd(), tun_event}, {udp_->fd(), udp_event}, {asio_fd, asio_event}}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = what;
        if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
            throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
    }
    for (;;) {
        io_.poll();
        if (io_.stopped()) return;
        std::array<epoll_event, 3> ready;
        int n = ::epoll_wait(ep.get(), ready.data(), static_cast<int>(ready.size()), -1);
        if (n < 0) {
            if (errno == EINTR) continue;  // a signal: Asio's pipe has it
            throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
        }
        try {
            for (int i = 0; i < n && !stopping_; ++i) {
                if (ready[static_cast<std::size_t>(i)].data.u32 == tun_event) tun_ready();
                else if (ready[static_cast<std::size_t>(i)].data.u32 == udp_event) udp_ready();
            }
        } catch (const std::exception& ex) {
            fail(ex);
            return;
        }
    }
}

awaitable<void> daemon::signal_loop() {
    while (!stopping_) {
        auto [ec, sig] = co_await signals_.async_wait(use_tuple);
        if (ec) co_return;
        if (sig == SIGINT || sig == SIGTERM) {
            log_.notice("signal {}: stopping", sig == SIGINT ? "INT" : "TERM");
            stopping_ = true;
            io_.stop();
            co_return;
        }
        if (sig == SIGUSR2) {
            log_status();
            continue;
        }
        if (sig == SIGHUP)
            reload("SIGHUP");
        else
            reload_and_push("SIGUSR1");
    }
}

// SIGHUP: the hook commands are read again from weft.conf (a broken file
// keeps the ones in force).  Every other setting needs a restart.
bnl_load daemon::reload(const char* why) {
    reload_hooks();
    return reload_bnl(why);
}

daemon::push_outcome daemon::reload_and_push(const char* why) {
    push_outcome r{reload_bnl(why), false};
    if (!r.load.refused) r.pushed_now = push_bnl(why);
    return r;
}

void daemon::reload_hooks() {
    auto c = load_config(cfg_.dir);
    if (!c) {
        log_.warning("SIGHUP: {} not reloaded, hooks unchanged: {}", cfg_.file.string(), c.error());
        return;
    }
    if (c->hooks == cfg_.hooks) return;
    cfg_.hooks = c->hooks;
    log_.notice("SIGHUP: hook commands reloaded from {}", cfg_.file.string());
}

void daemon::fail(const std::exception& ex) {
    log_.error("internal error: {}", ex.what());
    exit_code_ = 1;
    io_.stop();
}

[[gnu::hot]] void daemon::tun_ready() {
    // Drain in batches, send what they produced together, then let the
    // other loops run.  When traffic is sparse (the last wake found one
    // packet), the first packet goes out before the read that will most
    // likely find nothing: an idle ping does not wait for that system call.
    int got = 0;
    for (int i = 0; i < 64; ++i) {
        // Read straight into the next frame slot, sealed in place.  With
        // offloads the vnet header lands in the slot's headroom, just
        // before the packet, and what does not fit (a super-packet's rest)
        // in tun_buf_.
        std::span<std::uint8_t> slot = tx_slot();
        ssize_t n;
        if (tun_->offload()) {
            std::span<std::uint8_t> head = tun_head(slot);
            n = tun_->read_split(head, std::span(tun_buf_).subspan(head.size()));
        } else {
            n = tun_->read(slot.subspan(data_plane::headroom, cfg_.mtu));
        }
        if (n < 0) {
            if (n != -EAGAIN && n != -EINTR) log_.warning("tun read: {}", std::strerror(static_cast<int>(-n)));
            break;
        }
        handle_tun_read(slot, static_cast<std::size_t>(n));
        if (++got == 1 && tun_sparse_) flush_tx();
    }
    tun_sparse_ = got <= 1;
    flush_tx();
}

// Where an offload read puts its first bytes: the vnet header in the
// slot's headroom, right before the packet, which has room for the MTU.
[[gnu::hot]] std::span<std::uint8_t> daemon::tun_head(std::span<std::uint8_t> slot) const {
    return slot.subspan(data_plane::headroom - io::vnet_header_bytes, io::vnet_header_bytes + cfg_.mtu);
}

[[gnu::hot]] void daemon::handle_tun_read(std::span<std::uint8_t> slot, std::size_t n) {
    if (!tun_->offload()) {
        handle_outbound(slot, n);
        return;
    }
    if (n < io::vnet_header_bytes) return;
    std::span<std::uint8_t> head = tun_head(slot);
    const vnet_header h = read_vnet_header(head.first<vnet_header_size>());
    if ((h.gso_type & static_cast<std::uint8_t>(~vnet::gso_ecn)) == vnet::gso_none) {
        // Larger than the MTU: part of it went to tun_buf_; refused.
        if (n > head.size() || !complete_checksum(head.subspan(io::vnet_header_bytes, n - io::vnet_header_bytes), h)) {
            log_.debug("tun: packet of {} bytes refused (checksum offsets or size)", n - io::vnet_header_bytes);
            return;
        }
        handle_outbound(slot, n - io::vnet_header_bytes);
        return;
    }
    // A super-packet: its head joins the rest in tun_buf_, and the slot is
    // free again for the first segment.
    std::memcpy(tun_buf_.data(), head.data(), std::min(n, head.size()));
    std::span<std::uint8_t> packet = std::span(tun_buf_).subspan(io::vnet_header_bytes, n - io::vnet_header_bytes);
    auto plan = plan_segments(packet, h);
    if (!plan || plan->largest_segment() > cfg_.mtu) {
        log_.debug("tun: super-packet of {} bytes refused: {}", packet.size(),
                   plan ? "segments larger than the MTU" : to_string(plan.error()));
        return;
    }
    for (std::size_t i = 0; i < plan->count; ++i) {
        std::span<std::uint8_t> segment = tx_slot();
        std::size_t len = write_segment(packet, *plan, i, segment.subspan(data_plane::headroom, cfg_.mtu));
        if (len == 0) return;
        handle_outbound(segment, len);
    }
}

[[gnu::hot]] void daemon::handle_outbound(std::span<std::uint8_t> slot, std::size_t len) {
    if (excluded_) return;  // not in the list in force: carry nothing
    auto r = dp_->outbound(slot, len, now());
    send_result(r, slot, len, false);
}

// The next frame's place in tx_buf_ (headroom + mtu + tailroom), right after
// the last queued frame; sends the batch first when it is full.
[[gnu::hot]] std::span<std::uint8_t> daemon::tx_slot() {
    if (tx_count_ == tx_max_frames || tx_end_ + tx_slot_size_ > tx_buf_.size()) flush_tx();
    return std::span(tx_buf_).subspan(tx_end_, tx_slot_size_);
}

[[gnu::hot]] void daemon::queue_frame(std::span<std::uint8_t> frame, const peer_endpoint& to) {
    if (tx_count_ == tx_max_frames || tx_end_ + tx_slot_size_ > tx_buf_.size()) flush_tx();
    std::uint8_t* at = tx_buf_.data() + tx_end_;
    // Sealed in place unless compression (or ICMP) built it elsewhere.
    if (frame.data() != at) std::memmove(at, frame.data(), frame.size());
    tx_frames_[tx_count_++] = {tx_end_, frame.size(), to_udp(to)};
    tx_end_ += frame.size();
}

[[gnu::hot]] void daemon::send_one(std::span<const std::uint8_t> frame, const io::udp_endpoint& to) {
    ssize_t n = udp_->send(frame, to);
    if (n < 0 && n != -EAGAIN && n != -ECONNREFUSED && n != -ENOBUFS)
        log_.debug("udp send to {}: {}", io::to_string(to), std::strerror(static_cast<int>(-n)));
}

[[gnu::hot]] void daemon::flush_tx() {
    const std::size_t count = tx_count_;
    tx_count_ = 0;
    tx_end_ = 0;
    if (count == 0) return;
    if (gso_) {
        // Runs of frames to one peer, all of one size but the last (which
        // may be shorter): one datagram each, segmented by the kernel (or
        // not at all until the receiver, over veth or with GSO hardware).
        for (std::size_t i = 0; i < count;) {
            const tx_frame& first = tx_frames_[i];
            std::size_t j = i + 1, bytes = first.size;
            while (j < count && tx_frames_[j].to == first.to && tx_frames_[j].size <= first.size &&
                   bytes + tx_frames_[j].size <= gso_max_bytes) {
                bytes += tx_frames_[j].size;
                if (tx_frames_[j++].size < first.size) break;
            }
            std::span<const std::uint8_t> run(tx_buf_.data() + first.offset, bytes);
            if (j - i == 1) {
                send_one(run, first.to);
            } else {
                ssize_t n = udp_->send_gso(run, first.size, first.to);
                if (n == -EIO || n == -EINVAL || n == -EOPNOTSUPP) {
                    if (n != -EINVAL) {
                        // The device cannot segment (no checksum offload on
                        // the way out): from now on, frame by frame.
                        log_.warning("udp: segmentation offload refused ({}); sending frames one by one",
                                     std::strerror(static_cast<int>(-n)));
                        gso_ = false;
                    }
                    // EINVAL: this run's frames are larger than the path
                    // MTU towards this peer; others keep segmentation.
                    for (std::size_t k = i; k < j; ++k)
                        send_one(std::span(tx_buf_).subspan(tx_frames_[k].offset, tx_frames_[k].size), tx_frames_[k].to);
                } else if (n < 0 && n != -EAGAIN && n != -ECONNREFUSED && n != -ENOBUFS) {
                    log_.debug("udp send to {}: {}", io::to_string(first.to), std::strerror(static_cast<int>(-n)));
                }
            }
            i = j;
        }
        return;
    }
    auto& b = *tx_batch_;
    for (std::size_t i = 0; i < count; ++i) {
        b[i].buffer = std::span(tx_buf_).subspan(tx_frames_[i].offset, tx_frames_[i].size);
        b[i].size = tx_frames_[i].size;
        b[i].peer = tx_frames_[i].to;
    }
    for (std::size_t at = 0; at < count;) {
        int n = udp_->send_batch(b, at, count);
        if (n > 0) {
            at += static_cast<std::size_t>(n);
        } else {
            // This one failed (or nothing was taken): drop it, go on.
            if (n < 0 && n != -EAGAIN && n != -ECONNREFUSED && n != -ENOBUFS)
                log_.debug("udp send to {}: {}", io::to_string(b[at].peer), std::strerror(-n));
            ++at;
        }
    }
}

// Carries out what the data plane decided for an outbound packet.
[[gnu::hot]] void daemon::send_result(data_plane::result r, std::span<std::uint8_t> buf, std::size_t len, bool from_queue) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        switch (r.what) {
            case data_plane::action::send:
                if (from_queue)
                    send_one(r.out, to_udp(r.endpoint));
                else
                    queue_frame(r.out, r.endpoint);
                return;
            case data_plane::action::queued:
                neg_->request(r.peer);
                return;
            case data_plane::action::reserve:
                if (!reserve(r.peer, r.reserve_to)) return;
                r = from_queue ? dp_->drain_one(r.peer, buf, now()) : dp_->outbound(buf, len, now());
                if (from_queue) {
                    // drain_one consumed the packet: carry out its result.
                    if (r.what == data_plane::action::send) {
                        udp_->send(r.out, to_udp(r.endpoint));
                    }
                    return;
                }
                continue;
            case data_plane::action::to_tun:
                tun_->write(r.out);
                return;
            case data_plane::action::keepalive:
            case data_plane::action::drop:
                return;
        }
    }
}

// Persists a counter reservation before the counters are used (design:
// "Counters never repeat under one key, across restarts and crashes").
bool daemon::reserve(std::uint32_t peer, std::uint64_t to) {
    auto ec = neg_->update(peer, [to](pair_state& s) {
        if (s.current && s.current->tx_reserved < to) s.current->tx_reserved = to;
    });
    if (ec) {
        log_.error("cannot persist the counter reservation for id {}: {}; not sending", peer, ec.message());
        return false;
    }
    dp_->set_reservation(peer, to);
    return true;
}

void daemon::established(const pair_state& st) {
    if (!dp_) return;
    if (!dp_->install(st, true, false)) {
        log_.warning("negotiated keys for {} could not be installed", st.peer_name);
        return;
    }
    drain(st.peer_id);
}

void daemon::drain(std::uint32_t peer) {
    for (int i = 0; i < 100'000; ++i) {
        auto r = dp_->drain_one(peer, drain_buf_, now());
        if (r.what == data_plane::action::drop) return;  // queue empty
        if (r.what == data_plane::action::reserve) {
            if (!reserve(peer, r.reserve_to)) return;
            continue;
        }
        send_result(r, drain_buf_, 0, true);
    }
}

[[gnu::hot]] void daemon::udp_ready() {
    int reads = 0;
    for (int i = 0; i < 64; ++i) {
        if (gro_) {
            // One read may hold many frames of one sender, each
            // `segment` bytes (the last may be shorter).
            io::udp_endpoint from;
            std::size_t segment = 0;
            ssize_t n = udp_->recv_gro(udp_buf_, from, segment);
            if (n < 0) {
                // ECONNREFUSED and friends come from ICMP about earlier
                // sends: never a reason to stop reading.
                if (n == -EAGAIN) break;
                continue;
            }
            if (segment == 0) segment = static_cast<std::size_t>(n);
            for (std::size_t off = 0; off < static_cast<std::size_t>(n); off += segment)
                handle_inbound(std::span(udp_buf_).subspan(off, std::min(segment, static_cast<std::size_t>(n) - off)), from);
            // Sparse traffic (the last wake found one read's worth): answer
            // before the read that will most likely return EAGAIN.
            if (++reads == 1 && udp_sparse_) answer_now();
            continue;
        }
        int got = udp_->recv_batch(*rx_batch_);
        if (got < 0) {
            if (got == -EAGAIN) break;
            continue;
        }
        for (int k = 0; k < got; ++k) {
            auto& m = (*rx_batch_)[static_cast<std::size_t>(k)];
            if (m.truncated) continue;  // larger than any valid frame
            handle_inbound(m.buffer.first(m.size), m.peer);
        }
        if (static_cast<std::size_t>(got) < tx_max_frames) break;  // drained
    }
    if (gro_) udp_sparse_ = reads <= 1;
    answer_now();
}

// What was just written to the TUN device is often answered within the
// write (an echo reply, a TCP ACK, generated by the kernel before write()
// returns): read the answer now instead of after another trip through the
// event loop.  When there is none this costs one read.
[[gnu::hot]] void daemon::answer_now() {
    flush_rx();
    if (rx_wrote_tun_) {
        rx_wrote_tun_ = false;
        tun_ready();
    }
}

// A decrypted packet for the TUN device: joined to the pending TCP run when
// it continues it, else written (after the run, so order is kept).
[[gnu::hot]] void daemon::deliver(std::span<const std::uint8_t> packet) {
    if (rx_join_) {
        if (rx_join_->add(packet)) return;
        flush_rx();
        if (rx_join_->add(packet)) return;
    }
    tun_->write(packet);
    rx_wrote_tun_ = true;
}

[[gnu::hot]] void daemon::flush_rx() {
    if (!rx_join_ || rx_join_->empty()) return;
    auto out = rx_join_->flush();
    ssize_t n = tun_->write_with_header(out.header, out.packet);
    if (n < 0 && n != -EAGAIN) log_.debug("tun write: {}", std::strerror(static_cast<int>(-n)));
    rx_wrote_tun_ = true;
}

[[gnu::hot]] void daemon::handle_inbound(std::span<std::uint8_t> frame, const io::udp_endpoint& from) {
    if (excluded_) return;
    auto r = dp_->inbound(frame, to_peer(from), now());
    if (r.endpoint_moved) log_.info("peer id {} now at {}", r.peer, io::to_string(from));
    if (r.what == data_plane::action::to_tun) {
        deliver(r.out);
    } else if (r.what == data_plane::action::drop &&
               (r.reason == frame_drop::not_accepting || r.reason == frame_drop::no_key) && r.peer != 0) {
        // The peer speaks under keys we cannot (or may not) use:
        // negotiate.  Nothing in the frame is authenticated, so the
        // service asks at most once per interval per peer.
        neg_->request_for_frame(r.peer);
    }
}

awaitable<void> daemon::tick_loop() {
    std::int64_t last_keepalive = now();
    while (!stopping_) {
        tick_.expires_after(std::chrono::seconds(1));
        auto [ec] = co_await tick_.async_wait(use_tuple);
        if (ec) co_return;
        const std::int64_t t = now();
        for (const auto& p : dp_->peers()) {
            if (p.epoch) neg_->note_sent(p.id, dp_->tx_frames_under_current(p.id));
            if (p.queued > 0 && !p.epoch) neg_->request(p.id);
        }
        if (cfg_.keepalive.count() > 0 && t - last_keepalive >= cfg_.keepalive.count()) {
            last_keepalive = t;
            for (const auto& p : dp_->peers()) {
                if (!p.epoch) continue;
                auto r = dp_->keepalive(p.id, drain_buf_, t);
                if (r.what == data_plane::action::reserve && reserve(p.id, r.reserve_to))
                    r = dp_->keepalive(p.id, drain_buf_, t);
                if (r.what == data_plane::action::send) udp_->send(r.out, to_udp(r.endpoint));
            }
        }
    }
}

// One line per peer with every counter: what SIGUSR2 asks for, and what a
// clean stop leaves in the log.
void daemon::log_status() {
    auto line = [](const traffic_counters& c) {
        std::string s = "tx " + std::to_string(c.tx_packets) + " pkts " + std::to_string(c.tx_bytes) + " B, rx " +
                        std::to_string(c.rx_packets) + " pkts " + std::to_string(c.rx_bytes) + " B, drops:";
        for (std::size_t i = 0; i < frame_drop_count; ++i)
            if (c.drops[i]) s += " " + std::string(to_string(static_cast<frame_drop>(i))) + "=" + std::to_string(c.drops[i]);
        return s;
    };
    log_.notice("status: node {} (id {}), node list version {}", cfg_.name, self_id_, bnl_->list().version);
    for (const auto& p : dp_->peers())
        log_.notice("status: peer {} (id {}) endpoint {} epoch {}{}: {}", p.name, p.id,
                    p.endpoint ? to_string(*p.endpoint) : std::string("-"),
                    p.epoch ? std::to_string(*p.epoch) : std::string("-"), p.accepting ? "" : " (not accepting)",
                    line(p.counters));
    log_.notice("status: unattributed: {}", line(dp_->unattributed()));
}

void daemon::shutdown() {
    stopping_ = true;
    if (on_stopping) on_stopping();
    if (dp_) log_status();
    // Clean stop: save what a restart needs to go on without renegotiating,
    // with the mark that says the saved receive window can be trusted.
    if (dp_ && neg_) {
        for (const auto& p : dp_->peers()) {
            auto c = dp_->counters_of(p.id);
            if (!c) continue;
            auto ec = neg_->update(p.id, [&](pair_state& s) {
                if (!s.current || !p.epoch || s.current->epoch != *p.epoch) return;
                // Only a window that accepted frames under the saved epoch
                // is worth the mark: one restored after a crash (empty, not
                // accepting) or an epoch that never confirmed would let the
                // next start accept captured frames again.
                auto highwater = c->trusted_highwater(s.current->epoch);
                if (!highwater) return;
                s.current->rx_highwater = *highwater;
                s.clean_shutdown = true;
            });
            if (ec) log_.error("cannot save state for {}: {}", p.name, ec.message());
        }
    }
    if (control_) control_->stop();
    if (neg_) neg_->stop();
    if (hooks_ && tun_) {
        // Queued hooks are dropped and a running one terminated whether or
        // not there are stop hooks; then my-subnet-down for each own subnet
        // (undoing the my-subnet-up of the start), then down, all within
        // one hook-timeout, so the stop fits the unit's TimeoutStopSec.
        std::vector<io::hook_runner::sync_hook> stop_hooks;
        const bnl_node* self = bnl_ ? bnl_->by_id(self_id_) : nullptr;
        if (cfg_.hooks.my_subnet_down && self)
            for (const auto& s : self->subnets)
                stop_hooks.push_back({"my-subnet-down", *cfg_.hooks.my_subnet_down,
                                      io::subnet_hook_env(tun_->name(), s, self->name, self->id)});
        if (cfg_.hooks.down)
            stop_hooks.push_back({"down", *cfg_.hooks.down, io::interface_hook_env(tun_->name())});
        hooks_->run_sync(std::move(stop_hooks), cfg_.hook_timeout);
    }
    log_.notice("weftd stopped: node {}, interface {}", cfg_.name, tun_ ? tun_->name() : cfg_.interface);
}

}  // namespace weft::app
