// The negotiation service: one TCP listener on the node's port, TLS 1.3 with
// both certificates checked against the CA and the current node list, and
// the exchange of src/wire/NEGOTIATION.md.  It owns every pair's negotiated
// state (persisted through state_store before it is confirmed) and hands it
// to the data plane.
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

    // Called after a negotiation completed (both sides confirmed).
    std::function<void(const pair_state&)> on_established;
    // Called for every authenticated HELLO: the peer's node-list version.
    std::function<void(std::uint32_t peer_id, std::uint64_t bnl_version)> on_peer_hello;

    struct counters {
        std::uint64_t accepted = 0;        // TCP connections taken
        std::uint64_t evicted = 0;         // unauthenticated connections dropped for a new one
        std::uint64_t refused_busy = 0;    // closed at once: every slot held by authenticated peers
        std::uint64_t refused_peer = 0;    // TLS or identity checks failed
        std::uint64_t timed_out = 0;
        std::uint64_t negotiated = 0;      // completed, either role
        std::uint64_t failed = 0;          // authenticated but did not complete
        std::uint64_t collisions = 0;      // simultaneous negotiations resolved
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
    enum class role { dialler, listener };

    boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor);
    void admit(boost::asio::ip::tcp::socket socket);
    boost::asio::awaitable<void> dial(std::uint32_t peer_id, std::shared_ptr<flight> f);
    boost::asio::awaitable<void> serve(std::shared_ptr<connection> c);
    boost::asio::awaitable<bool> negotiate(std::shared_ptr<connection> c, const bnl_node& peer, role r,
                                           std::shared_ptr<flight> f);
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
    std::unordered_map<std::uint32_t, pair_state> pairs_;
    struct retry_state {
        clock::time_point next_attempt{};
        std::chrono::milliseconds backoff{0};
        bool wanted = false;
    };
    std::unordered_map<std::uint32_t, retry_state> retry_;
    boost::asio::steady_timer tick_timer_;
    bool stopping_ = false;
    counters stats_;
    // Cleared on destruction so coroutines still queued can tell.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace weft::io
