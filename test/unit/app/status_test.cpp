// app/status: the status document's keys (the stable schema of
// src/wire/CONTROL.md, checked key by key so a rename fails here), null for
// absent values, every drop reason present, and the table weftctl prints:
// what it must contain, lagging peers marked, and no throw on odd JSON.
#include "app/status.hpp"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "wire/frame.hpp"

namespace {

using json = nlohmann::json;
using weft::app::node_status;
using weft::app::peer_status;

std::set<std::string> keys(const json& j) {
    std::set<std::string> out;
    for (const auto& [k, v] : j.items()) {
        (void)v;
        out.insert(k);
    }
    return out;
}

node_status sample() {
    node_status s;
    s.version = "0.1.0";
    s.name = "alpha";
    s.network = "prod";
    s.interface = "weft0";
    s.id = 1;
    s.bnl_version = 1700000100;
    s.bnl_signed = 1700000000;  // 2023-11-14T22:13:20Z
    s.started = 1700000000;
    s.now = 1700090061;  // 1d 01:01:01 later

    peer_status up;
    up.name = "gamma";
    up.id = 3;
    up.endpoint = "[2001:db8::3]:3406";
    up.state = "up";
    up.announced_bnl_version = 1700000100;
    up.cipher = "aes-256-gcm";
    up.compression = "lz4";
    up.compression_level = 1;
    up.epoch = 4;
    up.last_handshake = 1700090000;
    up.last_rx = 1700090059;
    up.counters.tx_packets = 10;
    up.counters.tx_bytes = 1500;
    up.counters.rx_packets = 20;
    up.counters.rx_bytes = 3000;
    up.counters.drop(weft::frame_drop::replay);
    up.counters.drop(weft::frame_drop::replay);
    up.counters.drop(weft::frame_drop::auth_failed);

    peer_status idle;
    idle.name = "beta";
    idle.id = 2;
    idle.state = "idle";
    idle.announced_bnl_version = 1699999999;  // behind ours

    s.peers = {up, idle};
    s.unattributed.drop(weft::frame_drop::unknown_sender);
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(status_model)

BOOST_AUTO_TEST_CASE(json_keys_are_stable) {
    const json j = weft::app::to_json(sample());
    BOOST_TEST((keys(j) == std::set<std::string>{"schema", "weftd", "node", "bnl", "started",
                                                 "started_utc", "now", "now_utc", "uptime", "peers",
                                                 "unattributed"}));
    BOOST_TEST(j["schema"] == 1);
    BOOST_TEST(j["weftd"] == "0.1.0");
    BOOST_TEST((j["node"] ==
                json{{"name", "alpha"}, {"id", 1}, {"network", "prod"}, {"interface", "weft0"}}));
    BOOST_TEST((j["bnl"] == json{{"version", 1700000100},
                                 {"signed", 1700000000},
                                 {"signed_utc", "2023-11-14T22:13:20Z"}}));
    BOOST_TEST(j["started_utc"] == "2023-11-14T22:13:20Z");
    BOOST_TEST(j["uptime"] == 90061);

    BOOST_TEST_REQUIRE(j["peers"].size() == 2u);
    // Sorted by name.
    const json& beta = j["peers"][0];
    const json& gamma = j["peers"][1];
    BOOST_TEST(beta["name"] == "beta");
    const std::set<std::string> peer_keys{"name",
                                          "id",
                                          "endpoint",
                                          "state",
                                          "announced_bnl_version",
                                          "bnl_behind",
                                          "cipher",
                                          "compression",
                                          "compression_level",
                                          "epoch",
                                          "last_handshake",
                                          "last_handshake_utc",
                                          "last_rx",
                                          "last_rx_utc",
                                          "traffic"};
    BOOST_TEST((keys(beta) == peer_keys));
    BOOST_TEST((keys(gamma) == peer_keys));

    BOOST_TEST(gamma["id"] == 3);
    BOOST_TEST(gamma["endpoint"] == "[2001:db8::3]:3406");
    BOOST_TEST(gamma["state"] == "up");
    BOOST_TEST(gamma["announced_bnl_version"] == 1700000100);
    BOOST_TEST(gamma["bnl_behind"] == false);
    BOOST_TEST(gamma["cipher"] == "aes-256-gcm");
    BOOST_TEST(gamma["compression"] == "lz4");
    BOOST_TEST(gamma["compression_level"] == 1);
    BOOST_TEST(gamma["epoch"] == 4);
    BOOST_TEST(gamma["last_handshake"] == 1700090000);
    BOOST_TEST(gamma["last_rx_utc"] == "2023-11-15T23:14:19Z");

    // Absent values are null, not missing.
    for (const char* k : {"endpoint", "cipher", "compression", "compression_level", "epoch",
                          "last_handshake", "last_handshake_utc", "last_rx", "last_rx_utc"})
        BOOST_TEST(beta[k].is_null(), k);
    BOOST_TEST(beta["bnl_behind"] == true);

    const std::set<std::string> traffic_keys{"tx_packets", "tx_bytes", "rx_packets", "rx_bytes",
                                             "drops"};
    BOOST_TEST((keys(gamma["traffic"]) == traffic_keys));
    BOOST_TEST((keys(j["unattributed"]) == traffic_keys));
    BOOST_TEST(gamma["traffic"]["rx_bytes"] == 3000);
}

// The full example in the spec is this sample's document, so the page stays true.
BOOST_AUTO_TEST_CASE(spec_example_is_true) {
    std::ifstream in(WEFT_SOURCE_DIR "/src/wire/CONTROL.md");
    const std::string md((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto start = md.find("```json\n");
    BOOST_TEST_REQUIRE(start != std::string::npos);
    const auto end = md.find("```", start + 8);
    BOOST_TEST_REQUIRE(end != std::string::npos);
    const json example = json::parse(md.substr(start + 8, end - start - 8), nullptr, false);
    BOOST_TEST_REQUIRE(!example.is_discarded());
    BOOST_TEST((example == weft::app::to_json(sample())),
               "CONTROL.md example differs from:\n"
                   << weft::app::to_json(sample()).dump(2));
}

BOOST_AUTO_TEST_CASE(every_drop_reason_is_present) {
    const json j = weft::app::to_json(sample());
    std::set<std::string> reasons;
    for (std::size_t i = 0; i < weft::frame_drop_count; ++i)
        reasons.insert(std::string(weft::to_string(static_cast<weft::frame_drop>(i))));
    BOOST_TEST(reasons.size() == weft::frame_drop_count);
    // The names the issue asks an administrator to see, among them.
    for (const char* r : {"replay", "auth_failed", "unknown_sender", "spoofed_source", "too_long",
                          "decompress_failed", "decompress_too_big", "no_route"})
        BOOST_TEST(reasons.count(r) == 1u, r);
    for (const auto& p : j["peers"]) BOOST_TEST((keys(p["traffic"]["drops"]) == reasons));
    BOOST_TEST((keys(j["unattributed"]["drops"]) == reasons));
    BOOST_TEST(j["peers"][1]["traffic"]["drops"]["replay"] == 2);
    BOOST_TEST(j["peers"][1]["traffic"]["drops"]["auth_failed"] == 1);
    BOOST_TEST(j["peers"][1]["traffic"]["drops"]["no_route"] == 0);
    BOOST_TEST(j["unattributed"]["drops"]["unknown_sender"] == 1);
}

BOOST_AUTO_TEST_CASE(table_shows_what_it_must) {
    const std::string t = weft::app::render_status(weft::app::to_json(sample()));
    BOOST_TEST_MESSAGE(t);
    auto has = [&t](const std::string& s) {
        BOOST_TEST(t.find(s) != std::string::npos, "missing: " << s << "\n" << t);
    };
    has("node alpha (id 1), network prod, interface weft0, weftd 0.1.0");
    has("node list: version 1700000100, signed 2023-11-14T22:13:20Z");
    has("up 1d01h, since 2023-11-14T22:13:20Z");
    for (const char* h :
         {"PEER", "ID", "STATE", "ENDPOINT", "NODE LIST", "CIPHER", "COMPRESSION", "EPOCH",
          "HANDSHAKE", "LAST RX", "TX PKTS", "TX BYTES", "RX PKTS", "RX BYTES", "DROPS"})
        has(h);
    has("[2001:db8::3]:3406");
    has("aes-256-gcm");
    has("lz4:1");
    has("1m01s ago");  // last handshake
    has("2s ago");     // last rx
    has("1699999999 (behind)");
    has("1 peer (behind) announced an older node list than ours (version 1700000100)");
    has("gamma: auth_failed 1, replay 2");  // a map: reasons in name order
    has("unattributed drops (unknown or own sender id): unknown_sender 1");
    // beta sorts first, and a peer without a value shows "-".
    BOOST_TEST(t.find("beta") < t.find("gamma"));
    const auto beta_line =
        t.substr(t.find("\nbeta"), t.find('\n', t.find("\nbeta") + 1) - t.find("\nbeta"));
    BOOST_TEST(beta_line.find(" - ") != std::string::npos, beta_line);
    // The up-to-date peer is not marked.
    const auto gamma_line =
        t.substr(t.find("\ngamma"), t.find('\n', t.find("\ngamma") + 1) - t.find("\ngamma"));
    BOOST_TEST(gamma_line.find("behind") == std::string::npos, gamma_line);
}

BOOST_AUTO_TEST_CASE(table_survives_odd_json) {
    for (const json& odd :
         {json(nullptr), json::array(), json::object(), json{{"peers", 5}},
          json{{"peers", json::array({1, "x", nullptr})}},
          json{{"node", "x"}, {"bnl", {{"version", -1}}}, {"now", "later"}},
          json{{"peers", json::array({json{{"name", "a\nb"}, {"traffic", {{"drops", 3}}}}})}},
          json{{"started", INT64_MIN}, {"uptime", INT64_MAX}}}) {
        std::string t;
        BOOST_CHECK_NO_THROW(t = weft::app::render_status(odd));
        BOOST_TEST(!t.empty());
    }
    const std::string t =
        weft::app::render_status(json{{"peers", json::array({json{{"name", "a\nb"}}})}});
    BOOST_TEST(t.find("a?b") != std::string::npos);  // never a raw control character
    BOOST_TEST(weft::app::render_status(json::object()).find("no peers") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
