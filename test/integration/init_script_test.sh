#!/usr/bin/env bash
# scripts/init.d/weft against a real daemon, and the example hooks of
# scripts/hooks, in network namespaces.
#
# Part 1: each example hook run with a crafted environment (the variables
# weftd gives it) in a scratch namespace holding a dummy device; the
# addresses, MTU, link state and routes they leave are asserted.
# Part 2: a 2-node mesh (test/integration/lib/mesh.sh); node n1 runs through
# the init script inside its namespace, with the example hooks as its up,
# down, subnet-up and subnet-down; n2 runs in the foreground.  start, a
# second start, status, reload (HUP), push (USR1), the daemon's process
# state, ping across, stop, status of a stopped daemon, and the refusals:
# broken configuration on start, restart and reload, a second daemon on the
# same pidfile, bad net names and actions; the LSB codes (6 no weft.conf,
# 7 reload/push of a stopped net); a pidfile counts only while locked: an
# unlocked one naming a live weftd (a reused pid) is stale, a locked one
# naming another program is neither signalled nor removed.
set -uo pipefail
SRC=${WEFT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRC/test/lib/assert.sh"
source "$SRC/test/integration/lib/mesh.sh"
mesh_require_root
for t in start-stop-daemon sh flock; do
  command -v "$t" >/dev/null || { echo "SKIP: needs $t"; exit 77; }
done

INIT=$SRC/scripts/init.d/weft
HOOKS=$SRC/scripts/hooks
HNS=wf${M_ID}hk
RUN=$M_DIR/run
A_PID=
# alive PID: running (a zombie left to an init that has not reaped it yet is not).
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null); [[ -n $s && $s != Z* ]]; }
# gone PID SECONDS
gone() { local i; for ((i = 0; i < $2 * 10; i++)); do alive "$1" || return 0; sleep 0.1; done; return 1; }

cleanup() {
  # The daemon the init script started (its pid from our pidfile), then mesh.sh's.
  local p
  for p in "$A_PID" "$(cat "$RUN/n1.pid" 2>/dev/null)"; do
    [[ -n $p ]] && alive "$p" && kill -TERM "$p" 2>/dev/null && { gone "$p" 10 || kill -KILL "$p" 2>/dev/null; }
  done
  ip netns del "$HNS" 2>/dev/null
  mesh_cleanup
}
trap cleanup EXIT

# ===================== part 1: the example hooks ========================
ip netns add "$HNS"
ip -n "$HNS" tuntap add dev wt0 mode tun
HD=$M_DIR/hookdir
mkdir -p "$HD"
cat >"$M_DIR/fake-nscheck" <<FAKE
#!/bin/sh
echo "\$*" >>"$M_DIR/nscheck.calls"
FAKE
chmod 755 "$M_DIR/fake-nscheck"

# hook NAME VAR=VALUE...: runs the hook as weftd does (cwd = the net's
# directory, only PATH and the given variables) inside the scratch namespace.
hook() {
  local name=$1; shift
  (cd "$HD" && ip netns exec "$HNS" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    "$@" sh "$HOOKS/$name")
}
addrs() { ip -n "$HNS" addr show dev wt0; }
link() { ip -n "$HNS" link show dev wt0; }
routes4() { ip -n "$HNS" -4 route show dev wt0; }
routes6() { ip -n "$HNS" -6 route show dev wt0; }

t_run "up: ADDRESS (IPv4 and IPv6), MTU" 0 hook up TUNDEV=wt0 ADDRESS="198.19.7.1/24 2001:db8:7::1/48" MTU=1400 NSCHECK="$M_DIR/fake-nscheck"
t_contains "  198.19.7.1/24 assigned" "$(addrs)" "inet 198.19.7.1/24"
t_contains "  2001:db8:7::1/48 assigned" "$(addrs)" "inet6 2001:db8:7::1/48"
t_contains "  link up" "$(link)" ",UP"
t_contains "  mtu 1400" "$(link)" "mtu 1400"
t_contains "  the prefix length gives the connected route" "$(routes4)" "198.19.7.0/24 proto kernel"
t_eq "  weft-nscheck --init-master ran (it is installed)" "$(cat "$M_DIR/nscheck.calls" 2>/dev/null)" "--init-master"
t_run "up again: idempotent (addr replace)" 0 hook up TUNDEV=wt0 ADDRESS="198.19.7.1/24 2001:db8:7::1/48" NSCHECK=
t_eq "  one IPv4 address, not two" "$(addrs | grep -c 'inet 198.19.7.1/24')" 1
t_eq "  NSCHECK empty: the checker is not run" "$(wc -l <"$M_DIR/nscheck.calls")" 1
t_run "up: a checker that is not installed is skipped" 0 hook up TUNDEV=wt0 ADDRESS="198.19.7.1/24" NSCHECK=/nonexistent/weft-nscheck
printf '# overlay addresses of this node\n198.19.8.1/32   # v4\n\n2001:db8:8::1/128\n' >"$HD/address"
t_run "up: addresses from ./address" 0 hook up TUNDEV=wt0 NSCHECK=
t_contains "  198.19.8.1/32 from the file" "$(addrs)" "inet 198.19.8.1/32"
t_contains "  2001:db8:8::1/128 from the file" "$(addrs)" "inet6 2001:db8:8::1/128"
rm -f "$HD/address"
t_run "up: no address anywhere: link up, a warning" 0 hook up TUNDEV=wt0 NSCHECK=
t_contains "  says so" "$T_ERR" "no ADDRESS and no ./address file"
t_run "up: a malformed address is refused" 2 hook up TUNDEV=wt0 ADDRESS="bogus" NSCHECK=
t_contains "  with the reason" "$T_ERR" "'bogus' is not an IPv4 or IPv6 address"
t_run "up: a bad MTU is refused" 2 hook up TUNDEV=wt0 MTU=12x NSCHECK=
t_run "up: a failing ip command fails the hook (set -e)" 1 hook up TUNDEV=wt0 ADDRESS="198.19.300.1/24" NSCHECK=
t_run "up: without TUNDEV it refuses" 2 hook up ADDRESS=198.19.7.1/24
t_contains "  naming the variable" "$T_ERR" "TUNDEV is not set"

sub() {  # ACTION TYPE SUBNET
  hook "subnet-$1" TUNDEV=wt0 SUBNET="$3" SUBADDR="${3%/*}" SUBCIDR="${3#*/}" SUBADDRTYPE="$2" NODE=n9 NODEID=9
}
t_run "subnet-up INET 198.19.9.0/24" 0 sub up INET 198.19.9.0/24
t_contains "  route 198.19.9.0/24 dev wt0" "$(routes4)" "198.19.9.0/24"
t_run "subnet-up INET6 2001:db8:9::/48" 0 sub up INET6 2001:db8:9::/48
t_contains "  route 2001:db8:9::/48 dev wt0" "$(routes6)" "2001:db8:9::/48"
t_run "subnet-up again (replace)" 0 sub up INET 198.19.9.0/24
t_eq "  still one route" "$(routes4 | grep -c '^198.19.9.0/24')" 1
t_run "subnet-up: SUBADDRTYPE neither INET nor INET6" 2 sub up INET5 198.19.10.0/24
t_contains "  with the reason" "$T_ERR" "neither INET nor INET6"
t_run "subnet-up: without SUBNET it refuses" 2 hook subnet-up TUNDEV=wt0 SUBADDRTYPE=INET
t_run "subnet-down INET 198.19.9.0/24" 0 sub down INET 198.19.9.0/24
[[ $(routes4) != *198.19.9.0/24* ]] && t_ok "  route gone" || t_bad "  route 198.19.9.0/24 still there"
t_run "subnet-down INET6 2001:db8:9::/48" 0 sub down INET6 2001:db8:9::/48
[[ $(routes6) != *2001:db8:9::/48* ]] && t_ok "  route gone" || t_bad "  route 2001:db8:9::/48 still there"
t_run "subnet-down of a route already gone: nothing to do" 0 sub down INET 198.19.9.0/24
ip -n "$HNS" tuntap add dev wt1 mode tun && ip -n "$HNS" link set wt1 up
ip -n "$HNS" route add 198.19.11.0/24 dev wt1
t_run "subnet-down leaves a route through another device alone" 0 sub down INET 198.19.11.0/24
t_contains "  198.19.11.0/24 dev wt1 kept" "$(ip -n "$HNS" route show)" "198.19.11.0/24 dev wt1"
t_run "down" 0 hook down TUNDEV=wt0
[[ $(link) != *",UP"* ]] && t_ok "  link down" || t_bad "  link still up"
[[ $(addrs) != *"inet "* && $(addrs) != *"scope global"* ]] && t_ok "  addresses removed" || t_bad "  addresses left" "$(addrs)"
t_run "down: a device already gone" 0 hook down TUNDEV=wt9

# ===================== part 2: the init script ==========================
mesh_setup 2
# n1 uses the example hooks; its overlay addresses from its `address` file.
printf '198.19.1.1/16\n2001:db8:1::1/32\n' >"$M_DIR/n1/address"
sed -i -e "s|^up = .*|up = NSCHECK= $HOOKS/up|" -e "s|^subnet-up = .*|subnet-up = $HOOKS/subnet-up|" \
  -e "s|^subnet-down = .*|subnet-down = $HOOKS/subnet-down|" "$M_DIR/n1/weft.conf"
echo "down = $HOOKS/down" >>"$M_DIR/n1/weft.conf"
cp -a "$M_DIR/n1/weft.conf" "$M_DIR/n1.conf.good"
cat >"$M_DIR/default" <<DEF
NETS="n1"
DEF
init() {  # init ACTION [NET...]: the init script in n1's namespace, against the build tree
  in_ns 1 env WEFT_CONFDIR_BASE="$M_DIR" DAEMON="$WEFTD" RUNDIR="$RUN" DEFAULTS_FILE="$M_DIR/default" \
    sh "$INIT" "$@"
}
LOG=$M_DIR/n1.log
PIDF=$RUN/n1.pid

t_run "status before start: not running" 3 init status
t_contains "  says so" "$T_OUT$T_ERR" "n1 is not running"
t_run "start (NETS from the defaults file)" 0 init start
A_PID=$(cat "$PIDF" 2>/dev/null)
[[ -n $A_PID ]] && t_ok "  pidfile $PIDF written" || t_bad "  no pidfile"
alive "$A_PID" && t_ok "  daemon $A_PID alive" || t_bad "  no daemon alive"
t_eq "  it is weftd" "$(readlink "/proc/$A_PID/exe")" "$(readlink -f "$WEFTD")"
t_eq "  daemonised: cwd /" "$(readlink "/proc/$A_PID/cwd")" /
for fd in 0 1 2; do t_eq "  daemonised: fd $fd on /dev/null" "$(readlink "/proc/$A_PID/fd/$fd")" /dev/null; done
read -r sid pgid ppid < <(ps -o sid=,pgid=,ppid= -p "$A_PID")
[[ $sid != "$A_PID" && $sid == "$pgid" ]] && t_ok "  in its own session, not its leader (double fork)" || t_bad "  session $sid, pgid $pgid"
grep -q "weftd .* started: node n1 .*interface weft0" "$LOG" && t_ok "  start line logged" || t_bad "  no start line" "$(tail -3 "$LOG")"
t_run "status: running" 0 init status n1
t_contains "  with its pid" "$T_OUT" "running (pid $A_PID)"

mesh_start 2
wait_for 15 mesh_ready 1 && t_ok "n1 up: address from ./address, routes from the example subnet-up" ||
  t_bad "n1 not ready" "$(tail -5 "$LOG")"
wait_for 15 mesh_ready 2 && t_ok "n2 up" || t_bad "n2 not ready"
t_contains "  n1's IPv6 overlay address" "$(ip -n "${M_NS[1]}" addr show dev weft0)" "2001:db8:1::1/32"
t_contains "  n1's IPv6 route to n2" "$(ip -n "${M_NS[1]}" -6 route show dev weft0)" "2001:db8:2::/48"
t_eq "  n1's hooks all succeeded (no hook warning in its log)" "$(grep -E 'warning: hook|error: hook' "$LOG")" ""
grep -q "hook up: done" "$LOG" && grep -q "hook subnet-up: done" "$LOG" && t_ok "  up and subnet-up ran" || t_bad "  hooks did not run"
t_run "ping n1 -> n2 across the mesh" 0 in_ns 1 ping -n -c 2 -i 0.2 -W 5 198.19.2.1
t_run "ping n1 -> n2 over IPv6" 0 in_ns 1 ping -6 -n -c 2 -i 0.2 -W 5 2001:db8:2::1

t_run "a second start is harmless" 0 init start
t_contains "  says it runs already" "$T_OUT$T_ERR" "already running"
t_eq "  same daemon" "$(cat "$PIDF")" "$A_PID"
t_run "a second weftd on the same pidfile is refused" 1 in_ns 1 "$WEFTD" -c "$M_DIR/n1" -p "$PIDF"
t_contains "  naming the holder" "$T_ERR" "another weftd holds $PIDF (pid $A_PID)"
t_eq "  the first keeps its pidfile" "$(cat "$PIDF")" "$A_PID"
t_run "a second weftd on the same configuration with another pidfile is refused" 1 in_ns 1 "$WEFTD" -c "$M_DIR/n1" -p "$RUN/other.pid"
t_contains "  naming the configuration" "$T_ERR" "another weftd is running on $M_DIR/n1"
[[ ! -e $RUN/other.pid ]] && t_ok "  and leaves no pidfile behind" || t_bad "  $RUN/other.pid left behind"
t_run "  in the foreground without a pidfile too" 1 in_ns 1 "$WEFTD" -c "$M_DIR/n1" -f
t_contains "  naming the configuration" "$T_ERR" "another weftd is running on $M_DIR/n1"
alive "$A_PID" && t_ok "  the first runs on" || t_bad "  the first died"

h0=$(grep -c 'SIGHUP' "$LOG")
t_run "reload" 0 init reload
wait_for 5 bash -c "[[ \$(grep -c SIGHUP '$LOG') -gt $h0 ]]" && t_ok "  the daemon logs the SIGHUP reload" ||
  t_bad "  no reload in the log" "$(tail -3 "$LOG")"
u0=$(grep -c 'SIGUSR1' "$LOG")
t_run "push" 0 init push n1
wait_for 5 bash -c "[[ \$(grep -c SIGUSR1 '$LOG') -gt $u0 ]]" && t_ok "  the daemon logs the SIGUSR1 push" ||
  t_bad "  no push in the log" "$(tail -3 "$LOG")"
alive "$A_PID" && t_ok "  still running after reload and push" || t_bad "  died"

# A broken weft.conf: reload, restart and force-reload refuse, the daemon keeps running.
echo "mtu = 70000" >>"$M_DIR/n1/weft.conf"
t_run "reload with a broken weft.conf fails" 1 init reload n1
t_contains "  printing weftd's message" "$T_ERR" "mtu: expected 576..9000, got 70000"
t_run "restart with a broken weft.conf fails before stopping" 1 init restart n1
t_contains "  printing weftd's message" "$T_ERR" "mtu: expected 576..9000, got 70000"
t_run "force-reload with a broken weft.conf fails" 1 init force-reload n1
t_eq "  the daemon still runs" "$(cat "$PIDF" 2>/dev/null)" "$A_PID"
alive "$A_PID" && t_ok "  and is alive" || t_bad "  died"
cp "$M_DIR/n1.conf.good" "$M_DIR/n1/weft.conf"

t_run "restart" 0 init restart
B_PID=$(cat "$PIDF" 2>/dev/null)
[[ -n $B_PID && $B_PID != "$A_PID" ]] && t_ok "  a new daemon ($B_PID)" || t_bad "  pid '$B_PID' after restart"
gone "$A_PID" 5 && t_ok "  the old daemon is gone" || t_bad "  the old daemon still runs"
A_PID=$B_PID
wait_for 15 mesh_ready 1 && t_ok "  n1 ready again" || t_bad "  n1 not ready after restart"
t_run "  ping n1 -> n2 after the restart" 0 in_ns 1 ping -n -c 2 -i 0.2 -W 10 198.19.2.1

t_run "stop" 0 init stop
gone "$A_PID" 10 && t_ok "  the daemon is gone" || t_bad "  $A_PID still alive"
[[ ! -e $PIDF ]] && t_ok "  pidfile removed" || t_bad "  pidfile left"
grep -q "weftd stopped" "$LOG" && t_ok "  clean stop logged" || t_bad "  no stop line"
ip -n "${M_NS[1]}" link show weft0 >/dev/null 2>&1 && t_bad "  weft0 still there" || t_ok "  weft0 gone"
A_PID=
t_run "status of a stopped daemon" 3 init status n1
t_run "reload of a stopped net: not running (LSB 7)" 7 init reload n1
t_contains "  says so" "$T_OUT$T_ERR" "not running"
t_run "push of a stopped net: 7" 7 init push n1
t_run "stop again: nothing to do" 0 init stop n1
echo 999999 >"$PIDF"
t_run "status with a stale pidfile: dead, pidfile exists" 1 init status n1
t_run "start over a stale pidfile" 0 init start n1
A_PID=$(cat "$PIDF" 2>/dev/null)
alive "$A_PID" && [[ $A_PID != 999999 ]] && t_ok "  runs ($A_PID)" || t_bad "  no daemon"
t_run "  and stops" 0 init stop n1
gone "$A_PID" 10 && t_ok "  gone" || t_bad "  still alive"
A_PID=

echo "mtu = 70000" >>"$M_DIR/n1/weft.conf"
t_run "start with a broken weft.conf fails" 1 init start n1
t_contains "  printing the configuration error" "$T_ERR" "mtu: expected 576..9000, got 70000"
t_run "  nothing runs" 3 init status n1
cp "$M_DIR/n1.conf.good" "$M_DIR/n1/weft.conf"
mv "$M_DIR/n1/bnl.signed" "$M_DIR/n1/bnl.moved"
t_run "start with a missing node list fails" 1 init start n1
t_contains "  naming it" "$T_ERR" "bnl.signed"
mv "$M_DIR/n1/bnl.moved" "$M_DIR/n1/bnl.signed"
t_run "start of a net without a directory: not configured (LSB 6)" 6 init start nosuchnet
t_contains "  naming the missing weft.conf" "$T_OUT$T_ERR" "no $M_DIR/nosuchnet/weft.conf"
t_run "a net name with a slash is refused" 2 init start ../n1
t_run "an unknown action is refused" 2 init frobnicate
t_contains "  with the usage" "$T_ERR" "Usage:"
echo 'NETS=""' >"$M_DIR/default"
t_run "NETS empty: start starts nothing" 0 init start
t_contains "  and says so" "$T_OUT$T_ERR" "nothing to start"
[[ ! -e $PIDF ]] && t_ok "  no daemon" || t_bad "  a daemon started"
t_run "NETS empty, nothing running: status 3" 3 init status
t_run "start n1 by name" 0 init start n1
A_PID=$(cat "$PIDF" 2>/dev/null)
# A dead net's pidfile, unlocked, naming a live weftd (n1's: the pid reused).
echo "$A_PID" >"$RUN/ghost.pid"
h0=$(grep -c 'SIGHUP' "$LOG") u0=$(grep -c 'SIGUSR1' "$LOG")
t_run "status of a net whose unlocked pidfile names a live weftd: dead, pidfile exists" 1 init status ghost
t_run "  reload of it: not running (7)" 7 init reload ghost
t_run "  push of it: 7" 7 init push ghost
t_run "  stop of it: nothing to stop" 0 init stop ghost
t_contains "  says so" "$T_OUT$T_ERR" "not running"
sleep 0.5
alive "$A_PID" && t_ok "  n1's weftd was not signalled" || t_bad "  n1's weftd was killed"
t_eq "  nor reloaded" "$(grep -c 'SIGHUP' "$LOG")" "$h0"
t_eq "  nor pushed to" "$(grep -c 'SIGUSR1' "$LOG")" "$u0"
[[ ! -e $RUN/ghost.pid ]] && t_ok "  the stale pidfile removed" || t_bad "  $RUN/ghost.pid left"
t_run "  n1 still runs" 0 init status n1
# A locked pidfile whose pid is not weftd: neither signalled nor removed.
(exec 8>"$RUN/odd.pid" && flock 8 && echo "$BASHPID" >&8 && exec sleep 60) &
odd=$!; M_AUX_PIDS+=("$odd")
wait_for 5 grep -qx "$odd" "$RUN/odd.pid" || t_bad "the locked pidfile was not made"
t_run "stop of a net whose locked pidfile names another program fails" 1 init stop odd
t_contains "  says why" "$T_OUT$T_ERR" "$RUN/odd.pid is locked, but its pid is no $WEFTD"
alive "$odd" && t_ok "  that program was not killed" || t_bad "  that program was killed"
[[ -e $RUN/odd.pid ]] && t_ok "  its pidfile kept" || t_bad "  its pidfile removed"
t_run "  status of it: unknown (4)" 4 init status odd
kill "$odd"; wait "$odd" 2>/dev/null
rm -f "$RUN/odd.pid"
t_run "  stop without names stops every running net" 0 init stop
gone "$A_PID" 10 && t_ok "  n1 stopped" || t_bad "  n1 still running"
A_PID=
t_run "a missing weftd: start fails with status 5" 5 in_ns 1 env WEFT_CONFDIR_BASE="$M_DIR" DAEMON=/nonexistent/weftd \
  RUNDIR="$RUN" DEFAULTS_FILE="$M_DIR/default" sh "$INIT" start n1

# Without /lib/lsb/init-functions (the script's own messages).
nolsb() { in_ns 1 env WEFT_NO_LSB=1 WEFT_CONFDIR_BASE="$M_DIR" DAEMON="$WEFTD" RUNDIR="$RUN" DEFAULTS_FILE="$M_DIR/default" sh "$INIT" "$@"; }
t_run "without init-functions: start" 0 nolsb start n1
A_PID=$(cat "$PIDF" 2>/dev/null)
t_run "  status" 0 nolsb status n1
t_contains "  says it runs" "$T_OUT" "n1 is running (pid $A_PID)"
t_run "  stop" 0 nolsb stop n1
gone "$A_PID" 10 && t_ok "  stopped" || t_bad "  still running"
A_PID=
t_run "  status of the stopped daemon" 3 nolsb status n1
t_contains "  says so" "$T_ERR" "n1 is not running"

# systemd's Type=notify: READY=1 once started, STOPPING=1 as soon as the
# stop begins: before the down hook (made slow here) has finished.
cat >"$M_DIR/slow-down" <<SH
#!/bin/sh
sleep 2
$HOOKS/down "\$@"
touch "$M_DIR/down.done"
SH
chmod +x "$M_DIR/slow-down"
sed -i "s|^down = .*|down = $M_DIR/slow-down|" "$M_DIR/n1/weft.conf"
cat >"$M_DIR/notify.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(20)
for _ in range(2):
    try: print(s.recv(4096).decode().replace("\n", " | "), flush=True)
    except socket.timeout: break
PY
python3 "$M_DIR/notify.py" "$M_DIR/notify.sock" >"$M_DIR/notify.out" 2>&1 &
npid=$!; M_AUX_PIDS+=("$npid")
wait_for 5 test -S "$M_DIR/notify.sock"
ip netns exec "${M_NS[1]}" env NOTIFY_SOCKET="$M_DIR/notify.sock" "$WEFTD" -f -c "$M_DIR/n1" >>"$M_DIR/n1.out" 2>&1 &
fpid=$!; M_AUX_PIDS+=("$fpid")
wait_for 15 grep -q READY=1 "$M_DIR/notify.out" && t_ok "weftd -f under NOTIFY_SOCKET sends READY=1" ||
  t_bad "no READY=1" "$(cat "$M_DIR/notify.out")"
t_contains "  with its status and pid" "$(cat "$M_DIR/notify.out")" "STATUS=running: node n1, interface weft0 | MAINPID=$fpid |"
kill -TERM "$fpid"
wait_for 15 grep -q STOPPING=1 "$M_DIR/notify.out" && t_ok "  and STOPPING=1 when it stops" || t_bad "  no STOPPING=1"
[[ ! -e $M_DIR/down.done ]] && t_ok "  sent before the down hook finished" || t_bad "  STOPPING=1 only after the down hook"
wait_for 15 test -e "$M_DIR/down.done" && t_ok "  the down hook ran" || t_bad "  the down hook did not run"
mesh_wait_exit "$fpid" 10 && t_ok "  exits on TERM" || t_bad "  still running"

mesh_check_reports
t_finish
