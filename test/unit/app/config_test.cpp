#include "app/config.hpp"

#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The required keys, with paths relative to the directory.
constexpr const char* minimal =
    "name = alpha\n"
    "cert = alpha.crt\n"
    "key = alpha.key\n"
    "ca = ca.crt\n"
    "bnl-key = admin.pub\n";

struct config_dir {
    fs::path dir;

    config_dir() {
        std::string tmpl = (fs::temp_directory_path() / "weft-config-XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
    }
    ~config_dir() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    config_dir(const config_dir&) = delete;
    config_dir& operator=(const config_dir&) = delete;

    void write(const std::string& text) const {
        std::ofstream out(dir / "weft.conf", std::ios::binary | std::ios::trunc);
        out << text;
    }
    weft::result<weft::weft_config, std::string> load(const std::string& text) const {
        write(text);
        return weft::load_config(dir);
    }
    // The whole error text expected for one problem.
    std::string error(const std::string& message) const {
        return (dir / "weft.conf").string() + ": " + message;
    }
};

weft::algorithm_prefs prefs(std::string_view ciphers, std::string_view compression) {
    auto p = weft::parse_prefs(ciphers, compression);
    BOOST_REQUIRE(p.has_value());
    return std::move(p).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(every_key) {
    config_dir d;
    auto c = d.load(
        "# a node with everything set\n"
        "name = db-1.example\n"
        "interface = wg_mesh.1\n"
        "port = 3407\n"
        "listen = 2001:db8::7\n"
        "cert = pki/db.crt\n"
        "key = /etc/weft/keys/db.key\n"
        "ca = ../ca/ca.crt\n"
        "require-ou = mesh nodes\n"
        "bnl = lists/prod.signed\n"
        "bnl-key = admin.pub\n"
        "bnl-key = /etc/weft/admin-2027.pub\n"
        "state-dir = /var/lib/weft/state\n"
        "ciphers = chacha20-poly1305:10 aes-256-gcm:9\n"
        "compression = lz4:4:6 none:0:5\n"
        "pull-interval = 300\n"
        "mtu = 1380\n"
        "up = ./up.sh --verbose\n"
        "down = ./down.sh\n"
        "subnet-up = ip route add \"$SUBNET\" dev \"$TUNDEV\"\n"
        "subnet-down = ip route del \"$SUBNET\" dev \"$TUNDEV\"\n"
        "my-subnet-up = /usr/local/sbin/announce up\n"
        "my-subnet-down = /usr/local/sbin/announce down\n"
        "control-socket = /run/weft-db.sock\n"
        "log = /var/log/weft.log\n"
        "log-level = debug\n"
        "keepalive = 25\n"
        "rekey-after = 1800\n"
        "rekey-messages = 1048576\n"
        "rekey-grace = 20\n"
        "max-connections = 128\n"
        "handshake-timeout = 5\n"
        "queue-packets = 32\n"
        "hook-timeout = 12\n"
        "list-ask-interval = 0\n"
        "offload = off\n"
        "\n"
        "[peer.beta]\n"
        "ciphers = aes-128-gcm:10\n"
        "[peer.gw.example]\n"
        "compression = zlib:6:9 none:0:1\n"
        "ciphers = aes-256-gcm:1\n");
    BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error()));
    const fs::path dir = d.dir;
    BOOST_TEST(c->dir == dir);
    BOOST_TEST(c->file == dir / "weft.conf");
    BOOST_TEST(c->name == "db-1.example");
    BOOST_TEST(c->interface == "wg_mesh.1");
    BOOST_TEST((c->port == std::optional<std::uint16_t>(3407)));
    BOOST_REQUIRE(c->listen.has_value());
    BOOST_TEST(weft::to_string(*c->listen) == "2001:db8::7");
    BOOST_TEST(c->cert == dir / "pki/db.crt");
    BOOST_TEST(c->key == fs::path("/etc/weft/keys/db.key"));
    BOOST_TEST(c->ca == dir.parent_path() / "ca/ca.crt");
    BOOST_TEST((c->require_ou == std::optional<std::string>("mesh nodes")));
    BOOST_TEST(c->bnl == dir / "lists/prod.signed");
    BOOST_TEST(
        (c->bnl_keys == std::vector<fs::path>{dir / "admin.pub", "/etc/weft/admin-2027.pub"}));
    BOOST_TEST(c->state_dir == fs::path("/var/lib/weft/state"));
    BOOST_TEST((c->prefs == prefs("chacha20-poly1305:10 aes-256-gcm:9", "lz4:4:6 none:0:5")));
    BOOST_TEST(c->pull_interval.count() == 300);
    BOOST_TEST(c->mtu == 1380);
    BOOST_TEST(*c->hooks.up == "./up.sh --verbose");
    BOOST_TEST(*c->hooks.down == "./down.sh");
    BOOST_TEST(*c->hooks.subnet_up == "ip route add \"$SUBNET\" dev \"$TUNDEV\"");
    BOOST_TEST(*c->hooks.subnet_down == "ip route del \"$SUBNET\" dev \"$TUNDEV\"");
    BOOST_TEST(*c->hooks.my_subnet_up == "/usr/local/sbin/announce up");
    BOOST_TEST(*c->hooks.my_subnet_down == "/usr/local/sbin/announce down");
    BOOST_TEST(c->control_socket == fs::path("/run/weft-db.sock"));
    BOOST_TEST(c->log_target == "/var/log/weft.log");
    BOOST_TEST((c->log_level == weft::io::log_level::debug));
    BOOST_TEST(c->keepalive.count() == 25);
    BOOST_TEST(c->rekey_after.count() == 1800);
    BOOST_TEST(c->rekey_messages == 1048576u);
    BOOST_TEST(c->rekey_grace.count() == 20);
    BOOST_TEST(c->max_connections == 128u);
    BOOST_TEST(c->handshake_timeout.count() == 5);
    BOOST_TEST(c->queue_packets == 32u);
    BOOST_TEST(!c->offload);
    BOOST_TEST(c->hook_timeout.count() == 12);
    BOOST_TEST(c->list_ask_interval.count() == 0);
    // Peer overrides are merged over the global lists.
    BOOST_TEST(c->peer_prefs.size() == 2u);
    BOOST_TEST((c->peer_prefs.at("beta") == prefs("aes-128-gcm:10", "lz4:4:6 none:0:5")));
    BOOST_TEST((c->peer_prefs.at("gw.example") == prefs("aes-256-gcm:1", "zlib:6:9 none:0:1")));
}

BOOST_AUTO_TEST_CASE(defaults) {
    config_dir d;
    auto c = d.load(minimal);
    BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error()));
    const fs::path dir = d.dir;
    BOOST_TEST(c->name == "alpha");
    BOOST_TEST(c->interface == "weft0");
    BOOST_TEST(!c->port.has_value());
    BOOST_TEST(!c->listen.has_value());
    BOOST_TEST(c->cert == dir / "alpha.crt");
    BOOST_TEST(c->key == dir / "alpha.key");
    BOOST_TEST(c->ca == dir / "ca.crt");
    BOOST_TEST(!c->require_ou.has_value());
    BOOST_TEST(c->bnl == dir / "bnl.signed");
    BOOST_TEST((c->bnl_keys == std::vector<fs::path>{dir / "admin.pub"}));
    BOOST_TEST(c->state_dir == dir / "state");
    BOOST_TEST((c->prefs == weft::default_prefs()));
    BOOST_TEST((c->prefs == prefs(weft::default_cipher_prefs, weft::default_compression_prefs)));
    BOOST_TEST(c->peer_prefs.empty());
    BOOST_TEST(c->pull_interval.count() == 90);
    BOOST_TEST(c->mtu == 1420);
    BOOST_TEST((c->hooks == weft::hook_commands{}));
    BOOST_TEST(c->control_socket == fs::path("/run/weft/weft0.sock"));
    BOOST_TEST(c->log_target == "syslog");
    BOOST_TEST((c->log_level == weft::io::log_level::info));
    BOOST_TEST(c->keepalive.count() == 0);
    BOOST_TEST(c->rekey_after.count() == 3600);
    BOOST_TEST(c->rekey_messages == std::uint64_t{1} << 30);
    BOOST_TEST(c->rekey_grace.count() == 30);
    BOOST_TEST(c->max_connections == 64u);
    BOOST_TEST(c->handshake_timeout.count() == 10);
    BOOST_TEST(c->queue_packets == 64u);
    BOOST_TEST(c->offload);
    BOOST_TEST(c->hook_timeout.count() == 30);
    BOOST_TEST(c->list_ask_interval.count() == 10);
}

BOOST_AUTO_TEST_CASE(control_socket_default_follows_the_interface) {
    config_dir d;
    auto c = d.load(std::string(minimal) + "interface = mesh7\n");
    BOOST_REQUIRE(c.has_value());
    BOOST_TEST(c->control_socket == fs::path("/run/weft/mesh7.sock"));
}

BOOST_AUTO_TEST_CASE(relative_paths_are_relative_to_the_directory) {
    config_dir d;
    auto c = d.load(std::string(minimal) +
                    "state-dir = ./var/../state2/\n"
                    "bnl = /etc/weft/../weft2/bnl.signed\n"
                    "control-socket = ctl.sock\n"
                    "log = logs/weft.log\n");
    BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error()));
    BOOST_TEST(c->state_dir == d.dir / "state2/");
    BOOST_TEST(c->bnl == fs::path("/etc/weft2/bnl.signed"));
    BOOST_TEST(c->control_socket == d.dir / "ctl.sock");
    BOOST_TEST(c->log_target == (d.dir / "logs/weft.log").string());
    // syslog and stderr are sinks, not files; ./stderr is a file.
    BOOST_TEST(d.load(std::string(minimal) + "log = stderr\n")->log_target == "stderr");
    BOOST_TEST(d.load(std::string(minimal) + "log = ./stderr\n")->log_target ==
               (d.dir / "stderr").string());

    // The directory itself may be relative (to the working directory); the
    // configuration holds it absolute.
    const fs::path rel = fs::proximate(d.dir);
    BOOST_REQUIRE(rel.is_relative());
    auto r = weft::load_config(rel);
    BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error()));
    BOOST_TEST(r->dir == d.dir);
    BOOST_TEST(r->cert == d.dir / "alpha.crt");
    auto slash = weft::load_config(d.dir.string() + "/");
    BOOST_REQUIRE(slash.has_value());
    BOOST_TEST(slash->dir == d.dir);
    BOOST_TEST(slash->file == d.dir / "weft.conf");
}

BOOST_AUTO_TEST_CASE(bad_values_name_the_key_and_what_was_expected) {
    config_dir d;
    const std::string long_ou(65, 'o');
    const std::string long_socket = "/run/" + std::string(103, 's');  // 108 bytes
    const std::vector<std::pair<std::string, std::string>> cases{
        {"mtu = 70000", "mtu: expected 576..9000, got 70000"},
        {"mtu = 575", "mtu: expected 576..9000, got 575"},
        {"mtu = abc", "mtu: expected 576..9000, got 'abc'"},
        {"mtu = -1", "mtu: expected 576..9000, got '-1'"},
        {"mtu = 0x500", "mtu: expected 576..9000, got '0x500'"},
        {"mtu = 99999999999999999999999", "mtu: expected 576..9000, got '99999999999999999999999'"},
        {"port = 0", "port: expected 1..65535, got 0"},
        {"port = 65536", "port: expected 1..65535, got 65536"},
        {"pull-interval = 4", "pull-interval: expected 5..86400 seconds, got 4"},
        {"pull-interval = 86401", "pull-interval: expected 5..86400 seconds, got 86401"},
        {"interface = this-is-too-long",
         "interface: expected an interface name (1..15 of A-Z a-z 0-9 _ . -), got "
         "'this-is-too-long'"},
        {"interface = a/b",
         "interface: expected an interface name (1..15 of A-Z a-z 0-9 _ . -), got 'a/b'"},
        {"interface = ..",
         "interface: expected an interface name (1..15 of A-Z a-z 0-9 _ . -), got '..'"},
        {"listen = 198.18.0", "listen: expected an IPv4 or IPv6 address, got '198.18.0'"},
        {"listen = [::1]", "listen: expected an IPv4 or IPv6 address, got '[::1]'"},
        {"require-ou = " + long_ou,
         "require-ou: expected 1..64 printable characters (an X.509 OU), got '" + long_ou + "'"},
        {"ciphers = aes-512-gcm:3", "ciphers: unknown cipher 'aes-512-gcm' in 'aes-512-gcm:3'"},
        {"ciphers = aes-256-gcm:10 aes-256-gcm:3",
         "ciphers: duplicate cipher 'aes-256-gcm' in 'aes-256-gcm:3'"},
        {"compression = lz4:13:1",
         "compression: level '13' out of range 1..12 for lz4 in 'lz4:13:1'"},
        {"compression = none:0", "compression: expected name:level:preference in 'none:0'"},
        {"control-socket = " + long_socket,
         "control-socket: expected a path shorter than 108 bytes (a socket address), got '" +
             long_socket + "'"},
        {"log-level = verbose",
         "log-level: expected debug, info, notice, warning or error, got 'verbose'"},
        {"keepalive = 3601", "keepalive: expected 0..3600 seconds, got 3601"},
        {"rekey-after = 9", "rekey-after: expected 10..86400 seconds, got 9"},
        {"rekey-messages = 1023", "rekey-messages: expected 1024..2147483648, got 1023"},
        {"rekey-messages = 2147483649",
         "rekey-messages: expected 1024..2147483648, got 2147483649"},
        {"rekey-grace = 0", "rekey-grace: expected 1..600 seconds, got 0"},
        {"rekey-after = 20\nrekey-grace = 20",
         "rekey-grace: expected less than rekey-after (20 seconds), got 20"},
        {"max-connections = 0", "max-connections: expected 1..4096, got 0"},
        {"handshake-timeout = 301", "handshake-timeout: expected 1..300 seconds, got 301"},
        {"queue-packets = 4097", "queue-packets: expected 0..4096, got 4097"},
        {"hook-timeout = 0", "hook-timeout: expected 1..3600 seconds, got 0"},
        {"list-ask-interval = 3601", "list-ask-interval: expected 0..3600 seconds, got 3601"},
        {"offload = on", "offload: expected auto or off, got 'on'"},
        {"up =", "up: expected a value, got an empty one (leave the key out instead)"},
        {"mtu =   # nothing",
         "mtu: expected a value, got an empty one (leave the key out instead)"},
    };
    for (const auto& [line, message] : cases) {
        auto c = d.load(std::string(minimal) + line + "\n");
        BOOST_TEST_CONTEXT(line) {
            BOOST_REQUIRE(!c.has_value());
            BOOST_TEST(c.error() == d.error(message));
        }
    }
    // name is in `minimal`; a bad one replaces it.
    auto c = d.load("name = Alpha\ncert = c\nkey = k\nca = a\nbnl-key = b\n");
    BOOST_REQUIRE(!c.has_value());
    BOOST_TEST(c.error() ==
               d.error("name: expected a node name ([a-z0-9][a-z0-9.-]{0,62}), got 'Alpha'"));
    c = d.load("name = " + std::string(64, 'a') + "\ncert = c\nkey = k\nca = a\nbnl-key = b\n");
    BOOST_REQUIRE(!c.has_value());
    BOOST_TEST(c.error().find("name: expected a node name") != std::string::npos);
    // Values at the edges of their ranges are fine.
    auto edges = d.load(std::string(minimal) +
                        "mtu = 576\nport = 65535\npull-interval = 86400\nkeepalive = 0\n"
                        "queue-packets = 0\nrekey-messages = 2147483648\nrekey-after = 10\n"
                        "rekey-grace = 9\ninterface = abcdefghijklmno\n");
    BOOST_REQUIRE_MESSAGE(edges.has_value(), (edges ? "" : edges.error()));
    BOOST_TEST(edges->mtu == 576);
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_once_per_line) {
    config_dir d;
    auto c = d.load(std::string(minimal) + "mtu = 1\nport = 0\nbogus = 1\n");
    BOOST_REQUIRE(!c.has_value());
    BOOST_TEST(c.error() == d.error("unknown key 'bogus'") + "\n" +
                                d.error("port: expected 1..65535, got 0") + "\n" +
                                d.error("mtu: expected 576..9000, got 1"));
}

BOOST_AUTO_TEST_CASE(unknown_keys) {
    config_dir d;
    for (const char* key : {"mtuu", "Name", "bnl_key", "peer", "weft.name"}) {
        auto c = d.load(std::string(minimal) + key + " = 1\n");
        BOOST_TEST_CONTEXT(key) {
            BOOST_REQUIRE(!c.has_value());
            BOOST_TEST(c.error() == d.error("unknown key '" + std::string(key) + "'"));
        }
    }
}

BOOST_AUTO_TEST_CASE(keys_given_twice) {
    config_dir d;
    auto c = d.load(std::string(minimal) + "mtu = 1400\nmtu = 1400\n");
    BOOST_REQUIRE(!c.has_value());
    BOOST_TEST(c.error() == d.error("mtu: given twice (only bnl-key may repeat)"));
    c = d.load(std::string(minimal) + "name = beta\n");
    BOOST_REQUIRE(!c.has_value());
    BOOST_TEST(c.error() == d.error("name: given twice (only bnl-key may repeat)"));
    c = d.load(std::string(minimal) + "up = a\nup = b\n");
    BOOST_REQUIRE(!c.has_value());
    BOOST_TEST(c.error() == d.error("up: given twice (only bnl-key may repeat)"));
    // bnl-key repeats, but the same key twice is a slip.
    c = d.load(std::string(minimal) + "bnl-key = ./admin.pub\n");
    BOOST_REQUIRE(!c.has_value());
    BOOST_TEST(c.error() ==
               d.error("bnl-key: '" + (d.dir / "admin.pub").string() + "' listed twice"));
}

BOOST_AUTO_TEST_CASE(missing_required_keys) {
    config_dir d;
    const std::vector<std::pair<std::string, std::string>> required{
        {"name", "name: required, not set"},
        {"cert", "cert: required, not set"},
        {"key", "key: required, not set"},
        {"ca", "ca: required, not set"},
        {"bnl-key",
         "bnl-key: required, not set (a trusted public key of the node list; may repeat)"},
    };
    for (const auto& [key, message] : required) {
        std::string text;
        std::istringstream in(minimal);
        for (std::string line; std::getline(in, line);)
            if (line.rfind(key + " =", 0) != 0) text += line + "\n";
        auto c = d.load(text);
        BOOST_TEST_CONTEXT(key) {
            BOOST_REQUIRE(!c.has_value());
            BOOST_TEST(c.error() == d.error(message));
        }
    }
    auto empty = d.load("# nothing\n");
    BOOST_REQUIRE(!empty.has_value());
    BOOST_TEST(empty.error() ==
               d.error("name: required, not set") + "\n" + d.error("cert: required, not set") +
                   "\n" + d.error("key: required, not set") + "\n" +
                   d.error("ca: required, not set") + "\n" +
                   d.error("bnl-key: required, not set (a trusted public key of the node "
                           "list; may repeat)"));
}

BOOST_AUTO_TEST_CASE(peer_sections) {
    config_dir d;
    auto c = d.load(std::string(minimal) +
                    "ciphers = aes-256-gcm:10 chacha20-poly1305:8\n"
                    "peer.gamma.compression = lz4:2:9\n"  // the flat form is the same key
                    "[peer.beta]\n"
                    "ciphers = chacha20-poly1305:10\n"
                    "[peer.0]\n"
                    "compression = zlib:9:9\n");
    BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error()));
    BOOST_TEST(c->peer_prefs.size() == 3u);
    BOOST_TEST((c->peer_prefs.at("beta") ==
                prefs("chacha20-poly1305:10", weft::default_compression_prefs)));
    BOOST_TEST(
        (c->peer_prefs.at("gamma") == prefs("aes-256-gcm:10 chacha20-poly1305:8", "lz4:2:9")));
    BOOST_TEST((c->peer_prefs.at("0") == prefs("aes-256-gcm:10 chacha20-poly1305:8", "zlib:9:9")));
}

BOOST_AUTO_TEST_CASE(bad_peer_sections) {
    config_dir d;
    const std::string hint =
        " (a [peer.NAME] section takes only ciphers and compression; global keys go before the "
        "first section)";
    const std::vector<std::pair<std::string, std::string>> cases{
        {"[peer.Beta]\nciphers = aes-256-gcm:1",
         "unknown key 'peer.Beta.ciphers': 'Beta' is not a node name ([a-z0-9][a-z0-9.-]{0,62})"},
        {"[peer.-x]\nciphers = aes-256-gcm:1",
         "unknown key 'peer.-x.ciphers': '-x' is not a node name ([a-z0-9][a-z0-9.-]{0,62})"},
        // program_options does not double the dot of "[peer.]".
        {"[peer.]\nciphers = aes-256-gcm:1", "unknown key 'peer.ciphers'" + hint},
        {"peer..ciphers = aes-256-gcm:1",
         "unknown key 'peer..ciphers': '' is not a node name ([a-z0-9][a-z0-9.-]{0,62})"},
        {"[peer]\nciphers = aes-256-gcm:1", "unknown key 'peer.ciphers'" + hint},
        {"[peer.beta]\nmtu = 1400", "unknown key 'peer.beta.mtu'" + hint},
        {"[peer.beta]\nciphers = aes-256-gcm:1\nname = beta",
         "unknown key 'peer.beta.name'" + hint},
        {"[peers.beta]\nciphers = aes-256-gcm:1", "unknown key 'peers.beta.ciphers'"},
        {"[peer beta]\nciphers = aes-256-gcm:1", "unknown key 'peer beta.ciphers'"},
        {"[peer.beta]\nciphers = aes-256-gcm:1\nciphers = aes-128-gcm:1",
         "peer.beta.ciphers: given twice (only bnl-key may repeat)"},
        {"peer.beta.ciphers = aes-256-gcm:1\n[peer.beta]\nciphers = aes-128-gcm:1",
         "peer.beta.ciphers: given twice (only bnl-key may repeat)"},
        {"[peer.beta]\nciphers = rot13:1",
         "peer.beta.ciphers: unknown cipher 'rot13' in 'rot13:1'"},
        {"[peer.beta]\ncompression = zlib:10:1",
         "peer.beta.compression: level '10' out of range 1..9 for zlib in 'zlib:10:1'"},
        {"[peer.beta]\ncompression =",
         "peer.beta.compression: expected a value, got an empty one (leave the key out instead)"},
        // Read as an override for a node "beta.peer.gamma" without the check.
        {"[peer.beta]\n  peer.gamma.ciphers\t= aes-256-gcm:1  # for gamma",
         "line 7: key 'peer.gamma.ciphers' inside [peer.beta]: a [peer.NAME] section takes only ciphers and "
         "compression (give another peer its own section)"},
    };
    for (const auto& [text, message] : cases) {
        auto c = d.load(std::string(minimal) + text + "\n");
        BOOST_TEST_CONTEXT(text) {
            BOOST_REQUIRE(!c.has_value());
            BOOST_TEST(c.error() == d.error(message));
        }
    }
}

BOOST_AUTO_TEST_CASE(syntax_errors_and_unreadable_files) {
    config_dir d;
    auto c = d.load(std::string("# weft\n") + minimal + "  mtu   # no value\n");
    BOOST_REQUIRE(!c.has_value());
    BOOST_TEST(c.error() == (d.dir / "weft.conf").string() +
                                ":7: invalid line 'mtu' (expected key = value, [peer.NAME] or a # "
                                "comment)");
    c = d.load(std::string(minimal) + "[peer.beta\n");
    BOOST_REQUIRE(!c.has_value());
    BOOST_TEST(c.error().find(":6: invalid line '[peer.beta'") != std::string::npos);

    fs::remove(d.dir / "weft.conf");
    auto missing = weft::load_config(d.dir);
    BOOST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error() ==
               "cannot read " + (d.dir / "weft.conf").string() + ": No such file or directory");
    fs::create_directory(d.dir / "weft.conf");
    auto not_a_file = weft::load_config(d.dir);
    BOOST_REQUIRE(!not_a_file.has_value());
    BOOST_TEST(not_a_file.error().rfind("cannot read " + (d.dir / "weft.conf").string(), 0) == 0);
}

BOOST_AUTO_TEST_CASE(comments_blanks_carriage_returns_and_a_bom) {
    config_dir d;
    auto c = d.load(
        "\xEF\xBB\xBF# written on another system\r\n"
        "\r\n"
        "name = alpha   # this node\r\n"
        "  cert=alpha.crt\r\n"
        "key =alpha.key\r\n"
        "ca= ca.crt\r\n"
        "bnl-key = admin.pub\r\n"
        "up = ip link set \"$TUNDEV\" up\r\n");
    BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error()));
    BOOST_TEST(c->name == "alpha");
    BOOST_TEST(c->cert == d.dir / "alpha.crt");
    BOOST_TEST(*c->hooks.up == "ip link set \"$TUNDEV\" up");
}

BOOST_AUTO_TEST_CASE(describe_prints_every_key_and_loads_back_the_same) {
    config_dir d;
    auto c = d.load(std::string(minimal) +
                    "port = 3406\nmtu = 1400\nup = ./up.sh\nrequire-ou = mesh\n"
                    "listen = 198.18.0.1\ncompression = lz4:1:9 none:0:1\n"
                    "[peer.beta]\nciphers = aes-128-gcm:3\n");
    BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error()));
    const std::string text = weft::describe(*c);
    BOOST_TEST(text.find("name = alpha\n") == 0u);
    for (const std::string& line : std::vector<std::string>{
             "interface = weft0\n", "port = 3406\n", "listen = 198.18.0.1\n", "mtu = 1400\n",
             "up = ./up.sh\n", "# down = (none)\n", "require-ou = mesh\n",
             "cert = " + (d.dir / "alpha.crt").string() + "\n",
             "ciphers = aes-256-gcm:10 chacha20-poly1305:8 aes-128-gcm:5\n",
             "compression = lz4:1:9 none:0:1\n", "control-socket = /run/weft/weft0.sock\n",
             "log = syslog\n", "log-level = info\n", "hook-timeout = 30\n", "offload = auto\n",
             "list-ask-interval = 10\n",
             "rekey-messages = 1073741824\n", "peer.beta.ciphers = aes-128-gcm:3\n",
             "peer.beta.compression = lz4:1:9 none:0:1\n"})
        BOOST_TEST(text.find(line) != std::string::npos, line);

    // Loaded from elsewhere, the description is the same configuration.
    config_dir other;
    auto again = other.load(text);
    BOOST_REQUIRE_MESSAGE(again.has_value(), (again ? "" : again.error()));
    weft::weft_config moved = *again;
    moved.dir = c->dir;
    moved.file = c->file;
    BOOST_TEST((moved == *c));
    BOOST_TEST(weft::describe(*again) == text);

    auto m = d.load(minimal);
    BOOST_REQUIRE(m.has_value());
    const std::string unset = weft::describe(*m);
    BOOST_TEST(unset.find("# port = (the node list's entry)\n") != std::string::npos);
    BOOST_TEST(unset.find("# listen = (any address, dual-stack)\n") != std::string::npos);
    BOOST_TEST(unset.find("# require-ou = (none)\n") != std::string::npos);
    BOOST_TEST(unset.find("# my-subnet-down = (none)\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(log_level_override) {
    config_dir d;
    auto c = d.load(std::string(minimal) + "log-level = warning\n");
    BOOST_REQUIRE(c.has_value());
    const weft::weft_config& base = *c;
    const weft::weft_config debug = weft::with_log_level(base, weft::io::log_level::debug);
    BOOST_TEST((debug.log_level == weft::io::log_level::debug));
    BOOST_TEST((base.log_level == weft::io::log_level::warning));
}

BOOST_AUTO_TEST_CASE(interface_names) {
    using weft::is_valid_interface_name;
    BOOST_TEST(is_valid_interface_name("weft0"));
    BOOST_TEST(is_valid_interface_name("A_b.c-9"));
    BOOST_TEST(is_valid_interface_name("abcdefghijklmno"));
    BOOST_TEST(!is_valid_interface_name("abcdefghijklmnop"));
    BOOST_TEST(!is_valid_interface_name(""));
    BOOST_TEST(!is_valid_interface_name("."));
    BOOST_TEST(!is_valid_interface_name(".."));
    BOOST_TEST(!is_valid_interface_name("a b"));
    BOOST_TEST(!is_valid_interface_name("a:1"));
    BOOST_TEST(!is_valid_interface_name("a/b"));
}

BOOST_AUTO_TEST_SUITE_END()
