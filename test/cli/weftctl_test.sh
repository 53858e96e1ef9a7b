#!/usr/bin/env bash
# weftctl as an administrator meets it when things go wrong: no daemon, a
# stale socket, a daemon that hangs or answers garbage, a non-root user, and
# usage errors.  Each check asserts the one-line message and the exit code
# (0 done, 1 refused by weftd, 2 usage, 3 cannot reach weftd, 4 timeout,
# 5 malformed answer).  Stand-in daemons are small python3 listeners; the real
# control_server is exercised by test/unit/io/control_server_test.cpp.
set -uo pipefail
SRC=${WEFT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${WEFT_BUILD_DIR:-$SRC/build}
source "$SRC/test/lib/assert.sh"

[[ -x $BUILD/src/app/weftctl ]] || { echo "weftctl not built in $BUILD"; exit 1; }
command -v python3 >/dev/null || { echo "python3 needed"; exit 77; }
# A copy anyone may run (the build tree may sit under a 0700 directory).
chmod 0755 "$T_TMP"
W=$T_TMP/weftctl
cp "$BUILD/src/app/weftctl" "$W" && chmod 0755 "$W"

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$T_TMP"
}
trap cleanup EXIT

# fake_daemon MODE SOCKET: a listener that handles every connection per MODE
# (silent, garbage, close, refuse, status, ok:JSON) and logs each request line
# to SOCKET.req.  Returns once it listens.
fake_daemon() {
  local mode=$1 sock=$2
  python3 - "$mode" "$sock" <<'EOF' &
import os, socket, sys, time
mode, path = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
os.umask(0o177)
s.bind(path)
s.listen(16)
open(path + ".ready", "w").close()
held = []
while True:
    c, _ = s.accept()
    if mode == "silent":        # accept, never answer
        held.append(c)
        continue
    line = b""
    while not line.endswith(b"\n") and len(line) < 8192:
        chunk = c.recv(4096)
        if not chunk:
            break
        line += chunk
    with open(path + ".req", "ab") as f:
        f.write(line)
    if mode == "garbage":
        c.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello\n")
    elif mode == "refuse":
        c.sendall(b'{"ok":false,"error":"no peer named delta"}\n')
    elif mode == "status":
        c.sendall(open(os.environ["STATUS_JSON"], "rb").read())
    elif mode.startswith("ok:"):
        c.sendall(b'{"ok":true,"result":' + mode[3:].encode() + b'}\n')
    c.close()
EOF
  PIDS+=($!)
  local i
  for ((i = 0; i < 100; i++)); do [[ -e $sock.ready ]] && return 0; sleep 0.05; done
  echo "fake daemon did not start"; return 1
}

# --- usage (exit 2)
t_run "--help" 0 "$W" --help
t_contains "  shows the usage" "$T_OUT" "usage: weftctl [-s SOCKET | -c CONFDIR] [-t SECONDS] COMMAND"
t_contains "  documents the exit codes" "$T_OUT" "3 cannot reach weftd, 4 no answer in time, 5 malformed answer"
t_run "--version" 0 "$W" --version
t_contains "  prints it" "$T_OUT" "weftctl (weft) "
usage() {  # DESC NEEDLE ARGS...
  local desc=$1 needle=$2; shift 2
  t_run "$desc" 2 "$W" "$@"
  t_eq "  one line: $needle" "$T_ERR" "weftctl: $needle (see weftctl --help)"
}
usage "no command" "no command given"
usage "unknown command" "unknown command 'frob'" frob
usage "renegotiate without a name" "renegotiate needs a peer name" renegotiate
usage "renegotiate with a bad name" "invalid node name 'Node_B'" renegotiate Node_B
usage "extra argument" "unexpected argument 'now' after push" push now
usage "unknown option" "unknown option '--frob'" status --frob
usage "-s and -c together" "-s and -c exclude each other" -s /x -c /y status
usage "-t not a number" "-t: expected seconds between 0.001 and 3600, got 'soon'" -t soon status
usage "-t zero" "-t: expected seconds between 0.001 and 3600, got '0'" -t 0 status
usage "-s without a value" "-s needs a value" -s
usage "socket path too long" "socket path longer than 107 bytes" -s "/tmp/$(printf 'x%.0s' {1..120})" status

# --- cannot reach the daemon (exit 3)
t_run "no socket file" 3 "$W" -s "$T_TMP/none.sock" status
t_eq "  says so" "$T_ERR" "weftctl: no control socket at $T_TMP/none.sock: weftd is not running (or give -s SOCKET / -c DIR)"

python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)' "$T_TMP/stale.sock"
t_run "stale socket, nothing listening" 3 "$W" -s "$T_TMP/stale.sock" push
t_eq "  says weftd is not running" "$T_ERR" "weftctl: weftd is not running (nothing listens on $T_TMP/stale.sock)"

echo x >"$T_TMP/plain"
t_run "a regular file" 3 "$W" -s "$T_TMP/plain" status
t_eq "  says so" "$T_ERR" "weftctl: $T_TMP/plain is not a socket"

# -c DIR: the socket path comes from weft.conf.
mkdir "$T_TMP/conf"
cat >"$T_TMP/conf/weft.conf" <<EOF
name = alpha
cert = alpha.crt
key = alpha.key
ca = ca.crt
bnl-key = admin.pub
control-socket = $T_TMP/from-conf.sock
EOF
t_run "-c DIR uses control-socket" 3 "$W" -c "$T_TMP/conf" status
t_eq "  names that socket" "$T_ERR" "weftctl: no control socket at $T_TMP/from-conf.sock: weftd is not running (or give -s SOCKET / -c DIR)"
t_run "-c with an unreadable configuration" 3 "$W" -c "$T_TMP/nope" status
t_contains "  one line about the configuration" "$T_ERR" "weftctl: cannot read the configuration: "
t_eq "  ...only one line" "$(wc -l <<<"$T_ERR")" 1

# A non-root user against a root-owned 0600 socket.
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
  fake_daemon refuse "$T_TMP/root.sock"
  t_eq "socket is 0600 root" "$(stat -c '%a %U' "$T_TMP/root.sock")" "600 root"
  t_run "non-root user" 3 setpriv --reuid=65534 --regid=65534 --clear-groups "$W" -s "$T_TMP/root.sock" status
  t_eq "  permission denied, run as root" "$T_ERR" "weftctl: permission denied: the control socket $T_TMP/root.sock is root's; run as root"
  t_eq "  the daemon saw no request" "$(cat "$T_TMP/root.sock.req" 2>/dev/null)" ""
else
  echo "skip  non-root user check (needs root and setpriv)"
fi

# --- a daemon that does not answer (exit 4)
fake_daemon silent "$T_TMP/silent.sock"
start=$(date +%s%N)
t_run "no answer within -t 1" 4 "$W" -s "$T_TMP/silent.sock" -t 1 status
ms=$((($(date +%s%N) - start) / 1000000))
t_eq "  says so" "$T_ERR" "weftctl: weftd did not answer within 1 s ($T_TMP/silent.sock)"
if ((ms >= 900 && ms < 3000)); then t_ok "  gave up after ~1 s (${ms} ms)"; else t_bad "  gave up after ${ms} ms, wanted ~1000"; fi
start=$(date +%s%N)
t_run "fractional -t 0.3" 4 "$W" -s "$T_TMP/silent.sock" -t 0.3 bnl
ms=$((($(date +%s%N) - start) / 1000000))
if ((ms >= 250 && ms < 2000)); then t_ok "  gave up after ~0.3 s (${ms} ms)"; else t_bad "  gave up after ${ms} ms, wanted ~300"; fi

# --- malformed answers (exit 5)
fake_daemon garbage "$T_TMP/garbage.sock"
t_run "garbage answer" 5 "$W" -s "$T_TMP/garbage.sock" status
t_eq "  says so" "$T_ERR" "weftctl: malformed answer from weftd: answer is not valid JSON"
fake_daemon close "$T_TMP/close.sock"
t_run "closed without an answer" 5 "$W" -s "$T_TMP/close.sock" status
t_eq "  says so" "$T_ERR" "weftctl: weftd closed the connection without an answer"
fake_daemon 'ok:{"version":"five"}' "$T_TMP/shape.sock"
t_run "push answer of the wrong shape" 5 "$W" -s "$T_TMP/shape.sock" push
t_eq "  says so" "$T_ERR" "weftctl: unexpected answer from weftd: no number 'version'"

# --- the daemon refuses (exit 1)
fake_daemon refuse "$T_TMP/refuse.sock"
t_run "refused renegotiate" 1 "$W" -s "$T_TMP/refuse.sock" renegotiate delta
t_eq "  relays the daemon's reason" "$T_ERR" "weftctl: weftd: no peer named delta"
t_eq "  sent one request line" "$(cat "$T_TMP/refuse.sock.req")" '{"command":"renegotiate","peer":"delta"}'

# --- done, but stdout cannot take the answer (exit 6)
fake_daemon 'ok:{"version":1700000100,"peers":2}' "$T_TMP/full.sock"
t_run "push with stdout on /dev/full" 6 sh -c '"$1" -s "$2" push >/dev/full' sh "$W" "$T_TMP/full.sock"
t_eq "  says the command was done" "$T_ERR" "weftctl: the command was done, but its answer could not be written to stdout"

# --- answers (exit 0), output per command
fake_daemon 'ok:{"version":1700000100,"peers":2}' "$T_TMP/push.sock"
t_run "push" 0 "$W" -s "$T_TMP/push.sock" push
t_eq "  prints the outcome" "$T_OUT" "pushed node list version 1700000100 to 2 peers"
t_eq "  request" "$(cat "$T_TMP/push.sock.req")" '{"command":"push"}'
fake_daemon 'ok:{"version":1700000100,"peers":1,"pushed_before":true}' "$T_TMP/push2.sock"
t_run "push of a version pushed before" 0 "$W" -s "$T_TMP/push2.sock" push
t_eq "  says nothing new started" "$T_OUT" "node list version 1700000100 was pushed before; still pending for 1 peer"
fake_daemon 'ok:{"version":7,"applied":false,"message":"not newer than the current list"}' "$T_TMP/reload.sock"
t_run "reload" 0 "$W" -s "$T_TMP/reload.sock" reload
t_eq "  prints the outcome" "$T_OUT" "node list unchanged at version 7: not newer than the current list"
fake_daemon 'ok:{"peer":"beta","requested":true}' "$T_TMP/reneg.sock"
t_run "renegotiate" 0 "$W" -s "$T_TMP/reneg.sock" -t 2 renegotiate beta
t_eq "  prints the outcome" "$T_OUT" "renegotiation with beta requested"
fake_daemon 'ok:{"text":"network = prod\nversion = 7\n"}' "$T_TMP/bnl.sock"
t_run "bnl" 0 "$W" -s "$T_TMP/bnl.sock" bnl
t_eq "  prints the list" "$T_OUT" $'network = prod\nversion = 7'

cat >"$T_TMP/status.json" <<'EOF'
{"ok":true,"result":{"schema":1,"weftd":"0.1.0","node":{"name":"alpha","id":1,"network":"prod","interface":"weft0"},
"bnl":{"version":1700000100,"signed":1700000000,"signed_utc":"2023-11-14T22:13:20Z"},
"started":1700000000,"started_utc":"2023-11-14T22:13:20Z","now":1700000600,"now_utc":"2023-11-14T22:23:20Z","uptime":600,
"peers":[{"name":"beta","id":2,"endpoint":"198.18.0.2:3406","state":"up","announced_bnl_version":1699999999,"bnl_behind":true,
"cipher":"chacha20-poly1305","compression":null,"compression_level":null,"epoch":1,"last_handshake":1700000500,
"last_handshake_utc":"2023-11-14T22:21:40Z","last_rx":1700000599,"last_rx_utc":"2023-11-14T22:23:19Z",
"traffic":{"tx_packets":5,"tx_bytes":500,"rx_packets":6,"rx_bytes":600,"drops":{"replay":4,"auth_failed":0}}}],
"unattributed":{"tx_packets":0,"tx_bytes":0,"rx_packets":0,"rx_bytes":0,"drops":{"unknown_sender":0}}}}
EOF
STATUS_JSON=$T_TMP/status.json fake_daemon status "$T_TMP/status.sock"
t_run "status" 0 "$W" -s "$T_TMP/status.sock" status
t_contains "  node line" "$T_OUT" "node alpha (id 1), network prod, interface weft0, weftd 0.1.0"
t_contains "  the lagging peer is marked" "$T_OUT" "1699999999 (behind)"
t_contains "  its cipher" "$T_OUT" "chacha20-poly1305"
t_contains "  its drops" "$T_OUT" "beta: replay 4"
t_run "status --json" 0 "$W" -s "$T_TMP/status.sock" status --json
t_eq "  is the result, as JSON" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["peers"][0]["traffic"]["drops"]["replay"])' <<<"$T_OUT")" 4

t_finish
