// What `weftctl status` shows: the daemon fills a node_status, to_json makes
// the stable document of src/wire/CONTROL.md ("status"), and weftctl, which
// sees only that JSON, renders it as a table with render_status.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/data_plane.hpp"

namespace weft::app {

struct peer_status {
    std::string name;
    std::uint32_t id = 0;
    std::optional<std::string> endpoint;                 // "198.18.0.2:655" / "[2001:db8::1]:655"
    std::string state;                                   // "idle" | "negotiating" | "up"
    std::optional<std::uint64_t> announced_bnl_version;  // from its last HELLO
    std::optional<std::string> cipher, compression;
    std::optional<int> compression_level;
    std::optional<std::uint32_t> epoch;
    std::optional<std::int64_t> last_handshake, last_rx;  // unix seconds
    traffic_counters counters;                            // drops indexed by frame_drop
};

struct node_status {
    std::string version;  // weftd's
    std::string name, network, interface;
    std::uint32_t id = 0;
    std::uint64_t bnl_version = 0;
    std::int64_t bnl_signed = 0;  // unix seconds
    std::int64_t started = 0, now = 0;
    std::vector<peer_status> peers;
    traffic_counters unattributed;  // frames from unknown or own sender ids
};

// The schema's version, "schema" in the document: raised only when a key
// changes meaning or goes away (new keys may be added without raising it).
inline constexpr int status_schema = 1;

// The stable document (CONTROL.md): peers sorted by name, every drop reason
// present by its to_string name (zeros included), absent values as null,
// times as unix seconds plus "_utc" ISO-8601 strings.
nlohmann::json to_json(const node_status& status);

// The readable table weftctl prints, made only from the JSON (of this or a
// later schema; missing or mistyped values show as "-", never a throw).
// Peers that announced an older node list than ours are marked "(behind)".
std::string render_status(const nlohmann::json& status);

}  // namespace weft::app
