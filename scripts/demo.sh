#!/usr/bin/env bash
# demo.sh - the main job, live on this machine: a mesh of three real weftd
# daemons, each in its own network namespace on one bridge.  Shows
# `weftctl status`, pings across the overlay, then signs a new node list
# that adds a fourth node, pushes it from one node and shows every node
# take it and the new node join.  Builds first if needed (and installs what
# is missing with apt-get); tears everything down on every exit path.
# Needs root (namespaces and TUN devices).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [[ $EUID -ne 0 ]]; then echo "demo.sh: run as root (it creates network namespaces and TUN devices)" >&2; exit 1; fi
"$ROOT/scripts/deps.sh"
BUILD=${WEFT_BUILD_DIR:-$ROOT/build}
if [[ ! -x $BUILD/src/app/weftd || ! -x $BUILD/src/app/weftctl || ! -x $BUILD/bnl/bnl-sign ]]; then
  echo "== building weftd, weftctl and bnl-sign (first run only)"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j "$(nproc)" --target weftd weftctl bnl-sign >/dev/null
fi
export WEFT_SOURCE_DIR=$ROOT WEFT_BUILD_DIR=$BUILD
T_TMP=$(mktemp -d /tmp/weft-demo.XXXXXX)
T_FAIL=0
# The namespace plumbing is the integration tests' (test/integration/lib/mesh.sh):
# node i lives in its own namespace, underlay 198.18.0.i, overlay 198.19.i.1.
source "$ROOT/test/integration/lib/mesh.sh"
set +u
WEFTCTL=$BUILD/src/app/weftctl

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
ctl() { local i=$1; shift; "$WEFTCTL" -s "$M_DIR/n$i.sock" "$@"; }
version_of() { ctl "$1" status --json 2>/dev/null | jq -r .bnl.version 2>/dev/null; }
fail() { T_FAIL=1; echo "!! $*" >&2; for f in "$M_DIR"/n*.log; do echo "--- $f"; tail -5 "$f"; done >&2; exit 1; }
start=$(date +%s)

step "1. a network CA, a list-signing key, and a node list of three nodes (n1 n2 n3)"
echo "   (pki/weft-ca init/issue, bnl-sign keygen/new/add/sign; configs in $M_DIR/n*/weft.conf)"
mesh_setup 3
show "$BUILD/bnl/bnl-sign" print "$M_DIR/mesh.signed" --pub "$M_DIR/admin.pub"

step "2. three daemons, one per namespace"
for i in 1 2 3; do mesh_start "$i"; done
for i in 1 2 3; do wait_for 20 mesh_ready "$i" || fail "n$i did not come up"; done
echo "   weftd running in ${M_NS[1]} ${M_NS[2]} ${M_NS[3]} (pids ${M_PID[1]} ${M_PID[2]} ${M_PID[3]})"

step "3. traffic across the overlay (the first packet waits for the pair's TLS negotiation)"
show ip netns exec "${M_NS[1]}" ping -n -c 2 -W 5 198.19.2.1
show ip netns exec "${M_NS[1]}" ping -n -c 2 -W 5 198.19.3.1
show ip netns exec "${M_NS[2]}" ping -6 -n -c 2 -W 5 2001:db8:3::1

step "4. what node n1 sees"
show "$WEFTCTL" -s "$M_DIR/n1.sock" status

step "5. the administrator adds a fourth node: certificate, list entry, signature"
mesh_add_netns 4
mesh_add_node 4
M_N=4
mesh_sign 1 4
show "$BUILD/bnl/bnl-sign" verify "$M_DIR/mesh.signed" --pub "$M_DIR/admin.pub"
v=$(sed -n 's/^version = //p' "$M_DIR/mesh.signed" | head -1)
echo "   the new list (version $v) is copied to n1 only (and to the new node n4)"

step "6. push it from n1: weftctl push (the same as SIGUSR1)"
t0=$(date +%s%N)
show "$WEFTCTL" -s "$M_DIR/n1.sock" push
for i in 2 3; do
  for ((k = 0; k < 100; k++)); do [[ $(version_of "$i") == "$v" ]] && break; sleep 0.1; done
  [[ $(version_of "$i") == "$v" ]] || fail "n$i did not take version $v"
done
echo "   n2 and n3 hold version $v after $(( ($(date +%s%N) - t0) / 1000000 )) ms (verified, saved, applied)"

step "7. the new node starts and joins"
mesh_start 4
wait_for 20 mesh_ready 4 || fail "n4 did not come up"
show ip netns exec "${M_NS[1]}" ping -n -c 2 -W 5 198.19.4.1
show ip netns exec "${M_NS[4]}" ping -n -c 2 -W 5 198.19.3.1
show "$WEFTCTL" -s "$M_DIR/n4.sock" status

step "8. tearing down (daemons stopped by pid, namespaces removed)"
echo "   done in $(( $(date +%s) - start )) s"
