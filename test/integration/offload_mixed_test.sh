#!/usr/bin/env bash
# An offloaded sender (TSO split in weftd, UDP GSO) to a receiver with
# offload = off: the receiver writes plain packets to its TUN device, so
# its kernel verifies every TCP checksum weftd computed when splitting.
# 4 MiB each way over IPv4 and IPv6, SHA-256 on the receiving end, and no
# checksum error counted by the receiving kernel.
set -uo pipefail
SRC=${WEFT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRC/test/lib/assert.sh"
source "$SRC/test/integration/lib/mesh.sh"
mesh_require_root

mesh_setup 2
echo "offload = off" >>"$M_DIR/n2/weft.conf"
mesh_start 1; mesh_start 2
for i in 1 2; do
  wait_for 15 mesh_ready "$i" && t_ok "n$i ready" || t_bad "n$i not ready" "$(tail -5 "$M_DIR/n$i.log")"
done
t_contains "n1 offloads" "$(grep 'data path:' "$M_DIR/n1.log")" "UDP GSO on"
t_contains "n2 does not" "$(grep 'data path:' "$M_DIR/n2.log")" "(offload = off)"
t_run "first ping" 0 in_ns 1 ping -n -c 1 -W 10 198.19.2.1

head -c $((4 * 1024 * 1024)) /dev/urandom >"$M_DIR/blob"
want=$(sha256sum "$M_DIR/blob" | cut -d' ' -f1)
port=5001
for dst in 198.19.2.1 2001:db8:2::1; do
  ip netns exec "${M_NS[2]}" $FRAMES tcp-recv "$dst" "$port" >"$M_DIR/recv.$port" 2>&1 &
  rpid=$!; M_AUX_PIDS+=("$rpid")
  wait_for 5 bash -c "ip netns exec ${M_NS[2]} ss -ltn | grep -q ':$port'"
  t_run "4 MiB TCP n1 -> n2 to $dst (segments split by weftd)" 0 \
    timeout 60 ip netns exec "${M_NS[1]}" $FRAMES tcp-send "$dst" "$port" "$M_DIR/blob"
  timeout 30 tail --pid="$rpid" -f /dev/null; wait "$rpid" 2>/dev/null
  t_eq "  sha256 matches" "$(cut -d' ' -f1 "$M_DIR/recv.$port")" "$want"
  port=$((port + 1))
done
errs=$(in_ns 2 nstat -az TcpInCsumErrors 2>/dev/null | awk '$1 == "TcpInCsumErrors" {print $2}')
t_eq "receiving kernel counted no TCP checksum error" "${errs:-missing}" "0"
t_finish
