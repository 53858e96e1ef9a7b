// The negotiation service's listener, connections and negotiations.  The
// node-list exchanges, over the same connections, are in
// node_list_exchange.cpp; what both share is in negotiation_internal.hpp.
#include "io/negotiation_service.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <ctime>
#include <random>

#include "base/hex.hpp"
#include "core/key_schedule.hpp"
#include "io/negotiation_internal.hpp"

namespace weft::io {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using negotiation_internal::endpoint_of;
using negotiation_internal::endpoint_text;
using negotiation_internal::read_message;
using negotiation_internal::use_tuple;
using negotiation_internal::write_message;

namespace {

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

// A negotiation in progress with one peer, in either role.
struct negotiation_service::flight {
    role r = role::dialler;
    bool abandoned = false;  // lost a collision: must not persist or complete
    std::weak_ptr<connection> conn;
};

negotiation_service::negotiation_service(asio::io_context& io, negotiation_settings settings, tls_context& tls,
                                         std::uint32_t self_id, bnl_source bnl, state_store& store, logger& log)
    : io_(io),
      settings_(std::move(settings)),
      tls_(tls),
      self_id_(self_id),
      bnl_(std::move(bnl)),
      store_(store),
      log_(log),
      policy_{tls.own_name(), settings_.require_ou},
      tick_timer_(io) {}

negotiation_service::~negotiation_service() {
    *alive_ = false;
    // The owner is being torn down: its callbacks may no longer be safe.
    for (auto& ex : exchanges_) ex->done = nullptr;
    stop();
}

void negotiation_service::spawn(awaitable<void> task) {
    asio::co_spawn(io_, std::move(task), [this, alive = alive_](std::exception_ptr e) {
        if (!e || !*alive) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log_.error("negotiation: internal error: {}", ex.what());
        }
    });
}

std::shared_ptr<negotiation_service::connection> negotiation_service::make_connection() {
    auto c = std::make_shared<connection>(io_.get_executor(), tls_.native());
    c->deadline = c->started + settings_.handshake_timeout;
    // The watchdog: sleeps until the deadline, which others may move later.
    spawn([](std::shared_ptr<connection> conn, counters* stats) -> awaitable<void> {
        while (!conn->closed) {
            conn->timer.expires_at(conn->deadline);
            co_await conn->timer.async_wait(use_tuple);
            if (conn->closed) co_return;
            if (clock::now() >= conn->deadline) {
                conn->timed_out = true;
                ++stats->timed_out;
                conn->close();
            }
        }
    }(c, &stats_));
    return c;
}

std::error_code negotiation_service::start() {
    stopping_ = false;
    load_pairs();
    for (const auto& ep : settings_.listen) {
        auto acc = std::make_unique<tcp::acceptor>(io_);
        boost::system::error_code ec;
        acc->open(ep.protocol(), ec);
        if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec && ep.address().is_v6()) acc->set_option(asio::ip::v6_only(false), ec);
        if (!ec) acc->bind(ep, ec);
        if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            log_.error("negotiation: cannot listen on {}: {}", endpoint_text(ep), ec.message());
            stop();
            return ec;
        }
        log_.info("negotiation: listening on {}", endpoint_text(acc->local_endpoint()));
        acceptors_.push_back(std::move(acc));
        spawn(accept_loop(*acceptors_.back()));
    }
    spawn(tick_loop());
    return {};
}

void negotiation_service::stop() {
    stopping_ = true;
    boost::system::error_code ec;
    for (auto& a : acceptors_) a->close(ec);
    for (auto& w : connections_)
        if (auto c = w.lock()) c->close();
    for (auto& [id, f] : flights_) {
        f->abandoned = true;
        if (auto c = f->conn.lock()) c->close();
    }
    tick_timer_.cancel();
    // Report the node-list exchanges now; their coroutines end on their own
    // (finish() calls each `done` once).
    auto pending = std::move(exchanges_);
    exchanges_.clear();
    for (auto& ex : pending)
        if (auto c = ex->conn.lock()) c->close();
    for (auto& ex : pending) finish(ex, exchange_outcome::failed);
}

std::vector<tcp::endpoint> negotiation_service::local_endpoints() const {
    std::vector<tcp::endpoint> out;
    for (const auto& a : acceptors_) {
        boost::system::error_code ec;
        auto ep = a->local_endpoint(ec);
        if (!ec) out.push_back(ep);
    }
    return out;
}

std::size_t negotiation_service::open_connections() const noexcept {
    std::size_t n = 0;
    for (const auto& w : connections_)
        if (auto c = w.lock(); c && !c->closed) ++n;
    return n;
}

bool negotiation_service::in_flight(std::uint32_t peer_id) const noexcept { return flights_.count(peer_id) > 0; }

const pair_state* negotiation_service::pair(std::uint32_t peer_id) const noexcept {
    auto it = pairs_.find(peer_id);
    return it == pairs_.end() ? nullptr : &it->second;
}

const algorithm_prefs& negotiation_service::prefs_for(const std::string& peer_name) const {
    auto it = settings_.peer_prefs.find(peer_name);
    return it == settings_.peer_prefs.end() ? settings_.prefs : it->second;
}

void negotiation_service::load_pairs() {
    auto bnl = bnl_();
    for (const auto& node : bnl->list().nodes) {
        if (node.id == self_id_) continue;
        auto st = store_.load(node.id);
        if (!st) {
            if (st.error().code == load_error_code::missing)
                log_.debug("negotiation: no saved state for {}", node.name);
            else
                log_.warning("negotiation: saved state for {} not used ({}): {}; the pair renegotiates",
                             node.name, to_string(st.error().code), st.error().message);
            continue;
        }
        // A state file is only as good as the identity it was made with.
        if (st->peer_name != node.name || (node.pin && *node.pin != st->peer_cert)) {
            log_.notice("negotiation: saved state for id {} belongs to another identity ({}); discarded",
                        node.id, st->peer_name);
            store_.remove(node.id);
            continue;
        }
        pairs_.emplace(node.id, std::move(st).value());
    }
}

std::error_code negotiation_service::update(std::uint32_t peer_id, const std::function<void(pair_state&)>& fn) {
    auto it = pairs_.find(peer_id);
    if (it == pairs_.end()) return std::make_error_code(std::errc::no_such_file_or_directory);
    pair_state next = it->second.clone();
    fn(next);
    // A negotiation may have persisted a higher epoch since (then failed):
    // this save must not lower it on disk, or a restart would reuse it.
    next.highest_epoch = std::max(next.highest_epoch, highest_epoch(peer_id));
    if (auto ec = store_.save(next)) return ec;
    it->second = std::move(next);
    return {};
}

std::uint32_t negotiation_service::highest_epoch(std::uint32_t peer_id) const {
    std::uint32_t e = 0;
    if (auto it = pairs_.find(peer_id); it != pairs_.end()) e = it->second.highest_epoch;
    if (auto it = persisted_epoch_.find(peer_id); it != persisted_epoch_.end()) e = std::max(e, it->second);
    return e;
}

void negotiation_service::forget(std::uint32_t peer_id) {
    pairs_.erase(peer_id);
    persisted_epoch_.erase(peer_id);
    retry_.erase(peer_id);
    frame_requested_.erase(peer_id);
    served_asked_.erase(peer_id);
    if (auto it = flights_.find(peer_id); it != flights_.end()) {
        it->second->abandoned = true;
        if (auto c = it->second->conn.lock()) c->close();
        flights_.erase(it);
    }
    // Also the connections it has open outside a flight (a listener's
    // before HELLO, node-list exchanges either way): they were
    // authenticated under the list that has just changed.
    for (const auto& w : connections_)
        if (auto c = w.lock(); c && c->peer_id == peer_id) c->close();
    for (const auto& ex : exchanges_)
        if (auto c = ex->conn.lock(); c && ex->peer_id == peer_id) c->close();
    if (auto ec = store_.remove(peer_id); ec && ec != std::errc::no_such_file_or_directory)
        log_.warning("negotiation: cannot remove state of id {}: {}", peer_id, ec.message());
}

void negotiation_service::note_sent(std::uint32_t peer_id, std::uint64_t frames_under_current) {
    if (frames_under_current >= settings_.rekey_messages / 10 * 9 && !flights_.count(peer_id)) {
        log_.info("negotiation: {} frames sent under the current key: rekeying", frames_under_current);
        request(peer_id);
    }
}

void negotiation_service::request(std::uint32_t peer_id) {
    if (stopping_ || peer_id == self_id_ || flights_.count(peer_id)) return;
    auto& r = retry_[peer_id];
    if (clock::now() < r.next_attempt) {
        r.wanted = true;  // the tick dials once the back-off has passed
        return;
    }
    // At most max_connections negotiations at once, however they are asked
    // for (the tick's retries, rekeys, the data path, restored pairs): a
    // node restarting in a mesh of thousands must not hold thousands of TLS
    // connections (some 40 KiB each until they fail).  The tick dials the
    // rest as flights end.
    if (flights_.size() >= settings_.max_connections) {
        r.wanted = true;
        return;
    }
    r.wanted = false;
    auto bnl = bnl_();
    if (!bnl->by_id(peer_id)) return;
    auto f = std::make_shared<flight>();
    f->r = role::dialler;
    flights_[peer_id] = f;
    spawn(dial(peer_id, f));
}

void negotiation_service::request_for_frame(std::uint32_t peer_id) {
    const auto t = clock::now();
    // The map first: under a flood of forged frames this is all each costs.
    auto it = frame_requested_.find(peer_id);
    if (it != frame_requested_.end() && t - it->second < settings_.frame_request_interval) return;
    if (stopping_ || peer_id == self_id_ || !bnl_()->by_id(peer_id)) return;
    frame_requested_[peer_id] = t;
    request(peer_id);
}

void negotiation_service::request_missing(std::chrono::milliseconds spread) {
    auto bnl = bnl_();
    std::vector<std::uint32_t> missing;
    for (const auto& n : bnl->list().nodes)
        if (n.id != self_id_ && !pairs_.count(n.id)) missing.push_back(n.id);
    if (missing.empty()) return;
    // Spread out: a restarted node of a large mesh must not dial every peer
    // in the same millisecond (nor must every node dial it back at once).
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<long> jitter(0, std::max<long>(0, static_cast<long>(spread.count())));
    for (auto id : missing) {
        auto& r = retry_[id];
        r.next_attempt = clock::now() + std::chrono::milliseconds(jitter(rng));
        r.wanted = true;
    }
}

void negotiation_service::dial_failed(std::uint32_t peer_id) {
    auto& r = retry_[peer_id];
    r.backoff = r.backoff.count() == 0 ? settings_.retry_min : std::min(r.backoff * 2, settings_.retry_max);
    r.next_attempt = clock::now() + r.backoff;
    r.wanted = true;
}

awaitable<void> negotiation_service::tick_loop() {
    while (!stopping_) {
        tick_timer_.expires_after(std::chrono::seconds(1));
        co_await tick_timer_.async_wait(use_tuple);
        if (stopping_) co_return;
        tick();
    }
}

void negotiation_service::tick() {
    auto now = clock::now();
    // Due dials; request() keeps to max_connections, the rest wait for the
    // next tick.
    for (auto& [id, r] : retry_) {
        if (flights_.size() >= settings_.max_connections) break;
        if (r.wanted && now >= r.next_attempt && !flights_.count(id)) {
            r.next_attempt = {};
            request(id);
        }
    }
    const std::int64_t unix = unix_now();
    const auto rekey_at = static_cast<std::int64_t>(settings_.rekey_after.count()) * 9 / 10;
    for (auto& [id, st] : pairs_) {
        if (st.current && unix >= st.current->established_at + rekey_at && !flights_.count(id)) {
            log_.info("negotiation: keys with {} are {} s old: rekeying", st.peer_name,
                      unix - st.current->established_at);
            request(id);
        }
        if (st.previous && st.previous->valid_until != 0 && unix >= st.previous->valid_until) {
            st.previous.reset();
            st.highest_epoch = std::max(st.highest_epoch, highest_epoch(id));  // as in update()
            if (auto ec = store_.save(st))
                log_.warning("negotiation: cannot save state for {}: {}", st.peer_name, ec.message());
        }
    }
}

awaitable<void> negotiation_service::accept_loop(tcp::acceptor& acceptor) {
    while (!stopping_) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
        if (stopping_ || ec == asio::error::operation_aborted) co_return;
        if (ec) {
            // EMFILE and friends: pause instead of spinning.
            log_.warning("negotiation: accept failed: {}", ec.message());
            asio::steady_timer pause(io_, std::chrono::milliseconds(100));
            co_await pause.async_wait(use_tuple);
            continue;
        }
        admit(std::move(socket));
    }
}

void negotiation_service::admit(tcp::socket socket) {
    connections_.remove_if([](const std::weak_ptr<connection>& w) {
        auto c = w.lock();
        return !c || c->closed;
    });
    if (connections_.size() >= settings_.max_connections) {
        // Full: make room by dropping the oldest connection that has not
        // authenticated yet, so silent or slow clients cannot hold the
        // listener; if every slot is an authenticated peer, refuse.
        auto victim = std::find_if(connections_.begin(), connections_.end(), [](const std::weak_ptr<connection>& w) {
            auto c = w.lock();
            return c && !c->authenticated;
        });
        if (victim == connections_.end()) {
            ++stats_.refused_busy;
            boost::system::error_code ec;
            socket.close(ec);
            return;
        }
        if (auto c = victim->lock()) c->close();
        connections_.erase(victim);
        ++stats_.evicted;
    }
    ++stats_.accepted;
    auto c = make_connection();
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    c->who = ec ? std::string("?") : endpoint_text(remote);
    c->stream.next_layer() = std::move(socket);
    connections_.push_back(c);
    spawn(serve(c));
}

awaitable<void> negotiation_service::dial(std::uint32_t peer_id, std::shared_ptr<flight> f) {
    auto bnl = bnl_();
    const bnl_node* node = bnl->by_id(peer_id);
    auto c = make_connection();
    f->conn = c;
    bool ok = false;
    std::string why;
    if (node) {
        c->who = node->name + " (" + endpoint_text(endpoint_of(*node)) + ")";
        why = co_await open_to(c, *node, *bnl);
        if (why.empty()) {
            c->authenticated = true;
            ok = co_await negotiate(c, *node, role::dialler, f);
            if (!ok && !f->abandoned) why = "negotiation did not complete";
        }
    }
    c->close();
    if (auto it = flights_.find(peer_id); it != flights_.end() && it->second == f) flights_.erase(it);
    if (ok) {
        retry_[peer_id] = {};
    } else if (!f->abandoned && !stopping_) {
        if (!why.empty()) log_.notice("negotiation: with {}: {}", c->who, why);
        dial_failed(peer_id);
    }
}

awaitable<std::string> negotiation_service::open_to(std::shared_ptr<connection> c, const bnl_node& node,
                                                   const bnl_index& bnl) {
    auto [ec] = co_await c->stream.next_layer().async_connect(endpoint_of(node), use_tuple);
    if (ec) co_return c->timed_out ? std::string("connect timed out") : "connect: " + ec.message();
    prepare_connection(c->stream.native_handle(), tls_role::dialler);
    auto [hec] = co_await c->stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (hec) {
        ++stats_.refused_peer;
        std::string v = verify_failure(c->stream.native_handle());
        co_return "TLS handshake: " + (v.empty() ? (c->timed_out ? std::string("timed out") : hec.message()) : v);
    }
    auto pc = verified_peer(c->stream.native_handle());
    if (!pc) {
        ++stats_.refused_peer;
        co_return "peer certificate: " + pc.error();
    }
    if (auto who = check_peer(*pc, bnl, policy_, node.name); !who) {
        ++stats_.refused_peer;
        co_return std::string(to_string(who.error().reason)) + ": " + who.error().detail;
    }
    c->peer_id = node.id;
    co_return std::string();
}

std::string negotiation_service::still_listed(connection& c, const bnl_node& peer) {
    auto pc = verified_peer(c.stream.native_handle());
    if (!pc) return "peer certificate: " + pc.error();
    auto bnl = bnl_();
    auto who = check_peer(*pc, *bnl, policy_, peer.name);
    if (!who) return "refused under the current node list: " + std::string(to_string(who.error().reason)) + ": " +
                     who.error().detail;
    if ((*who)->id != peer.id) return "refused under the current node list: " + peer.name + " now has another id";
    return {};
}

bool negotiation_service::hello_matches(const connection& c, const bnl_node& peer, std::uint32_t claimed_id) {
    if (claimed_id == peer.id) return true;
    ++stats_.refused_peer;
    log_.notice("negotiation: refused {}: claims node id {} but its certificate is node {} (id {})", c.who,
                claimed_id, peer.name, peer.id);
    return false;
}

awaitable<void> negotiation_service::serve(std::shared_ptr<connection> c) {
    prepare_connection(c->stream.native_handle(), tls_role::listener);
    auto [hec] = co_await c->stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (hec) {
        std::string v = verify_failure(c->stream.native_handle());
        if (!c->closed || c->timed_out) {
            ++stats_.refused_peer;
            log_.notice("negotiation: refused {}: TLS handshake: {}", c->who,
                        v.empty() ? (c->timed_out ? std::string("timed out") : hec.message()) : v);
        }
        c->close();
        co_return;
    }
    auto bnl = bnl_();
    auto pc = verified_peer(c->stream.native_handle());
    if (!pc) {
        ++stats_.refused_peer;
        log_.notice("negotiation: refused {}: {}", c->who, pc.error());
        c->close();
        co_return;
    }
    auto who = check_peer(*pc, *bnl, policy_, std::nullopt);
    if (!who) {
        ++stats_.refused_peer;
        log_.notice("negotiation: refused {}: {}: {}", c->who, to_string(who.error().reason), who.error().detail);
        c->close();
        co_return;
    }
    const bnl_node& peer = **who;
    c->authenticated = true;
    c->peer_id = peer.id;
    c->who = peer.name + " (" + c->who + ")";
    log_.debug("negotiation: {} authenticated", c->who);
    co_await negotiate(c, peer, role::listener, nullptr);
    c->close();
}

awaitable<bool> negotiation_service::negotiate(std::shared_ptr<connection> c, const bnl_node& peer, role r,
                                               std::shared_ptr<flight> f) {
    auto bnl = bnl_();  // keeps `peer` alive while we run
    const std::uint64_t my_version = bnl->list().version;
    auto fail = [&](std::string why) -> bool {
        ++stats_.failed;
        log_.notice("negotiation: with {}: {}", c->who, why);
        return false;
    };
    auto send_error = [&](error_msg_code code, std::string text) -> awaitable<void> {
        co_await write_message(*c, make_error_msg(code, text));
    };

    // HELLO: the dialler speaks first.
    hello_msg mine{self_id_, my_version, hello_purpose::negotiate};
    if (r == role::dialler && !co_await write_message(*c, mine)) co_return fail("cannot send HELLO");
    auto m = co_await read_message(*c, settings_, msg_type::hello);
    if (!m) co_return fail(m.error());
    auto* hello = std::get_if<hello_msg>(&*m);
    if (!hello) co_return fail(std::string("expected HELLO, got ") + to_string(type_of(*m)));
    if (!hello_matches(*c, peer, hello->node_id)) co_return false;
    if (on_peer_hello) on_peer_hello(peer.id, hello->bnl_version);
    if (hello->purpose == hello_purpose::node_list) {
        if (r == role::dialler) {
            co_await send_error(error_msg_code::bad_message, "node-list HELLO in answer to a negotiation");
            co_return fail("answered our negotiation with a node-list HELLO");
        }
        // The listener's side of a node-list exchange (node_list_exchange.cpp).
        co_await serve_list(c, peer.id, my_version, hello->bnl_version);
        co_return false;
    }
    if (r == role::listener) {
        if (!co_await write_message(*c, mine)) co_return fail("cannot send HELLO");
        // Collisions: the negotiation dialled by the lower node id survives.
        if (auto it = flights_.find(peer.id); it != flights_.end()) {
            ++stats_.collisions;
            if (it->second->r == role::listener || self_id_ < peer.id) {
                log_.debug("negotiation: {} dialled us while we negotiate with it: busy", peer.name);
                co_await send_error(error_msg_code::busy, "negotiation with this node already in flight");
                co_return false;
            }
            log_.debug("negotiation: collision with {}: its negotiation wins (lower id)", peer.name);
            it->second->abandoned = true;
            if (auto other = it->second->conn.lock()) other->close();
        }
        f = std::make_shared<flight>();
        f->r = role::listener;
        f->conn = c;
        flights_[peer.id] = f;
    }
    struct flight_guard {
        negotiation_service* s;
        std::uint32_t id;
        std::shared_ptr<flight> f;
        ~flight_guard() {
            if (f->r != role::listener) return;  // dial() clears its own
            if (auto it = s->flights_.find(id); it != s->flights_.end() && it->second == f) s->flights_.erase(it);
        }
    } guard{this, peer.id, f};

    // PROPOSE, both ways.
    // Never an epoch persisted before, even by a negotiation that then
    // failed: the same number under other keys would meet the old keys.
    const std::uint32_t my_epoch = highest_epoch(peer.id) + 1;
    const algorithm_prefs& my_prefs = prefs_for(peer.name);
    if (!co_await write_message(*c, to_propose(my_prefs, my_epoch))) co_return fail("cannot send PROPOSE");
    m = co_await read_message(*c, settings_, msg_type::propose);
    if (!m) co_return f->abandoned ? false : fail(m.error());
    if (auto* e = std::get_if<error_msg>(&*m)) {
        if (e->code == error_msg_code::busy) {
            log_.debug("negotiation: {} is busy negotiating with us already", peer.name);
            f->abandoned = true;
            co_return false;
        }
        co_return fail(std::string("peer refused: ") + to_string(e->code) + ": " + printable(e->text));
    }
    auto* theirs = std::get_if<propose_msg>(&*m);
    if (!theirs) co_return fail(std::string("expected PROPOSE, got ") + to_string(type_of(*m)));
    auto choice = choose(my_prefs, prefs_of(*theirs));
    if (!choice) {
        co_await send_error(wire_code(choice.error().code), choice.error().message);
        co_return fail(choice.error().message);
    }
    const std::uint32_t epoch = std::max(my_epoch, theirs->epoch);
    if (epoch == 0 || epoch == std::numeric_limits<std::uint32_t>::max())
        co_return fail("epoch space exhausted");

    // Keys from the TLS exporter, bound to both ids, the choice and the epoch.
    auto context = key_context(self_id_, peer.id, choice->cipher, choice->compression, choice->level, epoch);
    crypto::secret_bytes exported(exporter_length(choice->cipher));
    if (!export_keying_material(c->stream.native_handle(), exporter_label, context,
                                std::span<std::uint8_t>(exported.data(), exported.size())))
        co_return fail("TLS exporter failed");
    auto keys = split_keys(self_id_, peer.id, choice->cipher, std::span<const std::uint8_t>(exported.data(), exported.size()));
    if (!keys) co_return fail(keys.error().message);
    if (f->abandoned || stopping_) co_return false;
    if (c->closed) co_return fail(c->timed_out ? "timed out" : "connection closed");
    // The peer was checked against the list in force when it connected;
    // keys are saved only if the list in force now still names it with
    // this certificate (a re-pin or a removal may have come in between).
    if (auto why = still_listed(*c, peer); !why.empty()) {
        ++stats_.refused_peer;
        co_return fail(why);
    }

    // Persist before confirming: once the peer hears CONFIRM it may send
    // under these keys, and a crash must not lose them.
    pair_state next;
    // Looked up now: the map may have changed while we waited on the peer.
    if (auto old = pairs_.find(peer.id); old != pairs_.end()) next = old->second.clone();
    next.self_id = self_id_;
    next.peer_id = peer.id;
    next.peer_name = peer.name;
    if (auto pc = verified_peer(c->stream.native_handle())) next.peer_cert = pc->fingerprint;
    next.highest_epoch = epoch;
    next.clean_shutdown = false;
    const std::int64_t now = unix_now();
    if (next.current) {
        next.previous = std::move(next.current);
        next.previous->valid_until = now + static_cast<std::int64_t>(settings_.rekey_grace.count());
    }
    pair_keyset ks;
    ks.epoch = epoch;
    ks.cipher = static_cast<std::uint8_t>(choice->cipher);
    ks.compression = static_cast<std::uint8_t>(choice->compression);
    ks.level = choice->level;
    ks.established_at = now;
    ks.tx_key = std::move(keys->tx_key);
    ks.rx_key = std::move(keys->rx_key);
    ks.tx_salt = std::move(keys->tx_salt);
    ks.rx_salt = std::move(keys->rx_salt);
    next.current = std::move(ks);
    if (auto ec = store_.save(next)) {
        co_await send_error(error_msg_code::internal, "cannot persist state");
        co_return fail("cannot persist state: " + ec.message());
    }
    persisted_epoch_[peer.id] = std::max(persisted_epoch_[peer.id], epoch);
    if (on_persisted) on_persisted(next);

    auto hash = confirm_hash(context);
    confirm_msg confirm{epoch, {}};
    std::copy(hash.begin(), hash.end(), confirm.context_hash.begin());
    if (!co_await write_message(*c, confirm)) co_return fail("cannot send CONFIRM");
    m = co_await read_message(*c, settings_, msg_type::confirm);
    if (!m) co_return fail(m.error());
    auto* theirs_confirm = std::get_if<confirm_msg>(&*m);
    if (!theirs_confirm) co_return fail(std::string("expected CONFIRM, got ") + to_string(type_of(*m)));
    if (theirs_confirm->epoch != epoch || theirs_confirm->context_hash != confirm.context_hash)
        co_return fail("CONFIRM does not match: the two sides derived different parameters");
    if (f->abandoned || stopping_) co_return false;

    ++stats_.negotiated;
    log_.info("negotiation: with {}: epoch {}, {}, compression {} level {}", peer.name, epoch,
              name(choice->cipher), name(choice->compression), choice->level);
    auto& slot = pairs_[peer.id];
    slot = std::move(next);
    // Whichever side dialled, the pair has fresh keys: a retry still
    // pending from an earlier failed dial would only negotiate again.
    retry_.erase(peer.id);
    if (on_established) on_established(slot);
    co_return true;
}

}  // namespace weft::io
