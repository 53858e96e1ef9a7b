// The negotiation service: one TCP listener on the node's port, TLS 1.3 with
// both certificates checked against the CA and the current node list, and
// the exchanges of src/wire/NEGOTIATION.md: negotiations (it owns every
// pair's negotiated state, persisted through state_store before it is
// confirmed, and hands it to the data plane) and node-list exchanges (it
// moves signed lists as raw bytes; it never parses or trusts them).
//
// Threading: everything runs on the one io_context thread given to it; no
// locks.  Every connection is one coroutine, watched by a deadline.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/algorithm_choice.hpp"
#include "core/bnl_index.hpp"
#include "core/pair_state.hpp"
#include "io/log.hpp"
#include "io/state_store.hpp"
#include "io/tls.hpp"

namespace weft::io {

struct negotiation_settings {
    // Addresses to listen on (port included).  Empty: do not listen (a node
    // may still dial out).
    std::vector<boost::asio::ip::tcp::endpoint> listen;
    algorithm_prefs prefs = default_prefs();
    std::unordered_map<std::string, algorithm_prefs> peer_prefs;  // by peer name
    std::optional<std::string> require_ou;
    std::chrono::milliseconds handshake_timeout{10'000};  // TCP connect + TLS + HELLO
    std::chrono::milliseconds idle_timeout{10'000};       // between two messages
    std::chrono::milliseconds session_timeout{60'000};    // a whole connection
    std::size_t max_connections = 64;
    std::chrono::seconds rekey_after{3600};
    // Frames sent under one key before a rekey is due.  AES-GCM with a
    // counter nonce is safe far beyond this; the bound keeps any one key's
    // exposure small and is the same for every cipher.
    std::uint64_t rekey_messages = std::uint64_t{1} << 30;
    std::chrono::seconds rekey_grace{30};
    std::chrono::milliseconds retry_min{1'000};
    std::chrono::milliseconds retry_max{60'000};
    // The data path asks for a negotiation when a frame comes under keys we
    // do not hold (or may not accept yet); such frames are unauthenticated,
    // so it asks at most this often per peer.
    std::chrono::milliseconds frame_request_interval{10'000};
    // Node-list exchanges we dial at once; also how many lists served
    // exchanges may be receiving at once before we answer ERROR busy.
    std::size_t max_list_exchanges = 4;
    std::chrono::milliseconds list_timeout{20'000};  // a whole node-list exchange
    // A peer that connects to announce a newer list is asked for it at most
    // this often; in between it is answered ERROR busy.  Each list it sends
    // costs us a signature check over up to 16 MiB and a parse, on the
    // thread that carries packets, so a listed node that lies about its
    // version must not be able to repeat that at will.  Its greeting still
    // reaches the daemon, whose own pulls of announced lists keep the same
    // per-peer pace (bnl_distribution), so a real newer list still arrives.
    std::chrono::milliseconds list_ask_interval{10'000};
};

class negotiation_service {
public:
    using bnl_source = std::function<std::shared_ptr<const bnl_index>()>;
    using clock = std::chrono::steady_clock;

    // `tls`, `store` and `log` must outlive the service.  `bnl` returns the
    // node list in force at the moment of the call.
    negotiation_service(boost::asio::io_context& io, negotiation_settings settings, tls_context& tls,
                        std::uint32_t self_id, bnl_source bnl, state_store& store, logger& log);
    ~negotiation_service();
    negotiation_service(const negotiation_service&) = delete;
    negotiation_service& operator=(const negotiation_service&) = delete;

    // Loads the persisted state of every peer in the node list, binds the
    // listeners and starts accepting.  Errors: the bind/listen failure.
    std::error_code start();
    // Closes the listeners and every connection; in-flight negotiations end
    // without persisting anything new.
    void stop();

    // Negotiates with `peer_id` unless a negotiation with it is in flight or
    // it failed recently (then it is retried after a growing back-off).
    void request(std::uint32_t peer_id);
    // request(), asked for by a frame the data plane could not open (its
    // sender id says which peer; nothing in it is authenticated): at most
    // once per frame_request_interval per peer, however the earlier
    // request ended, so forged frames cannot keep both nodes renegotiating.
    void request_for_frame(std::uint32_t peer_id);
    // Requests every peer without negotiated state, spread over `spread`.
    void request_missing(std::chrono::milliseconds spread);
    bool in_flight(std::uint32_t peer_id) const noexcept;
    // The pair's state: current keys (and previous ones within their grace
    // period).  nullptr when never negotiated.
    const pair_state* pair(std::uint32_t peer_id) const noexcept;
    // The data plane reports how many frames it has sent under the current
    // epoch; at 90 % of rekey_messages a new negotiation starts.
    void note_sent(std::uint32_t peer_id, std::uint64_t frames_under_current);
    // Changes a pair's state and persists it before returning (counter
    // reservations, the clean-shutdown mark).  All writers of pair state go
    // through the service, so no stale copy can ever overwrite a newer
    // reservation on disk.  Errors: errc::no_such_file_or_directory for an
    // unknown pair, or the store's error (the in-memory state then keeps
    // the change only if `fn` is applied again successfully: it is rolled back).
    std::error_code update(std::uint32_t peer_id, const std::function<void(pair_state&)>& fn);
    // A node left the list: forget its keys, in memory and on disk.
    void forget(std::uint32_t peer_id);

    // Called once a negotiation has persisted its new keys, just before it
    // sends CONFIRM: from then on the peer may send under them.
    std::function<void(const pair_state&)> on_persisted;
    // Called after a negotiation completed (both sides confirmed).
    std::function<void(const pair_state&)> on_established;
    // Called for every authenticated HELLO of either purpose: the peer's
    // node-list version (as announced: unverified).
    std::function<void(std::uint32_t peer_id, std::uint64_t bnl_version)> on_peer_hello;

    // ---- node-list exchange (NEGOTIATION.md, "Node-list exchange") ----
    // The signed list this node serves (its exact file bytes); its version is
    // the one of the node list in force (`bnl`), so the daemon sets both
    // together whenever its list changes.  Serving reads whatever is current
    // at the moment of the answer; unset or null: nothing is served.
    std::function<std::shared_ptr<const std::string>()> bnl_bytes;
    // A peer sent us a list (non-empty BNL_DATA, in either role); raw and
    // unverified: the daemon checks signature, network, version and syntax.
    // Called on the io thread.
    std::function<void(std::uint32_t peer_id, std::string bytes)> on_bnl_received;

    enum class exchange_outcome {
        received,          // we held the lower version, asked, and got a list (passed to on_bnl_received)
        sent,              // we held the higher version and answered with our list
        equal,             // nothing to move: same versions, or asked for a version we do not exceed
        peer_had_nothing,  // we asked and the peer answered with an empty BNL_DATA
        failed,            // connect, TLS, identity, protocol or timeout failure (logged); also on stop()
        busy,              // max_list_exchanges already in flight: not tried
    };
    // Dials `peer_id` (its BNL endpoint and port) for one node-list exchange
    // bounded by list_timeout.  `done` is called exactly once, on the io
    // thread: busy (max_list_exchanges in flight) and failed after stop() are
    // reported before exchange_bnl returns, every other outcome later (never
    // from within the call); stop() reports failed for the ones in flight.
    // Destroying the service drops the callbacks not yet called.
    void exchange_bnl(std::uint32_t peer_id, std::function<void(exchange_outcome)> done);
    std::size_t exchanges_in_flight() const noexcept { return exchanges_.size(); }

    struct counters {
        std::uint64_t accepted = 0;        // TCP connections taken
        std::uint64_t evicted = 0;         // unauthenticated connections dropped for a new one
        std::uint64_t refused_busy = 0;    // closed at once: every slot held by authenticated peers
        std::uint64_t refused_peer = 0;    // TLS or identity checks failed
        std::uint64_t timed_out = 0;
        std::uint64_t negotiated = 0;      // completed, either role
        std::uint64_t failed = 0;          // authenticated but did not complete
        std::uint64_t collisions = 0;      // simultaneous negotiations resolved
        std::uint64_t lists_served = 0;    // non-empty BNL_DATA sent, either role
        std::uint64_t lists_received = 0;  // non-empty BNL_DATA received (handed to on_bnl_received)
        std::uint64_t list_exchange_failed = 0;  // node-list exchanges that did not complete, either role
    };
    const counters& stats() const noexcept { return stats_; }
    std::size_t open_connections() const noexcept;
    // Negotiations under way, either role (dials are started by the tick at
    // most max_connections at a time).
    std::size_t negotiations_in_flight() const noexcept { return flights_.size(); }
    // Bound listener endpoints (for tests listening on port 0).
    std::vector<boost::asio::ip::tcp::endpoint> local_endpoints() const;

private:
    struct connection;
    struct flight;
    struct exchange;
    enum class role { dialler, listener };

    boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor);
    void admit(boost::asio::ip::tcp::socket socket);
    boost::asio::awaitable<void> dial(std::uint32_t peer_id, std::shared_ptr<flight> f);
    boost::asio::awaitable<void> serve(std::shared_ptr<connection> c);
    boost::asio::awaitable<bool> negotiate(std::shared_ptr<connection> c, const bnl_node& peer, role r,
                                           std::shared_ptr<flight> f);
    // TCP connect, TLS and the identity checks towards `node`; empty on
    // success, else why not (the failure is counted, not logged).
    boost::asio::awaitable<std::string> open_to(std::shared_ptr<connection> c, const bnl_node& node,
                                                const bnl_index& bnl);
    // Empty when the node list in force now still accepts `c`'s certificate
    // as `peer` (same name and id, pin, OU); else why not.
    std::string still_listed(connection& c, const bnl_node& peer);
    // HELLO id check: false (logged, counted) when `hello` claims another node.
    bool hello_matches(const connection& c, const bnl_node& peer, std::uint32_t claimed_id);
    // The node-list exchange members below are in node_list_exchange.cpp.
    boost::asio::awaitable<void> dial_list(std::shared_ptr<exchange> ex);
    // The listener's side, after the peer's node-list HELLO: answers it and
    // runs the exchange; failures are logged and counted here.
    boost::asio::awaitable<void> serve_list(std::shared_ptr<connection> c, std::uint32_t peer_id,
                                            std::uint64_t mine, std::uint64_t theirs);
    // The exchange after both HELLOs; failures are logged here, counted by
    // the caller.  `dialled`: we opened the connection (exchange_bnl), so it
    // already holds one of the max_list_exchanges slots.
    boost::asio::awaitable<exchange_outcome> list_exchange(std::shared_ptr<connection> c, std::uint32_t peer_id,
                                                           std::uint64_t mine, std::uint64_t theirs, bool dialled);
    void finish(const std::shared_ptr<exchange>& ex, exchange_outcome outcome);
    boost::asio::awaitable<void> tick_loop();
    void tick();
    void load_pairs();
    void dial_failed(std::uint32_t peer_id);
    void spawn(boost::asio::awaitable<void> task);
    std::shared_ptr<connection> make_connection();
    const algorithm_prefs& prefs_for(const std::string& peer_name) const;

    boost::asio::io_context& io_;
    negotiation_settings settings_;
    tls_context& tls_;
    std::uint32_t self_id_;
    bnl_source bnl_;
    state_store& store_;
    logger& log_;
    peer_policy policy_;

    std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
    std::list<std::weak_ptr<connection>> connections_;  // oldest first
    std::unordered_map<std::uint32_t, std::shared_ptr<flight>> flights_;
    std::list<std::shared_ptr<exchange>> exchanges_;  // dialled node-list exchanges not yet finished
    // Exchanges, either role, that have asked for a list and are reading it.
    // A served exchange asks only while this is below max_list_exchanges, so
    // authenticated peers cannot make us hold more lists than that (plus the
    // ones we dialled) at once.  Shared with the slots that count in it, so
    // a coroutine frame destroyed after the service still gives its slot back.
    std::shared_ptr<std::size_t> receiving_ = std::make_shared<std::size_t>(0);
    std::unordered_map<std::uint32_t, pair_state> pairs_;
    // The highest epoch saved per peer, confirmed or not.
    std::unordered_map<std::uint32_t, std::uint32_t> persisted_epoch_;
    std::uint32_t highest_epoch(std::uint32_t peer_id) const;
    struct retry_state {
        clock::time_point next_attempt{};
        std::chrono::milliseconds backoff{0};
        bool wanted = false;
    };
    std::unordered_map<std::uint32_t, retry_state> retry_;
    // When a frame last asked for each peer (request_for_frame); only
    // listed peers have an entry, and forget() removes it.
    std::unordered_map<std::uint32_t, clock::time_point> frame_requested_;
    // When a served node-list exchange last asked each peer for its list
    // (list_ask_interval); listed peers only, forget() removes the entry.
    std::unordered_map<std::uint32_t, clock::time_point> served_asked_;
    boost::asio::steady_timer tick_timer_;
    bool stopping_ = false;
    counters stats_;
    // Cleared on destruction so coroutines still queued can tell.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// "received", "sent", "equal", "peer had nothing", "failed", "busy".
const char* to_string(negotiation_service::exchange_outcome o) noexcept;

}  // namespace weft::io
