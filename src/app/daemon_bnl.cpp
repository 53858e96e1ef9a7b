// The daemon's node list: loading it from disk (SIGHUP, SIGUSR1, weftctl),
// taking newer lists from peers, saving them, applying them, and driving
// the distribution (core/bnl_distribution decides, the negotiation service
// carries the exchanges).
#include <sys/stat.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <array>
#include <map>
#include <random>
#include <tuple>

#include "app/daemon.hpp"
#include "base/hex.hpp"
#include "crypto/random.hpp"
#include "io/file.hpp"

namespace weft::app {

namespace asio = boost::asio;
constexpr auto use_tuple_bnl = asio::as_tuple(asio::use_awaitable);

namespace {

std::string node_label(const bnl_index& bnl, std::uint32_t id) {
    const bnl_node* n = bnl.by_id(id);
    return n ? n->name + " (id " + std::to_string(id) + ")" : "id " + std::to_string(id);
}

}  // namespace

bnl_load daemon::reload_bnl(const char* why) {
    std::string bytes;
    if (auto ec = io::read_file_bounded(cfg_.bnl, bnl_max_file_bytes, bytes)) {
        log_.warning("{}: cannot read node list {}: {}", why, cfg_.bnl.string(), ec.message());
        return {false, true, "cannot read " + cfg_.bnl.string() + ": " + ec.message()};
    }
    auto j = judge_bnl(std::move(bytes), trusted_, *bnl_file_);
    if (j.same()) {
        log_.info("{}: node list unchanged (version {})", why, j.candidate->list.version);
        return {false, false, "node list unchanged (version " + std::to_string(j.candidate->list.version) + ")"};
    }
    if (!j.accepted()) {
        log_.warning("{}: node list {} refused: {}", why, cfg_.bnl.string(), j.refusal);
        return {false, true, "node list " + cfg_.bnl.string() + " refused: " + j.refusal};
    }
    adopt_bnl(std::move(*j.candidate), why);
    return {true, false, "node list version " + std::to_string(bnl_->list().version) + " applied"};
}

bool daemon::push_bnl(const char* why) {
    if (excluded_) return false;
    const bool fresh = dist_->push(std::chrono::steady_clock::now());
    if (fresh)
        log_.notice("{}: pushing node list version {} to {} peers", why, bnl_->list().version, pushes_pending());
    else
        log_.info("{}: node list version {} was pushed already", why, bnl_->list().version);
    kick_distribution();
    return fresh;
}

// Peers the version in force is still to reach by push (in flight included).
std::size_t daemon::pushes_pending() const {
    std::size_t n = 0;
    for (const auto& node : bnl_->list().nodes)
        if (node.id != self_id_ && dist_->push_pending(node.id)) ++n;
    return n;
}

// A list a peer sent (pull or push): raw bytes, checked here exactly as a
// list from disk.  Anything but a strictly newer list of our network signed
// by a trusted key changes nothing, and says why, naming the sender.
void daemon::bnl_received(std::uint32_t peer, std::string bytes) {
    const std::string from = node_label(*bnl_, peer);
    const std::size_t size = bytes.size();
    auto j = judge_bnl(std::move(bytes), trusted_, *bnl_file_);
    if (j.same()) {
        log_.debug("node list from {}: version {} is the one we hold", from, j.candidate->list.version);
        return;
    }
    if (!j.accepted()) {
        // Parser and signature errors quote the list's bytes, which here
        // are the peer's: escaped and bounded like any peer text.
        const std::string why = printable(j.refusal, 512);
        if (j.candidate)
            log_.warning("node list from {} refused: {}", from, why);
        else
            log_.warning("node list from {} refused ({} bytes): {}", from, size, why);
        return;
    }
    // Saved before it is applied: a restart must not fall back to a list
    // the mesh has left behind.
    unsigned mode = 0644;
    struct stat st {};
    if (::stat(cfg_.bnl.c_str(), &st) == 0) mode = st.st_mode & 07777;
    const verified_bnl& v = *j.candidate;
    // Through a symlink to where it points, whose mode `mode` is.
    if (auto ec = io::write_file_atomic(cfg_.bnl, v.bytes,
                                        io::write_options{.mode = mode, .symlinks = io::symlink_policy::follow}))
        log_.error("cannot save node list version {} to {}: {} (applied in memory only)", v.list.version,
                   cfg_.bnl.string(), ec.message());
    const std::string why = "node list from " + from;
    adopt_bnl(std::move(*j.candidate), why.c_str());
    if (!excluded_ && dist_->push(std::chrono::steady_clock::now(), peer))
        log_.info("passing node list version {} on to our peers", bnl_->list().version);
    kick_distribution();
}

// Makes a verified, accepted list the one in force.
void daemon::adopt_bnl(verified_bnl v, const char* why) {
    auto next = std::make_shared<const bnl_index>(v.list);
    auto prev = bnl_;
    bnl_file_ = std::make_shared<const verified_bnl>(std::move(v));
    bnl_bytes_ = std::make_shared<const std::string>(bnl_file_->bytes);
    bnl_ = next;
    apply_bnl(next, prev);
    log_.notice("{}: node list version {} applied ({} nodes)", why, bnl_->list().version, bnl_->list().nodes.size());
}

void daemon::apply_bnl(std::shared_ptr<const bnl_index> next, const std::shared_ptr<const bnl_index>& prev) {
    const bnl_node* self_now = next->by_id(self_id_);
    if (!self_now || self_now->name != cfg_.name) {
        if (!excluded_)
            log_.error("this node ({}, id {}) is not in node list version {}: it carries no traffic now",
                       cfg_.name, self_id_, next->list().version);
        excluded_ = true;
    } else if (excluded_) {
        log_.notice("this node is in node list version {} again: carrying traffic", next->list().version);
        excluded_ = false;
    }
    // A node that left, or whose id now names another node, or whose pin
    // changed, is removed: its keys and state go at once.
    for (const auto& n : prev->list().nodes) {
        if (n.id == self_id_) continue;
        const bnl_node* now_ = next->by_id(n.id);
        if (!now_ || now_->name != n.name || now_->pin != n.pin || excluded_) {
            log_.notice("node {} (id {}) removed or changed identity: its tunnel and keys are gone", n.name, n.id);
            neg_->forget(n.id);
            // set_nodes() keeps a peer whose id and name stay (a new pin):
            // its old keys must not outlive the identity they belonged to.
            dp_->forget_keys(n.id);
        }
    }
    if (self_now && !excluded_) {
        const bnl_node* self_before = prev->by_id(self_id_);
        if (self_before && self_before->port != self_now->port && !cfg_.port)
            log_.warning("this node's port changed in the node list ({} -> {}): weftd keeps listening on {} until it "
                         "is restarted",
                         self_before->port, self_now->port, self_before->port);
    }
    dp_->set_nodes(next);
    std::vector<std::uint32_t> ids;
    if (!excluded_)
        for (const auto& n : next->list().nodes)
            if (n.id != self_id_) ids.push_back(n.id);
    dist_->set_peers(ids);
    dist_->set_version(next->list().version);
    subnet_hooks(prev.get(), *next);
    // New nodes: negotiate now rather than on the first packet.
    if (!excluded_) neg_->request_missing(std::chrono::milliseconds(2'000));
}

// subnet-up/subnet-down for what changed between two lists (before == null:
// everything is new); my-subnet-up/-down for this node's own subnets.
void daemon::subnet_hooks(const bnl_index* before, const bnl_index& after) {
    using key = std::tuple<std::uint32_t, std::string, std::string>;  // id, name, subnet
    auto collect = [](const bnl_index& b) {
        std::map<key, std::pair<const bnl_node*, ip_prefix>> out;
        for (const auto& n : b.list().nodes)
            for (const auto& s : n.subnets) out[{n.id, n.name, to_string(s)}] = {&n, s};
        return out;
    };
    auto after_set = collect(after);
    decltype(after_set) before_set;
    if (before) before_set = collect(*before);
    for (const auto& [k, v] : before_set) {
        if (after_set.count(k)) continue;
        const bool own = v.first->id == self_id_;
        const auto& hook = own ? cfg_.hooks.my_subnet_down : cfg_.hooks.subnet_down;
        if (hook)
            hooks_->run(own ? "my-subnet-down" : "subnet-down", *hook,
                        io::subnet_hook_env(tun_->name(), v.second, v.first->name, v.first->id));
    }
    for (const auto& [k, v] : after_set) {
        if (before_set.count(k)) continue;
        const bool own = v.first->id == self_id_;
        const auto& hook = own ? cfg_.hooks.my_subnet_up : cfg_.hooks.subnet_up;
        if (hook)
            hooks_->run(own ? "my-subnet-up" : "subnet-up", *hook,
                        io::subnet_hook_env(tun_->name(), v.second, v.first->name, v.first->id));
    }
}

void daemon::start_distribution(std::size_t max_exchanges) {
    distribution_settings s;
    s.pull_interval = cfg_.pull_interval;
    s.announce_pull_min_interval = cfg_.list_ask_interval;
    s.max_concurrent = max_exchanges;
    std::uint64_t seed = 0;
    std::array<std::uint8_t, 8> seed_bytes{};
    crypto::random_bytes(seed_bytes);
    for (auto b : seed_bytes) seed = (seed << 8) | b;
    const auto now = std::chrono::steady_clock::now();
    dist_ = std::make_unique<bnl_distribution>(s, bnl_->list().version, seed, now);
    std::vector<std::uint32_t> ids;
    for (const auto& n : bnl_->list().nodes)
        if (n.id != self_id_) ids.push_back(n.id);
    dist_->set_peers(ids);
    bnl_bytes_ = std::make_shared<const std::string>(bnl_file_->bytes);
    neg_->bnl_bytes = [this] { return bnl_bytes_; };
    neg_->on_bnl_received = [this](std::uint32_t peer, std::string bytes) { bnl_received(peer, std::move(bytes)); };
    neg_->on_peer_hello = [this](std::uint32_t peer, std::uint64_t version) {
        dist_->peer_announced(peer, version, std::chrono::steady_clock::now());
        if (version > bnl_->list().version) kick_distribution();
    };
}

void daemon::kick_distribution() { dist_timer_.cancel(); }

void daemon::run_exchanges() {
    if (excluded_ || stopping_) return;
    for (const auto& t : dist_->due(std::chrono::steady_clock::now())) {
        log_.debug("node list: exchange with {} ({})", node_label(*bnl_, t.peer), to_string(t.reason));
        neg_->exchange_bnl(t.peer, [this, t](io::negotiation_service::exchange_outcome o) {
            using eo = io::negotiation_service::exchange_outcome;
            if (stopping_) return;
            exchange_result r = exchange_result::completed;
            if (o == eo::failed) r = exchange_result::failed;
            if (o == eo::busy) r = exchange_result::busy;
            if (o == eo::failed && t.reason == exchange_reason::push)
                log_.info("node list: push to {} failed; retrying later", node_label(*bnl_, t.peer));
            // eo::sent: the service logged what it sent.  Whether it verifies
            // there is the peer's call, so its announced version changes only
            // with its next greeting (at the latest the next pull round):
            // status never shows a node as current that refused the list.
            dist_->done(t.peer, r, std::chrono::steady_clock::now());
            if (r != exchange_result::busy) kick_distribution();
        });
    }
}

asio::awaitable<void> daemon::distribution_loop() {
    while (!stopping_) {
        run_exchanges();
        // Busy exchanges are retried after a short pause, not in a spin.
        const auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
        dist_timer_.expires_at(std::max(dist_->next_wakeup(), soon));
        co_await dist_timer_.async_wait(use_tuple_bnl);  // cancelled = woken early
    }
}

}  // namespace weft::app
