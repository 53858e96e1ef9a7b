#!/usr/bin/env bash
# bench.sh - weft against the raw underlay, in the same run, on this machine.
#
# Two real weftd nodes in network namespaces joined through a bridge (the
# integration tests' mesh).  Per round: iperf3 TCP single stream between the
# namespaces' underlay addresses (raw veth + bridge: the reference) and
# through weft's overlay, then idle ping RTT on both.  Prints a table with
# weft/raw ratios.  A benchmark, never a test: it does not fail on a figure.
#
# Usage: scripts/bench.sh [-r ROUNDS] [-t SECONDS] [--cipher aes-256-gcm|chacha20-poly1305|aes-128-gcm]
#                         [--offload auto|off] [--nodes N]
# --nodes N: the signed node list holds N nodes (the two real ones and N-2
# that never answer), to see the memory a large list costs.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=3 SECS=5 CIPHER=aes-256-gcm OFFLOAD=auto NODES=2
while (($#)); do
  case $1 in
    -r) ROUNDS=$2; shift ;;
    -t) SECS=$2; shift ;;
    --cipher) CIPHER=$2; shift ;;
    --offload) OFFLOAD=$2; shift ;;
    --nodes) NODES=$2; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
"$ROOT/scripts/deps.sh"
if [[ ! -x $ROOT/build-rel/src/app/weftd ]]; then
  cmake -S "$ROOT" -B "$ROOT/build-rel" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$ROOT/build-rel" -j "$(nproc)" --target weftd bnl-sign >/dev/null
fi
export WEFT_SOURCE_DIR=$ROOT WEFT_BUILD_DIR=$ROOT/build-rel
source "$ROOT/test/lib/assert.sh"
M_EXTRA_CONF="ciphers = $CIPHER:10
offload = $OFFLOAD"
source "$ROOT/test/integration/lib/mesh.sh"
mesh_require_root

mesh_setup 2
if ((NODES > 2)); then
  # Nodes 3..N: underlay addresses outside the mesh's /24 (unreachable here),
  # one IPv6 /128 each.
  awk -v n="$NODES" 'BEGIN{ for (k = 3; k <= n; k++)
    printf "\n[node x%d]\nid = %d\nipv4 = 198.18.%d.%d\nsubnet = 2001:db8:8000::%x/128\n", k, k, int(k / 250) + 10, k % 250 + 1, k }' \
    >>"$M_DIR/mesh.bnl"
  mesh_sign
fi
mesh_start 1; mesh_start 2
wait_for 15 mesh_ready 1 && wait_for 15 mesh_ready 2 || { echo "mesh did not come up"; exit 1; }
in_ns 1 ping -n -c 1 -W 10 198.19.2.1 >/dev/null || { echo "no traffic through weft"; exit 1; }

iperf() {  # iperf NS_CLIENT TARGET -> "Gbit/s bytes"
  local out
  out=$(timeout $((SECS + 20)) ip netns exec "${M_NS[1]}" iperf3 -c "$2" -t "$SECS" -J 2>/dev/null) || { echo "0 0"; return; }
  jq -r '"\(.end.sum_received.bits_per_second / 1e9 * 100 | round / 100) \(.end.sum_received.bytes)"' <<<"$out"
}
rtt() { in_ns 1 ping -n -q -c 20 -i 0.05 "$1" 2>/dev/null | awk -F/ '/^rtt/{print $5}'; }
cpu_ticks() {  # utime + stime of both daemons, clock ticks
  local p t=0 f
  for p in "${M_PID[1]}" "${M_PID[2]}"; do
    f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    set -- $f; t=$((t + ${12} + ${13}))
  done
  echo "$t"
}
hwm() { awk '/^VmHWM:/{printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null; }

ip netns exec "${M_NS[2]}" iperf3 -s -D --pidfile "$M_DIR/iperf.pid" >/dev/null 2>&1
wait_for 5 test -s "$M_DIR/iperf.pid"
M_AUX_PIDS+=("$(cat "$M_DIR/iperf.pid")")
raw=() weft=() rraw=() rweft=() cpu=()
hz=$(getconf CLK_TCK)
for ((r = 1; r <= ROUNDS; r++)); do
  read -r g _ <<<"$(iperf 1 198.18.0.2)"; raw+=("$g")
  t0=$(cpu_ticks)
  read -r g bytes <<<"$(iperf 1 198.19.2.1)"; weft+=("$g")
  t1=$(cpu_ticks)
  cpu+=("$(awk -v t=$((t1 - t0)) -v hz="$hz" -v b="$bytes" 'BEGIN{ if (b > 0) printf "%.2f", t / hz / (b / 1e9); else print "-" }')")
  rraw+=("$(rtt 198.18.0.2)"); rweft+=("$(rtt 198.19.2.1)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
mr=$(median "${raw[@]}") mw=$(median "${weft[@]}") tr=$(median "${rraw[@]}") tw=$(median "${rweft[@]}") mc=$(median "${cpu[@]}")
echo
echo "| path ($(nproc) cores, iperf3 1 TCP stream ${SECS}s, median of $ROUNDS) | Gbit/s | runs | daemons' CPU-s per GB | idle RTT ms | peak RSS MiB |"
echo "|---|---:|---|---:|---:|---:|"
echo "| raw veth + bridge | $mr | ${raw[*]} | – | $tr | – |"
echo "| weft ($CIPHER, MTU 1420, offload $OFFLOAD, $NODES nodes listed) | $mw | ${weft[*]} | $mc (${cpu[*]}) | $tw | $(hwm "${M_PID[1]}") / $(hwm "${M_PID[2]}") |"
awk -v w="$mw" -v r="$mr" 'BEGIN{ if (r > 0) printf "\nweft / raw throughput: %.3f\n", w / r }'
