// weftd's composition root: builds every component from the validated
// configuration and drives them on one event loop.  Owns no policy of its
// own: the decisions live in core (data_plane, bnl_trust) and the
// negotiation service; this file moves bytes between them, the TUN device,
// the UDP socket, the disk and the hooks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "app/config.hpp"
#include "app/status.hpp"
#include "core/bnl_distribution.hpp"
#include "core/bnl_index.hpp"
#include "core/coalescing.hpp"
#include "core/data_plane.hpp"
#include "io/control_server.hpp"
#include "io/hooks.hpp"
#include "io/log.hpp"
#include "io/negotiation_service.hpp"
#include "io/state_store.hpp"
#include "io/tls.hpp"
#include "io/tun_linux.hpp"
#include "io/udp_socket.hpp"

namespace weft::app {

// What a reload from disk did, for weftctl.
struct bnl_load {
    bool applied = false;
    bool refused = false;  // unreadable, unverifiable or not acceptable (older, conflicting, other network)
    std::string message;
};

// --check-config: everything start() checks that needs no privileges and
// changes nothing (node list signature and own entry, certificate, key and
// CA).  Returns a summary; throws with the first problem.
std::string check_config(const weft_config& cfg);

class daemon {
public:
    daemon(weft_config cfg, io::logger& log);
    ~daemon();
    daemon(const daemon&) = delete;
    daemon& operator=(const daemon&) = delete;

    // Builds everything (node list, TLS identity, state, TUN, UDP, listener)
    // and runs the up hooks.  Throws std::runtime_error with a message an
    // administrator can act on.
    void start();
    // Runs until SIGTERM/SIGINT, then shuts down cleanly.  Returns the exit code.
    int run();
    // Called once when the shutdown starts, before state is saved and the
    // down hook runs (weftd sends systemd STOPPING=1 from it).
    std::function<void()> on_stopping;

private:
    // Waits for the TUN device, the UDP socket and Asio; returns when the
    // io_context stops.
    void run_loop();
    void tun_ready();
    void udp_ready();
    // Delivers what is pending for the TUN device and, if anything was
    // written, reads the device (udp_ready).
    void answer_now();
    // An exception out of a handler: logged, exit code 1, the loop stops.
    void fail(const std::exception& ex);
    boost::asio::awaitable<void> signal_loop();
    boost::asio::awaitable<void> tick_loop();
    void handle_outbound(std::span<std::uint8_t> slot, std::size_t len);
    // A packet (with offload(): vnet header and packet, or a super-packet's
    // head) of n bytes read into `slot` by tun_ready.
    void handle_tun_read(std::span<std::uint8_t> slot, std::size_t n);
    std::span<std::uint8_t> tun_head(std::span<std::uint8_t> slot) const;
    void handle_inbound(std::span<std::uint8_t> frame, const io::udp_endpoint& from);
    std::span<std::uint8_t> tx_slot();
    void queue_frame(std::span<std::uint8_t> frame, const peer_endpoint& to);
    void flush_tx();
    void deliver(std::span<const std::uint8_t> packet);
    void flush_rx();
    void send_one(std::span<const std::uint8_t> frame, const io::udp_endpoint& to);
    void send_result(data_plane::result r, std::span<std::uint8_t> buf, std::size_t len, bool from_queue);
    bool reserve(std::uint32_t peer, std::uint64_t to);
    void established(const pair_state& st);
    void drain(std::uint32_t peer);
    void install_restored();
    void reload_hooks();
    // SIGHUP and `weftctl reload`: the hook commands and the node list from disk.
    bnl_load reload(const char* why);
    // SIGUSR1 and `weftctl push`: reload the node list, then push the one in
    // force.  pushed_now is false when it was refused, this node is not in
    // the list, or this version was pushed before (its retries go on).
    struct push_outcome {
        bnl_load load;
        bool pushed_now = false;
    };
    push_outcome reload_and_push(const char* why);
    // The node list (daemon_bnl.cpp).
    bnl_load reload_bnl(const char* why);
    bool push_bnl(const char* why);
    std::size_t pushes_pending() const;
    void bnl_received(std::uint32_t peer, std::string bytes);
    void adopt_bnl(verified_bnl v, const char* why);
    void apply_bnl(std::shared_ptr<const bnl_index> next, const std::shared_ptr<const bnl_index>& prev);
    void subnet_hooks(const bnl_index* before, const bnl_index& after);
    // `max_exchanges`: the transport's max_list_exchanges, so the
    // distribution never starts more than the transport takes.
    void start_distribution(std::size_t max_exchanges);
    // The control socket (daemon_control.cpp).
    void open_control();  // bound now; start()ed at the end of start()
    nlohmann::json handle_control(const control_request& r);
    node_status collect_status() const;
    void kick_distribution();
    void run_exchanges();
    boost::asio::awaitable<void> distribution_loop();
    void shutdown();
    void log_status();
    std::int64_t now() const;

    weft_config cfg_;
    io::logger& log_;
    // One thread drives everything (signals included): no locks in
    // Asio's scheduler and reactor, which the per-packet path crosses.
    boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
    std::vector<crypto::public_key> trusted_;
    std::shared_ptr<const bnl_index> bnl_;
    std::shared_ptr<const verified_bnl> bnl_file_;
    std::uint32_t self_id_ = 0;
    std::unique_ptr<io::tls_context> tls_;
    std::optional<io::state_store> store_;
    std::optional<io::tun_device> tun_;
    std::optional<io::udp_socket> udp_;
    std::unique_ptr<io::negotiation_service> neg_;
    std::unique_ptr<data_plane> dp_;
    std::unique_ptr<io::hook_runner> hooks_;
    std::unique_ptr<io::control_server> control_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer tick_;
    std::vector<std::uint8_t> tun_buf_, udp_buf_, drain_buf_;
    std::shared_ptr<const std::string> bnl_bytes_;  // the signed list in force, as served to peers
    std::unique_ptr<bnl_distribution> dist_;
    boost::asio::steady_timer dist_timer_;
    // This node is not in the list in force: it carries no traffic.
    bool excluded_ = false;
    std::int64_t started_at_ = 0;
    // Outbound frames of one TUN drain, sealed back to back in tx_buf_ and
    // sent together: runs to one peer with UDP_SEGMENT, or one sendmmsg.
    struct tx_frame {
        std::size_t offset = 0, size = 0;
        io::udp_endpoint to;
    };
    static constexpr std::size_t tx_max_frames = 64;   // UDP_MAX_SEGMENTS, and the sendmmsg batch
    static constexpr std::size_t gso_max_bytes = 65000;  // one UDP datagram before segmentation
    std::vector<std::uint8_t> tx_buf_;
    std::array<tx_frame, tx_max_frames> tx_frames_{};
    std::size_t tx_count_ = 0, tx_end_ = 0, tx_slot_size_ = 0;
    std::unique_ptr<io::udp_batch<tx_max_frames>> tx_batch_, rx_batch_;
    std::vector<std::uint8_t> rx_buf_;  // rx_batch_'s buffers (no GRO)
    bool gso_ = false, gro_ = false;
    // Inbound TCP segments of one flow joined into one TUN write (offload only).
    std::unique_ptr<tcp_coalescer> rx_join_;
    // Idle-latency shortcuts (tun_ready, udp_ready): the last TUN wake found
    // at most one packet; the last UDP wake (with GRO) made at most one
    // read that returned data; this UDP wake wrote to the TUN device.
    bool tun_sparse_ = true, udp_sparse_ = true, rx_wrote_tun_ = false;
    bool stopping_ = false;
    int exit_code_ = 0;
};

}  // namespace weft::app
