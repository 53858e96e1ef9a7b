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
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=3 SECS=5 CIPHER=aes-256-gcm
while (($#)); do
  case $1 in
    -r) ROUNDS=$2; shift ;;
    -t) SECS=$2; shift ;;
    --cipher) CIPHER=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
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
M_EXTRA_CONF="ciphers = $CIPHER:10"
source "$ROOT/test/integration/lib/mesh.sh"
mesh_require_root

mesh_setup 2
mesh_start 1; mesh_start 2
wait_for 15 mesh_ready 1 && wait_for 15 mesh_ready 2 || { echo "mesh did not come up"; exit 1; }
in_ns 1 ping -n -c 1 -W 10 198.19.2.1 >/dev/null || { echo "no traffic through weft"; exit 1; }

iperf() {  # iperf NS_CLIENT TARGET -> Gbit/s
  local out
  out=$(timeout $((SECS + 20)) ip netns exec "${M_NS[1]}" iperf3 -c "$2" -t "$SECS" -J 2>/dev/null) || { echo 0; return; }
  jq -r '.end.sum_received.bits_per_second / 1e9 * 100 | round / 100' <<<"$out"
}
rtt() { in_ns 1 ping -n -q -c 20 -i 0.05 "$1" 2>/dev/null | awk -F/ '/^rtt/{print $5}'; }

ip netns exec "${M_NS[2]}" iperf3 -s -D --pidfile "$M_DIR/iperf.pid" >/dev/null 2>&1
wait_for 5 test -s "$M_DIR/iperf.pid"
M_AUX_PIDS+=("$(cat "$M_DIR/iperf.pid")")
raw=() weft=() rraw=() rweft=()
for ((r = 1; r <= ROUNDS; r++)); do
  raw+=("$(iperf 1 198.18.0.2)"); weft+=("$(iperf 1 198.19.2.1)")
  rraw+=("$(rtt 198.18.0.2)"); rweft+=("$(rtt 198.19.2.1)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
mr=$(median "${raw[@]}") mw=$(median "${weft[@]}") tr=$(median "${rraw[@]}") tw=$(median "${rweft[@]}")
echo
echo "| path ($(nproc) cores, iperf3 1 TCP stream ${SECS}s, median of $ROUNDS) | Gbit/s | runs | idle RTT ms |"
echo "|---|---:|---|---:|"
echo "| raw veth + bridge | $mr | ${raw[*]} | $tr |"
echo "| weft ($CIPHER, MTU 1420) | $mw | ${weft[*]} | $tw |"
awk -v w="$mw" -v r="$mr" 'BEGIN{ if (r > 0) printf "\nweft / raw throughput: %.3f\n", w / r }'
