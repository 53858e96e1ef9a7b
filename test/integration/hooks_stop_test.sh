#!/usr/bin/env bash
# The hooks at stop (SIGTERM), with a real weftd in a one-node mesh:
# 1. my-subnet-down runs for each of the node's own subnets, with the
#    environment my-subnet-up had, and then down;
# 2. a stop soon after start, while a hook still runs: the queued hooks are
#    dropped, the running one gets SIGTERM at once (not SIGKILL, and not
#    after its hook-timeout), even with no down hook; my-subnet-down still
#    runs.
set -uo pipefail
M_EXTRA_CONF='hook-timeout = 30
my-subnet-up = echo "my-subnet-up $SUBNET $SUBADDRTYPE $NODE" >> hooks.out
my-subnet-down = echo "my-subnet-down $SUBNET $SUBADDRTYPE $NODE" >> hooks.out
down = echo "down $TUNDEV" >> hooks.out'
SRC=${WEFT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRC/test/lib/assert.sh"
source "$SRC/test/integration/lib/mesh.sh"
mesh_require_root

mesh_setup 1
D=$M_DIR/n1
LOG=$M_DIR/n1.log

# --- 1. a normal start and stop.
mesh_start 1
wait_for 15 mesh_ready 1 && t_ok "n1 ready" || t_bad "n1 not ready" "$(tail -5 "$LOG")"
wait_for 10 bash -c "[[ \$(grep -c my-subnet-up '$D/hooks.out') -eq 2 ]]" \
  && t_ok "my-subnet-up ran for both own subnets" || t_bad "my-subnet-up did not run twice" "$(cat "$D/hooks.out")"
mesh_stop 1 && t_ok "n1 stopped on SIGTERM" || t_bad "n1 did not stop within 10 s"
t_eq "my-subnet-down for each own subnet, then down" "$(cat "$D/hooks.out")" \
"my-subnet-up 198.19.1.0/24 INET n1
my-subnet-up 2001:db8:1::/48 INET6 n1
my-subnet-down 198.19.1.0/24 INET n1
my-subnet-down 2001:db8:1::/48 INET6 n1
down weft0"
t_contains "the stop is logged" "$(tail -3 "$LOG")" "weftd stopped: node n1"

# --- 2. a stop while `up` still runs (and traps SIGTERM), no down hook.
rm -f "$D/hooks.out"
sed -i -E '/^(up|down) = /d' "$D/weft.conf"
cat >>"$D/weft.conf" <<'CONF'
up = trap 'echo TERM >> up.out; exit 0' TERM; sleep 60 & echo $! > sleep.pid; touch up-started; wait
CONF
mesh_start 1
wait_for 10 test -e "$D/up-started" && t_ok "slow up hook started" || t_bad "up hook did not start" "$(tail -5 "$LOG")"
start=$(date +%s%N)
mesh_stop 1 && t_ok "n1 stopped on SIGTERM" || t_bad "n1 did not stop within 10 s"
took_ms=$((($(date +%s%N) - start) / 1000000))
if ((took_ms < 3000)); then t_ok "stop took ${took_ms} ms, not hook-timeout (30 s)"
else t_bad "stop took ${took_ms} ms"; fi
t_eq "the running up hook got SIGTERM (its trap ran)" "$(cat "$D/up.out" 2>/dev/null)" "TERM"
t_contains "  logged" "$(cat "$LOG")" "hook up: still running at shutdown, sending SIGTERM"
t_contains "queued my-subnet-up hooks dropped" "$(cat "$LOG")" "notice: shutting down: 2 queued hooks dropped, not run"
t_eq "no my-subnet-up ran; my-subnet-down still did" "$(cat "$D/hooks.out")" \
"my-subnet-down 198.19.1.0/24 INET n1
my-subnet-down 2001:db8:1::/48 INET6 n1"
# Its background sleep is in its process group, so the SIGTERM reached it.
if [[ -s $D/sleep.pid ]] && wait_for 2 bash -c "! kill -0 $(cat "$D/sleep.pid") 2>/dev/null"; then
  t_ok "nothing of the up hook left"
else t_bad "the up hook's sleep survived"; fi
mesh_check_reports
t_finish
