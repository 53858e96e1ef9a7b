// weft.conf: the daemon's configuration, read once at startup (and again on
// SIGHUP for the hooks) into a typed, validated value.  main() keeps it const
// and hands each component the fields it needs; nothing else reads the file.
//
// Syntax (Boost.Program_options' config-file parser): `key = value` lines;
// `#` starts a comment anywhere on a line, so no value can contain '#'.
// Global keys come first; per-peer overrides follow in sections
//
//     [peer.NAME]
//     ciphers = chacha20-poly1305:10
//     compression = none:0:5 lz4:1:4
//
// which the parser reports as `peer.NAME.ciphers` (that form may also be
// written as a global key).  A key after a section header belongs to the
// section, so a global key there is refused as unknown.  Only bnl-key may
// repeat.  Relative paths are relative to the file's directory.  Empty
// values are refused: leave the key out instead.
//
//   key                range / form                              default
//   name               [a-z0-9][a-z0-9.-]{0,62}                  required
//   interface          1..15 of [A-Za-z0-9_.-]                   weft0
//   port               1..65535                                  the BNL entry's port
//   listen             an IPv4 or IPv6 address to bind           any, dual-stack
//   cert, key, ca      paths                                     required
//   require-ou         1..64 characters                          none
//   bnl                path                                      bnl.signed
//   bnl-key            path of a PEM public key; repeats         required (one or more)
//   state-dir          path                                      state
//   ciphers            name:preference ...                       core/algorithm_choice.hpp
//   compression        name:level:preference ...                 core/algorithm_choice.hpp
//   pull-interval      5..86400 seconds                          90
//   mtu                576..9000                                 1420
//   up, down, subnet-up, subnet-down, my-subnet-up, my-subnet-down
//                      a command for /bin/sh -c (run in DIR, so a
//                      script there is `./up.sh`)                none
//   control-socket     path, < 108 bytes (sun_path)              /run/weft/<interface>.sock
//   log                syslog | stderr | path                    syslog
//   log-level          debug | info | notice | warning | error   info
// Added to design.md's table:
//   keepalive          0..3600 seconds between keepalive frames
//                      on an idle pair; 0 = off                  0
//   rekey-after        10..86400 seconds: a key's lifetime       3600
//   rekey-messages     1024..2^31 frames: a key's lifetime       2^30
//   rekey-grace        1..600 seconds, < rekey-after: frames of
//                      the previous epoch still accepted         30
//   max-connections    1..4096 concurrent TLS connections        64
//   handshake-timeout  1..300 seconds for TCP + TLS + greeting   10
//   queue-packets      0..4096 packets held per peer while it
//                      negotiates (0: drop them)                 64
//   hook-timeout       1..3600 seconds, then SIGTERM and 2 s
//                      later SIGKILL; at stop, for all stop
//                      hooks together                            30
//   list-ask-interval  0..3600 seconds: a peer that announces a
//                      newer node list is asked for it at most
//                      this often, dialled or not              10
//   offload            auto | off: TUN TSO/checksum offloads and
//                      UDP GSO/GRO when the kernel has them      auto
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "core/algorithm_choice.hpp"
#include "io/log.hpp"
#include "wire/ip.hpp"

namespace weft {

// The hook commands (design.md, "The daemon as a program").  Each is given
// to `/bin/sh -c` as written; unset means the event runs no hook.
struct hook_commands {
    std::optional<std::string> up;              // after the TUN device is up
    std::optional<std::string> down;            // at shutdown, last, before the TUN device goes
    std::optional<std::string> subnet_up;       // a peer's subnet became reachable
    std::optional<std::string> subnet_down;     // a peer's subnet went away
    std::optional<std::string> my_subnet_up;    // one of this node's own subnets, at start or added by a list
    std::optional<std::string> my_subnet_down;  // ... at stop (before down) or dropped by a list

    friend bool operator==(const hook_commands&, const hook_commands&) = default;
};

struct weft_config {
    // Where it came from: `dir` is absolute and lexically normal, `file` is
    // dir / "weft.conf".  Hooks run with `dir` as their working directory.
    std::filesystem::path dir;
    std::filesystem::path file;

    std::string name;                   // name: this node (certificate CN, BNL entry)
    std::string interface = "weft0";    // interface: TUN device name
    std::optional<std::uint16_t> port;  // port: unset = the BNL entry's port
    std::optional<ip_address> listen;   // listen: unset = any address, dual-stack
    std::filesystem::path cert;         // cert, key, ca: absolute paths
    std::filesystem::path key;
    std::filesystem::path ca;
    std::optional<std::string> require_ou;        // require-ou
    std::filesystem::path bnl;                    // bnl: default DIR/bnl.signed
    std::vector<std::filesystem::path> bnl_keys;  // bnl-key: at least one, in file order
    std::filesystem::path state_dir;              // state-dir: default DIR/state
    algorithm_prefs prefs = default_prefs();      // ciphers, compression
    // peer.NAME.ciphers / peer.NAME.compression, merged over `prefs` (a peer
    // that overrides only one list gets the global other list).
    std::map<std::string, algorithm_prefs> peer_prefs;
    std::chrono::seconds pull_interval{90};  // pull-interval
    std::uint16_t mtu = 1420;                // mtu
    hook_commands hooks;
    std::filesystem::path control_socket;  // control-socket: default /run/weft/<interface>.sock
    // log: "syslog", "stderr", or an absolute file path (what io::logger takes).
    std::string log_target = "syslog";
    io::log_level log_level = io::log_level::info;  // log-level

    // Keys this implementation adds to design.md's table.
    std::chrono::seconds keepalive{0};                      // keepalive: 0 = off
    std::chrono::seconds rekey_after{3600};                 // rekey-after: key lifetime in time
    std::uint64_t rekey_messages = std::uint64_t{1} << 30;  // rekey-messages: ... in frames
    std::chrono::seconds rekey_grace{30};        // rekey-grace: old epoch accepted this long
    std::size_t max_connections = 64;            // max-connections: concurrent TLS connections
    std::chrono::seconds handshake_timeout{10};  // handshake-timeout
    std::size_t queue_packets = 64;              // queue-packets: per peer, while negotiating
    std::chrono::seconds hook_timeout{30};       // hook-timeout: then SIGTERM, SIGKILL
    bool offload = true;                         // offload: auto (true) or off
    std::chrono::seconds list_ask_interval{10};  // list-ask-interval: per peer

    friend bool operator==(const weft_config&, const weft_config&) = default;
};

// Reads and validates DIR/weft.conf.  `dir` may be relative (to the current
// directory); the result holds it made absolute.
// Errors: one line per problem found (all of them, not just the first), each
// "PATH: KEY: what was expected, got what", e.g.
//   "/etc/weft/weft.conf: mtu: expected 576..9000, got 70000"
//   "/etc/weft/weft.conf: unknown key 'mtuu'"
//   "/etc/weft/weft.conf: name: required, not set"
//   "/etc/weft/weft.conf: port: given twice (only bnl-key may repeat)"
// or "cannot read PATH: REASON" / "PATH: SYNTAX ERROR" when it does not parse.
// The control socket weftd uses for `interface` unless control-socket is set
// (weftctl's default too): /run/weft/<interface>.sock.
std::filesystem::path default_control_socket(const std::string& interface);

result<weft_config, std::string> load_config(const std::filesystem::path& dir);

// Every key with its effective value, one `key = value` per line in the
// order of design.md's table then the added keys then the peer overrides
// (as `peer.NAME.ciphers = ...`).  Keys that are unset print as comments,
// e.g. "# port = (the node list's entry)".  Written back as weft.conf it
// loads to the same configuration (all paths in it are absolute).
std::string describe(const weft_config& config);

// The command line's -d LEVEL overrides the file's log-level.
weft_config with_log_level(weft_config config, io::log_level level);

// Linux network interface names: 1..15 of [A-Za-z0-9_.-], not "." or "..".
bool is_valid_interface_name(std::string_view name) noexcept;

}  // namespace weft
