// The daemon's side of the control socket: what weftctl's commands do, and
// the status they read (schema in src/wire/CONTROL.md).
#include "app/daemon.hpp"
#include "app/status.hpp"
#include "crypto/aead.hpp"
#include "wire/negotiation.hpp"

namespace weft::app {

namespace {

std::string cipher_name(std::uint8_t id) {
    auto a = crypto::aead_algorithm_from_id(id);
    return a ? std::string(crypto::name(*a)) : "cipher " + std::to_string(id);
}

std::string compression_name(std::uint8_t id) {
    auto c = compression_from_wire(id);
    return c ? std::string(name(*c)) : "compression " + std::to_string(id);
}

}  // namespace

void daemon::open_control() {
    if (cfg_.control_socket.empty()) return;
    auto srv = io::control_server::open(io_, cfg_.control_socket, log_,
                                        [this](const control_request& r) { return handle_control(r); });
    if (!srv) throw std::runtime_error("control-socket " + cfg_.control_socket.string() + ": " + srv.error());
    control_ = std::move(srv).value();
}

node_status daemon::collect_status() const {
    node_status s;
    s.version = WEFT_VERSION;
    s.name = cfg_.name;
    s.id = self_id_;
    s.network = bnl_->list().network;
    s.interface = tun_ ? tun_->name() : cfg_.interface;
    s.bnl_version = bnl_->list().version;
    s.bnl_signed = bnl_->list().signed_at.value_or(0);
    s.started = started_at_;
    s.now = now();
    s.unattributed = dp_->unattributed();
    for (const auto& p : dp_->peers()) {
        peer_status ps;
        ps.name = p.name;
        ps.id = p.id;
        if (p.endpoint) ps.endpoint = to_string(*p.endpoint);
        const pair_state* st = neg_->pair(p.id);
        if (neg_->in_flight(p.id)) ps.state = "negotiating";
        else if (p.epoch && p.accepting) ps.state = "up";
        else ps.state = "idle";
        ps.announced_bnl_version = dist_->announced(p.id);
        if (st && st->current) {
            ps.cipher = cipher_name(st->current->cipher);
            ps.compression = compression_name(st->current->compression);
            ps.compression_level = st->current->level;
            ps.epoch = st->current->epoch;
            ps.last_handshake = st->current->established_at;
        }
        if (p.last_rx) ps.last_rx = p.last_rx;
        ps.counters = p.counters;
        s.peers.push_back(std::move(ps));
    }
    return s;
}

nlohmann::json daemon::handle_control(const control_request& r) {
    switch (r.command) {
        case control_command::status:
            return to_json(collect_status());
        case control_command::bnl:
            return {{"text", std::string(bnl_file_->bytes)}};
        case control_command::reload: {
            auto l = reload("weftctl reload");
            return {{"version", bnl_->list().version}, {"applied", l.applied}, {"message", l.message}};
        }
        case control_command::push: {
            auto p = reload_and_push("weftctl push");
            if (p.load.refused) throw io::control_error(p.load.message);
            if (excluded_) throw io::control_error("this node is not in the node list in force: nothing pushed");
            return {{"version", bnl_->list().version},
                    {"peers", pushes_pending()},
                    {"pushed_before", !p.pushed_now}};
        }
        case control_command::renegotiate: {
            const bnl_node* n = bnl_->by_name(r.peer);
            if (!n) throw io::control_error("no node named '" + r.peer + "' in node list version " +
                                            std::to_string(bnl_->list().version));
            if (n->id == self_id_) throw io::control_error("'" + r.peer + "' is this node");
            if (excluded_) throw io::control_error("this node is not in the node list in force");
            neg_->request(n->id);
            log_.notice("weftctl: renegotiating with {}", n->name);
            return {{"peer", n->name}, {"requested", true}};
        }
    }
    throw io::control_error("unknown command");
}

}  // namespace weft::app
