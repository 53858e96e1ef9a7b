#!/usr/bin/env bash
# demo.sh - the main job, shown live on this machine.
#
# Today weft's finished part is the signed node list, so the demo walks an
# administrator's session with bnl-sign: a signing key, a list of three
# nodes, signing, verifying, a tampered copy refused, a rollback refused, and
# an update accepted.  (The live mesh in network namespaces joins this demo
# when the daemon lands.)  Builds first if needed; leaves nothing behind.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/deps.sh"
if [[ ! -x $ROOT/build/bnl/bnl-sign ]]; then
  echo "== building (first run only)"
  cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$ROOT/build" -j "$(nproc)" --target bnl-sign >/dev/null
fi
B=$ROOT/build/bnl/bnl-sign
W=$(mktemp -d /tmp/weft-demo.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
refused() { printf '$ %s\n' "$*"; if "$@"; then echo "!! expected a refusal"; exit 1; else echo "(refused, as it must be)"; fi; }

step "1. the administrator makes a signing key (kept off the nodes)"
run "$B" keygen --out admin
step "2. a node list for network 'demo' with three nodes"
run "$B" new demo.bnl --network demo
run "$B" add demo.bnl alpha ipv4=198.18.0.1 subnet=198.19.1.0/24 subnet=2001:db8:1::/48
run "$B" add demo.bnl beta ipv4=198.18.0.2 subnet=198.19.2.0/24
run "$B" add demo.bnl gamma ipv6=2001:db8::3 port=3407 subnet=198.19.3.0/24
step "3. a mistake is caught before it reaches any node"
refused "$B" add demo.bnl delta ipv4=198.18.0.4 subnet=198.19.1.128/25
step "4. sign, verify, print"
run "$B" sign demo.bnl --key admin.key --out demo.signed
cp demo.signed v1.signed
run cat demo.signed
run "$B" verify demo.signed --pub admin.pub
run "$B" print demo.signed --pub admin.pub
step "5. one changed byte anywhere and every node refuses the list"
sed 's/port = 3407/port = 3408/' demo.signed > tampered.signed
refused "$B" verify tampered.signed --pub admin.pub
step "6. an update: beta gets another subnet; nodes accept it over v1, never v1 over it"
run "$B" addsubnet demo.bnl beta 198.19.20.0/24
run "$B" sign demo.bnl --key admin.key --out demo.signed
run "$B" verify demo.signed --pub admin.pub --current v1.signed
refused "$B" verify v1.signed --pub admin.pub --current demo.signed
step "done: every file was in $W and is removed now"
