#!/usr/bin/env bash
# Three real weftd processes in network namespaces: traffic over IPv4 and
# IPv6 overlays, a checksummed TCP transfer, restarts clean and unclean, and
# every kind of forged, replayed or reflected frame.
# WEFT_OFFLOAD=off runs it all on the fallback path (offload = off: one
# packet per TUN read and write, sendmmsg/recvmmsg); data_plane_nooffload_test.sh
# does that.  By default (auto) the offloads must be on where the kernel has them.
# WEFT_CIPHERS sets every node's cipher list, e.g. "chacha20-poly1305:10" (default: the built-in list,
# which picks AES-256-GCM); every pair must then run the first cipher it
# names (give one, or the highest preference first).
set -uo pipefail
OFFLOAD=${WEFT_OFFLOAD:-auto}
CIPHERS=${WEFT_CIPHERS:-}
M_EXTRA_CONF="offload = $OFFLOAD"
[[ -n $CIPHERS ]] && M_EXTRA_CONF+=$'\n'"ciphers = $CIPHERS"
SRC=${WEFT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRC/test/lib/assert.sh"
source "$SRC/test/integration/lib/mesh.sh"
mesh_require_root

unset OPENSSL_ia32cap  # each node below gets the setting it tests
mesh_setup 3
t_ok "3 namespaces, certificates from weft-ca, list signed by bnl-sign"
# n3 runs under an OPENSSL_ia32cap of its administrator's, which weftd keeps;
# n2 under an empty one, which OpenSSL reads as "no CPU features at all"
# (AES from tables): weftd keeps it too, but warns.
mesh_start 1; OPENSSL_ia32cap='' mesh_start 2; OPENSSL_ia32cap=':~0' mesh_start 3
for i in 1 2 3; do
  wait_for 15 mesh_ready "$i" && t_ok "n$i: TUN up and routes installed by hooks" || t_bad "n$i not ready" "$(tail -5 "$M_DIR/n$i.log")"
done
if [[ $OFFLOAD == off ]]; then
  t_contains "data path: offloads off as configured" "$(grep 'data path:' "$M_DIR/n1.log")" \
    "TUN offloads (TSO, checksum) off, UDP GSO off, UDP GRO off, TCP coalescing off (offload = off)"
else
  t_contains "data path: TUN TSO, UDP GSO and GRO on (kernel has them)" "$(grep 'data path:' "$M_DIR/n1.log")" \
    "TUN offloads (TSO, checksum) on, UDP GSO on, UDP GRO on, TCP coalescing on"
fi

# --- OpenSSL's CPU features (src/crypto/cpu_features.hpp): with AVX512-IFMA
# and OpenSSL 3.0, weftd re-executed itself (same pid) with IFMA masked, and
# the capability words libcrypto logs are the detected ones minus IFMA
ia32cap() { tr '\0' '\n' <"/proc/${M_PID[$1]}/environ" | sed -n 's/^OPENSSL_ia32cap=//p'; }
# The leaf-7 capability word libcrypto logged, as a number ("" if none).
leaf7() {
  local w
  w=$(sed -n 's/.*OpenSSL CPU features: OPENSSL_ia32cap=0x[0-9a-f]*:0x\([0-9a-f]*\).*/\1/p' "$1" | head -1)
  [[ -n $w ]] && echo $((0x$w))
}
t_eq "n1 keeps its name after any re-exec (ps, pgrep, systemd)" "$(cat "/proc/${M_PID[1]}/comm")" "weftd"
w=$(env -u OPENSSL_ia32cap openssl version -c | sed -n 's/.*OPENSSL_ia32cap=0x[0-9a-f]*:0x\([0-9a-f]*\).*/\1/p')
if [[ -z $w ]]; then
  t_ok "no x86 capability words from openssl version -c: CPU feature checks skipped"
else
  natural=$((0x$w))
  if grep -qw avx512ifma /proc/cpuinfo && openssl version | grep -q '^OpenSSL 3\.0\.'; then
    t_eq "n1 runs with AVX512-IFMA masked for OpenSSL" "$(ia32cap 1)" ":~0x200000"
    t_eq "  libcrypto in n1 has every detected leaf-7 feature but IFMA" "$(leaf7 "$M_DIR/n1.log")" \
      "$((natural & ~0x200000))"
  else
    t_eq "n1 leaves OpenSSL's CPU features alone (no IFMA, or not OpenSSL 3.0)" "$(ia32cap 1)" ""
    t_eq "  libcrypto in n1 has every detected leaf-7 feature" "$(leaf7 "$M_DIR/n1.log")" "$natural"
  fi
  t_eq "n3 keeps the administrator's OPENSSL_ia32cap" "$(ia32cap 3)" ":~0"
  t_eq "  and libcrypto in n3 every detected leaf-7 feature" "$(leaf7 "$M_DIR/n3.log")" "$natural"
  t_eq "  and libcrypto in n2 (empty OPENSSL_ia32cap) none" "$(leaf7 "$M_DIR/n2.log")" "0"
fi
t_run "no warning about the variable when it is not empty" 1 grep -q "OPENSSL_ia32cap is set but empty" "$M_DIR/n3.log"
t_contains "n2 warns that an empty OPENSSL_ia32cap turns every CPU feature off" \
  "$(grep 'OPENSSL_ia32cap is set but empty' "$M_DIR/n2.log")" "OpenSSL runs without AES-NI"

# --- the very first packet survives the negotiation (queued, then sent)
t_run "first ping n1 -> n2 right after start" 0 in_ns 1 ping -n -c 1 -W 10 198.19.2.1

# --- every pair, both address families
for a in 1 2 3; do for b in 1 2 3; do
  [[ $a == "$b" ]] && continue
  t_run "ping n$a -> n$b over IPv4" 0 in_ns "$a" ping -n -c 2 -i 0.2 -W 5 "198.19.$b.1"
  t_run "ping n$a -> n$b over IPv6" 0 in_ns "$a" ping -6 -n -c 2 -i 0.2 -W 5 "2001:db8:$b::1"
done; done
t_run "no route: ICMP unreachable for an address in no node's subnet" 1 \
  in_ns 1 ping -n -c 1 -W 2 198.19.99.1
t_contains "  ping reports the unreachable net" "$T_OUT" "Unreachable"

# --- the cipher every pair negotiated (weftctl status)
want_cipher=${CIPHERS%% *}; want_cipher=${want_cipher%%:*}; want_cipher=${want_cipher:-aes-256-gcm}
for i in 1 2 3; do
  got=$(mesh_ctl "$i" status --json 2>/dev/null |
    jq -r '[.peers[] | select(.state == "up") | .cipher] | unique | join(",")')
  t_eq "n$i: every pair runs $want_cipher" "$got" "$want_cipher"
done

# --- a few MB over TCP, checksum on both ends
head -c $((4 * 1024 * 1024)) /dev/urandom >"$M_DIR/blob"
want=$(sha256sum "$M_DIR/blob" | cut -d' ' -f1)
ip netns exec "${M_NS[2]}" $FRAMES tcp-recv 198.19.2.1 5001 >"$M_DIR/recv.out" 2>&1 &
rpid=$!; M_AUX_PIDS+=("$rpid")
wait_for 5 bash -c "ip netns exec ${M_NS[2]} ss -ltn | grep -q ':5001'"
t_run "4 MiB TCP transfer n1 -> n2" 0 timeout 60 ip netns exec "${M_NS[1]}" $FRAMES tcp-send 198.19.2.1 5001 "$M_DIR/blob"
timeout 30 tail --pid="$rpid" -f /dev/null; wait "$rpid" 2>/dev/null
t_eq "  sha256 on the receiving end matches" "$(cut -d' ' -f1 "$M_DIR/recv.out")" "$want"

# --- captured frames: replay, reflection, a flipped bit, an unknown sender
start_capture 2 "$M_DIR/cap1.pcap" "udp dst port 3406 and src host 198.18.0.1" || t_bad "tcpdump did not start"
in_ns 1 ping -n -c 5 -i 0.1 -W 2 198.19.2.1 >/dev/null
stop_capture
frame=$($FRAMES hex "$M_DIR/cap1.pcap" 1)
[[ -n $frame ]] && t_ok "captured a data frame n1 -> n2" || t_bad "nothing captured"

r0=$(status_field 2 n1 replay); a0=$(status_field 2 n1 auth_failed)
u0=$(status_field 2 unattributed unknown_sender); o0=$(status_field 1 unattributed own_sender)
rx0=$(status_field 2 n1 rx)
in_ns 1 $FRAMES send 198.18.0.2 3406 "$frame"
in_ns 3 $FRAMES send 198.18.0.2 3406 "$frame"   # from another address too: no roaming
t_eq "a replayed frame is dropped and counted as a replay" "$(status_field 2 n1 replay)" $((r0 + 2))
t_eq "  and delivered nothing" "$(status_field 2 n1 rx)" "$rx0"
in_ns 2 $FRAMES send 198.18.0.1 3406 "$frame"
t_eq "a frame reflected to its own sender is dropped" "$(status_field 1 unattributed own_sender)" $((o0 + 1))
fresh=$frame
in_ns 1 $FRAMES send 198.18.0.2 3406 "$fresh" flip:8:0      # the top byte of the counter: a counter never seen
t_eq "a frame with one flipped header bit fails authentication" "$(status_field 2 n1 auth_failed)" $((a0 + 1))
in_ns 1 $FRAMES send 198.18.0.2 3406 "$fresh" sender:99
t_eq "a frame from a node id not in the list is dropped" "$(status_field 2 unattributed unknown_sender)" $((u0 + 1))
t_run "  and the pair still carries traffic" 0 in_ns 1 ping -n -c 2 -i 0.2 -W 5 198.19.2.1
grep -q "peer id 1 now at 198.18.0.3" "$M_DIR/n2.log" && t_bad "a replay moved n1's endpoint" || t_ok "  no replay moved an endpoint"

# resend_captured PCAP: sends every weft frame in PCAP again from n1's
# namespace to n2, in order; prints how many.
resend_captured() {
  local n=0 hex
  while read -r hex; do in_ns 1 $FRAMES send 198.18.0.2 3406 "$hex" >/dev/null; n=$((n + 1)); done < <(
    python3 - "$1" "$SRC" <<'PY'
import sys
sys.path.insert(0, sys.argv[2] + '/test/integration/lib')
import frames
for f in frames.frames(sys.argv[1]):
    print(f[6].hex())
PY
  )
  echo "$n"
}

# --- clean restart: resumes without negotiating; old frames are replays
start_capture 2 "$M_DIR/cap2.pcap" "udp dst port 3406 and src host 198.18.0.1" || t_bad "tcpdump did not start"
in_ns 1 ping -n -c 10 -i 0.05 -W 2 198.19.2.1 >/dev/null
stop_capture
captured=$($FRAMES list "$M_DIR/cap2.pcap" | wc -l)
neg_before=$(grep -c 'negotiation: with n1: epoch' "$M_DIR/n2.log")
mesh_stop 2 TERM && t_ok "n2 stops on SIGTERM" || t_bad "n2 did not stop"
grep -q "weftd stopped" "$M_DIR/n2.log" && t_ok "  clean stop logged" || t_bad "no stop line"
mesh_start 2
wait_for 15 mesh_ready 2 && t_ok "n2 restarted" || t_bad "n2 not ready after restart"
t_run "traffic resumes after the clean restart" 0 in_ns 1 ping -n -c 2 -i 0.2 -W 5 198.19.2.1
grep -q "resumed pair with n1 at epoch" "$M_DIR/n2.log" && t_ok "  pair resumed from saved state" || t_bad "  no resume line"
t_eq "  without a new negotiation" "$(grep -c 'negotiation: with n1: epoch' "$M_DIR/n2.log")" "$neg_before"
r0=$(status_field 2 n1 replay); o0=$(status_field 2 n1 too_old)
n=$(resend_captured "$M_DIR/cap2.pcap")
t_eq "  all $n frames captured before the restart, re-sent, are refused" \
  $(( $(status_field 2 n1 replay) + $(status_field 2 n1 too_old) - r0 - o0 )) "$n"
(( n >= 10 )) && t_ok "  ($n frames replayed)" || t_bad "too few captured frames: $n"

# --- kill -9 twenty times during traffic: no nonce ever repeats
start_capture 1 "$M_DIR/cap3.pcap" "udp port 3406" || t_bad "tcpdump did not start"
ip netns exec "${M_NS[1]}" ping -n -i 0.02 -w 120 198.19.2.1 >/dev/null 2>&1 &
ppid=$!; M_AUX_PIDS+=("$ppid")
for k in $(seq 1 20); do
  kill -KILL "${M_PID[2]}"; mesh_wait_exit "${M_PID[2]}" 5
  ip -n "${M_NS[2]}" link del weft0 2>/dev/null   # gone with the process anyway
  mesh_start 2
  wait_for 15 mesh_ready 2 || { t_bad "n2 not ready after kill $k"; break; }
  # n2 originates traffic at once, from its reserved counters.
  in_ns 2 ping -n -c 3 -i 0.05 -W 1 198.19.1.1 >/dev/null 2>&1 &
  sleep 0.$((RANDOM % 7 + 2))
done
t_ok "20 kill -9 / restart cycles of n2 during traffic"
wait_for 20 in_ns 1 ping -n -c 1 -W 1 198.19.2.1 && t_ok "traffic flows after the last restart" || t_bad "no traffic after the last restart"
kill -TERM "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null
stop_capture
t_run "no (sender, epoch, counter) ever appears twice on the wire" 0 $FRAMES unique "$M_DIR/cap3.pcap"
echo "      $T_OUT"
grep -q "previous stop was unclean" "$M_DIR/n2.log" && t_ok "n2 saw its unclean stops" || t_bad "no unclean-stop line"

# --- a crash, then a clean stop before any renegotiation: the restored
# window (empty, not accepting) must not be saved as trustworthy, or the
# next start would accept frames captured before the crash.
start_capture 2 "$M_DIR/cap4.pcap" "udp dst port 3406 and src host 198.18.0.1" || t_bad "tcpdump did not start"
in_ns 1 ping -n -c 10 -i 0.05 -W 2 198.19.2.1 >/dev/null
stop_capture
kill -KILL "${M_PID[2]}"; mesh_wait_exit "${M_PID[2]}" 5
ip -n "${M_NS[2]}" link del weft0 2>/dev/null
mesh_stop 1 TERM || t_bad "n1 did not stop"   # no peer to renegotiate with
unclean0=$(grep -c "pair with n1: previous stop was unclean" "$M_DIR/n2.log")
resumed0=$(grep -c "resumed pair with n1 at epoch" "$M_DIR/n2.log")
mesh_start 2
wait_for 15 mesh_ready 2 || t_bad "n2 not ready after the crash"
sleep 1
mesh_stop 2 TERM && t_ok "crash, restart with n1 away, clean stop" || t_bad "n2 did not stop"
mesh_start 2
wait_for 15 mesh_ready 2 || t_bad "n2 not ready after the clean stop"
t_eq "  the start after the clean stop is still treated as unclean" \
  "$(grep -c "pair with n1: previous stop was unclean" "$M_DIR/n2.log")" $((unclean0 + 2))
t_eq "  and resumes nothing" "$(grep -c "resumed pair with n1 at epoch" "$M_DIR/n2.log")" "$resumed0"
rx0=$(status_field 2 n1 rx); na0=$(status_field 2 n1 not_accepting)
n=$(resend_captured "$M_DIR/cap4.pcap")
(( n >= 10 )) || t_bad "too few captured frames: $n"
t_eq "  none of the $n frames captured before the crash is delivered" "$(status_field 2 n1 rx)" "$rx0"
t_eq "  all are refused as not accepting" $(( $(status_field 2 n1 not_accepting) - na0 )) "$n"
mesh_start 1
wait_for 15 mesh_ready 1 || t_bad "n1 not ready after its restart"
# n2 renegotiates on its dial back-off (it doubles up to 16 s by now).
wait_for 40 in_ns 1 ping -n -c 1 -W 1 198.19.2.1 && t_ok "  traffic flows once n1 is back" || t_bad "no traffic after n1's return"

mesh_check_reports
t_finish
