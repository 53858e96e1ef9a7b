#include "app/status.hpp"

#include <algorithm>
#include <cstdio>

#include "wire/bnl.hpp"
#include "wire/control.hpp"
#include "wire/frame.hpp"

namespace weft::app {

using json = nlohmann::json;

namespace {

// Times a human reads: inside 0000..9999, else shown as the plain number.
constexpr std::int64_t utc_max = 253402300799;  // 9999-12-31T23:59:59Z

std::string utc(std::int64_t t) {
    return t >= 0 && t <= utc_max ? format_utc_time(t) : std::to_string(t);
}

template <class T>
json opt(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

json opt_time(const std::optional<std::int64_t>& t) {
    return t ? json(utc(*t)) : json(nullptr);
}

json traffic_json(const traffic_counters& c) {
    json drops = json::object();
    for (std::size_t i = 0; i < frame_drop_count; ++i)
        drops[std::string(to_string(static_cast<frame_drop>(i)))] = c.drops[i];
    return json{{"tx_packets", c.tx_packets},
                {"tx_bytes", c.tx_bytes},
                {"rx_packets", c.rx_packets},
                {"rx_bytes", c.rx_bytes},
                {"drops", std::move(drops)}};
}

// ---- reading the document defensively (weftctl may face another version)

const json* member(const json& j, const char* key) {
    if (!j.is_object()) return nullptr;
    const auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

std::optional<std::int64_t> get_int(const json& j, const char* key) {
    const json* v = member(j, key);
    if (!v) return std::nullopt;
    if (v->is_number_unsigned()) {
        const auto u = v->get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
        return static_cast<std::int64_t>(u);
    }
    if (v->is_number_integer()) return v->get<std::int64_t>();
    return std::nullopt;
}

std::optional<std::uint64_t> get_uint(const json& j, const char* key) {
    const json* v = member(j, key);
    if (v && v->is_number_unsigned()) return v->get<std::uint64_t>();
    if (v && v->is_number_integer() && v->get<std::int64_t>() >= 0)
        return static_cast<std::uint64_t>(v->get<std::int64_t>());
    return std::nullopt;
}

std::string get_text(const json& j, const char* key, std::size_t max = 64) {
    const json* v = member(j, key);
    if (v && v->is_string()) return one_line(v->get_ref<const std::string&>(), max);
    if (v && v->is_number_integer()) return std::to_string(v->get<std::int64_t>());
    return "-";
}

std::string num(const std::optional<std::uint64_t>& v) {
    return v ? std::to_string(*v) : "-";
}

std::string duration(std::int64_t s) {
    if (s < 0) return "-";
    char buf[64];
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                      static_cast<long long>(s % 60));
    else if (s < 86400)
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                      static_cast<long long>(s / 60 % 60));
    else
        std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400),
                      static_cast<long long>(s / 3600 % 24));
    return buf;
}

std::string ago(const json& j, const char* key, const std::optional<std::int64_t>& now) {
    const auto t = get_int(j, key);
    if (!t) return "-";
    if (!now || *now < *t) return utc(*t);
    return duration(*now - *t) + " ago";
}

// Columns padded to their widest cell; numbers right-aligned.
struct table {
    std::vector<std::string> head;
    std::vector<bool> right;
    std::vector<std::vector<std::string>> rows;

    std::string render() const {
        std::vector<std::size_t> w(head.size());
        for (std::size_t c = 0; c < head.size(); ++c) {
            w[c] = head[c].size();
            for (const auto& r : rows) w[c] = std::max(w[c], r[c].size());
        }
        std::string out;
        auto line = [&](const std::vector<std::string>& cells) {
            std::string l;
            for (std::size_t c = 0; c < cells.size(); ++c) {
                const std::string pad(w[c] - cells[c].size(), ' ');
                l += right[c] ? pad + cells[c]
                              : cells[c] + (c + 1 < cells.size() ? pad : std::string());
                if (c + 1 < cells.size()) l += "  ";
            }
            while (!l.empty() && l.back() == ' ') l.pop_back();
            out += l + '\n';
        };
        line(head);
        for (const auto& r : rows) line(r);
        return out;
    }
};

// "replay 3, auth_failed 1" for the non-zero drop counters, "" if none.
std::string nonzero_drops(const json& traffic, std::uint64_t& total) {
    total = 0;
    std::string out;
    const json* drops = member(traffic, "drops");
    if (!drops || !drops->is_object()) return out;
    for (const auto& [k, v] : drops->items()) {
        if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0) continue;
        total += v.get<std::uint64_t>();
        if (!out.empty()) out += ", ";
        out += one_line(k, 32) + " " + std::to_string(v.get<std::uint64_t>());
    }
    return out;
}

}  // namespace

json to_json(const node_status& s) {
    json j;
    j["schema"] = status_schema;
    j["weftd"] = s.version;
    j["node"] =
        json{{"name", s.name}, {"id", s.id}, {"network", s.network}, {"interface", s.interface}};
    j["bnl"] = json{
        {"version", s.bnl_version}, {"signed", s.bnl_signed}, {"signed_utc", utc(s.bnl_signed)}};
    j["started"] = s.started;
    j["started_utc"] = utc(s.started);
    j["now"] = s.now;
    j["now_utc"] = utc(s.now);
    j["uptime"] = std::max<std::int64_t>(0, s.now - s.started);

    std::vector<const peer_status*> order;
    for (const auto& p : s.peers) order.push_back(&p);
    std::sort(order.begin(), order.end(),
              [](const peer_status* a, const peer_status* b) { return a->name < b->name; });
    json peers = json::array();
    for (const peer_status* p : order) {
        json jp;
        jp["name"] = p->name;
        jp["id"] = p->id;
        jp["endpoint"] = opt(p->endpoint);
        jp["state"] = p->state;
        jp["announced_bnl_version"] = opt(p->announced_bnl_version);
        jp["bnl_behind"] =
            p->announced_bnl_version.has_value() && *p->announced_bnl_version < s.bnl_version;
        jp["cipher"] = opt(p->cipher);
        jp["compression"] = opt(p->compression);
        jp["compression_level"] = opt(p->compression_level);
        jp["epoch"] = opt(p->epoch);
        jp["last_handshake"] = opt(p->last_handshake);
        jp["last_handshake_utc"] = opt_time(p->last_handshake);
        jp["last_rx"] = opt(p->last_rx);
        jp["last_rx_utc"] = opt_time(p->last_rx);
        jp["traffic"] = traffic_json(p->counters);
        peers.push_back(std::move(jp));
    }
    j["peers"] = std::move(peers);
    j["unattributed"] = traffic_json(s.unattributed);
    return j;
}

std::string render_status(const json& s) {
    if (!s.is_object()) return "(the status is not a JSON object)\n";
    const json empty = json::object();
    const json* node = member(s, "node");
    const json* bnl = member(s, "bnl");
    if (!node) node = &empty;
    if (!bnl) bnl = &empty;
    const auto now = get_int(s, "now");
    const auto ours = get_uint(*bnl, "version");

    std::string out;
    out += "node " + get_text(*node, "name") + " (id " + get_text(*node, "id") + "), network " +
           get_text(*node, "network") + ", interface " + get_text(*node, "interface") + ", weftd " +
           get_text(s, "weftd") + '\n';
    const auto signed_at = get_int(*bnl, "signed");
    out += "node list: version " + num(ours) + ", signed " +
           (signed_at ? utc(*signed_at) : std::string("-")) + '\n';
    const auto started = get_int(s, "started");
    const auto uptime = get_int(s, "uptime");
    out += "up " + (uptime ? duration(*uptime) : std::string("-")) + ", since " +
           (started ? utc(*started) : std::string("-")) + '\n';

    const json* peers = member(s, "peers");
    if (!peers || !peers->is_array() || peers->empty()) {
        out += "\nno peers\n";
    } else {
        table t;
        t.head = {"PEER",    "ID",          "STATE",   "ENDPOINT",  "NODE LIST",
                  "CIPHER",  "COMPRESSION", "EPOCH",   "HANDSHAKE", "LAST RX",
                  "TX PKTS", "TX BYTES",    "RX PKTS", "RX BYTES",  "DROPS"};
        t.right = {false, true,  false, false, false, false, false, true,
                   false, false, true,  true,  true,  true,  true};
        std::size_t behind = 0;
        std::vector<std::string> drop_lines;
        for (const auto& p : *peers) {
            const auto announced = get_uint(p, "announced_bnl_version");
            std::string list = num(announced);
            if (announced && ours && *announced < *ours) {
                list += " (behind)";
                ++behind;
            } else if (announced && ours && *announced > *ours) {
                list += " (newer)";
            }
            std::string comp = get_text(p, "compression");
            if (const auto level = get_int(p, "compression_level"); level && comp != "-")
                comp += ":" + std::to_string(*level);
            const json* traffic = member(p, "traffic");
            if (!traffic) traffic = &empty;
            std::uint64_t dropped = 0;
            const std::string drops = nonzero_drops(*traffic, dropped);
            if (!drops.empty()) drop_lines.push_back("  " + get_text(p, "name") + ": " + drops);
            t.rows.push_back({get_text(p, "name"), get_text(p, "id"), get_text(p, "state", 16),
                              get_text(p, "endpoint"), list, get_text(p, "cipher", 32), comp,
                              num(get_uint(p, "epoch")), ago(p, "last_handshake", now),
                              ago(p, "last_rx", now), num(get_uint(*traffic, "tx_packets")),
                              num(get_uint(*traffic, "tx_bytes")),
                              num(get_uint(*traffic, "rx_packets")),
                              num(get_uint(*traffic, "rx_bytes")), std::to_string(dropped)});
        }
        out += '\n' + t.render();
        if (behind > 0)
            out += "\n" + std::to_string(behind) + (behind == 1 ? " peer" : " peers") +
                   " (behind) announced an older node list than ours (version " + num(ours) + ")\n";
        if (!drop_lines.empty()) {
            out += "\ndrops:\n";
            for (const auto& l : drop_lines) out += l + '\n';
        }
    }
    if (const json* un = member(s, "unattributed")) {
        std::uint64_t dropped = 0;
        const std::string drops = nonzero_drops(*un, dropped);
        if (!drops.empty())
            out += "\nunattributed drops (unknown or own sender id): " + drops + '\n';
    }
    return out;
}

}  // namespace weft::app
