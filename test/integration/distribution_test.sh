#!/usr/bin/env bash
# Node-list distribution over a 5-node mesh of real daemons: a push on
# SIGUSR1 reaching every node (convergence time printed), a node that was
# down catching up by pulling, a push relayed around a node the signer
# cannot reach, a node added and a node removed, every kind of bad list
# refused, and weftctl against the daemons.
set -uo pipefail
SRC=${WEFT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRC/test/lib/assert.sh"
source "$SRC/test/integration/lib/mesh.sh"
mesh_require_root
command -v jq >/dev/null || { echo "missing jq (scripts/deps.sh installs it)"; exit 1; }
PUSH_TOOL=$BUILD/test/tools/weft-test-bnl-push
PULL=5
M_EXTRA_CONF="pull-interval = $PULL"

version_of() { mesh_ctl "$1" status --json 2>/dev/null | jq -r '.bnl.version' 2>/dev/null; }
peer_field() { mesh_ctl "$1" status --json 2>/dev/null | jq -r --arg p "$2" ".peers[] | select(.name == \$p) | $3" 2>/dev/null; }
has_peer() { [[ -n $(peer_field "$1" "$2" .name) ]]; }
# all_at V NODES...: every listed node reports version V.
all_at() { local v=$1 i; shift; for i in "$@"; do [[ $(version_of "$i") == "$v" ]] || return 1; done; }
signed_version() { sed -n 's/^version = //p' "$1" | head -1; }

# sign_and_give N...: signs the admin's list, hands it to the given nodes only.
sign_and_give() {
  "$BNL_SIGN" sign "$M_DIR/mesh.bnl" --key "$M_DIR/admin.key" --out "$M_DIR/mesh.signed" >/dev/null || return 1
  local i
  for i in "$@"; do cp "$M_DIR/mesh.signed" "$M_DIR/n$i/bnl.signed"; done
}

# Versions far in the future, so this test can also sign an "equal version,
# other content" list deterministically (bnl-sign takes max(now, previous + 1)).
mesh_setup 5
# n3 takes the refusal section's 1005 lists from one peer in a row; n4 keeps
# the default (one ask per peer per 10 s), checked there too.
echo "list-ask-interval = 0" >>"$M_DIR/n3/weft.conf"
base=$(( $(date +%s) + 1000000 ))
sed -i "s/^version = .*/version = $base/" "$M_DIR/mesh.bnl"
mesh_sign
v1=$(signed_version "$M_DIR/mesh.signed")
t_ok "5 nodes, list version $v1"
for i in 1 2 3 4 5; do mesh_start "$i"; done
for i in 1 2 3 4 5; do
  wait_for 20 mesh_ready "$i" || t_bad "n$i not ready" "$(tail -5 "$M_DIR/n$i.log")"
done
t_run "ping n1 -> n5" 0 in_ns 1 ping -n -c 1 -W 10 198.19.5.1

# --- weftctl status
t_run "weftctl status --json on n1" 0 mesh_ctl 1 status --json
st=$T_OUT
t_eq "  node name" "$(jq -r .node.name <<<"$st")" n1
t_eq "  list version" "$(jq -r .bnl.version <<<"$st")" "$v1"
t_eq "  four peers" "$(jq -r '.peers | length' <<<"$st")" 4
t_eq "  n5 is up" "$(jq -r '.peers[] | select(.name=="n5") | .state' <<<"$st")" up
t_eq "  every drop reason present for n5" "$(jq -r '.peers[] | select(.name=="n5") | .traffic.drops | has("replay") and has("auth_failed") and has("unknown_sender")' <<<"$st")" true
t_run "weftctl status (table) on n1" 0 mesh_ctl 1 status
t_contains "  table names n5" "$T_OUT" n5
t_run "weftctl bnl prints the signed list" 0 mesh_ctl 1 bnl
t_eq "  byte for byte" "$(sha256sum <<<"$T_OUT" | cut -c1-64)" "$(sha256sum <"$M_DIR/mesh.signed" | cut -c1-64)"

# --- push on SIGUSR1: n1 only gets the new file; everyone converges
"$BNL_SIGN" addsubnet "$M_DIR/mesh.bnl" n2 198.19.102.0/24 >/dev/null
sign_and_give 1
v2=$(signed_version "$M_DIR/mesh.signed")
cp "$M_DIR/mesh.signed" "$M_DIR/v2.signed"
t0=$(date +%s%N)
kill -USR1 "${M_PID[1]}"
if wait_for 15 all_at "$v2" 1 2 3 4 5; then
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  t_ok "push: all 5 nodes at version $v2 after SIGUSR1 on n1"
  echo "CONVERGENCE: 5 nodes took $ms ms to report version $v2 after SIGUSR1"
else
  t_bad "push: not every node reached $v2" "$(for i in 1 2 3 4 5; do echo "n$i: $(version_of $i)"; done | tr '\n' ' ')"
fi
t_eq "the pushed list is saved on n5, byte for byte" "$(cmp -s "$M_DIR/mesh.signed" "$M_DIR/n5/bnl.signed" && echo same)" same
wait_for 5 bash -c "ip -n ${M_NS[4]} route show | grep -q '198.19.102.0/24 dev weft0'"
t_eq "subnet-up ran on n4 for the moved subnet" "$(ip -n "${M_NS[4]}" route show | grep -c '198.19.102.0/24 dev weft0')" 1
t_eq "n3 saw n1 announce the new version" "$(peer_field 3 n1 .announced_bnl_version)" "$v2"

# --- pull: n5 is down during a push and catches up by itself
mesh_stop 5
"$BNL_SIGN" addsubnet "$M_DIR/mesh.bnl" n3 198.19.103.0/24 >/dev/null
sign_and_give 1
v3=$(signed_version "$M_DIR/mesh.signed")
kill -USR1 "${M_PID[1]}"
wait_for 15 all_at "$v3" 1 2 3 4 && t_ok "n1..n4 at $v3 while n5 is down" || t_bad "n1..n4 did not converge on $v3"
t_eq "n5's file still holds the old list" "$(signed_version "$M_DIR/n5/bnl.signed")" "$v2"
t0=$(date +%s)
mesh_start 5
if wait_for $((2 * PULL + 5)) all_at "$v3" 5; then
  t_ok "pull: restarted n5 caught up to $v3 within $(( $(date +%s) - t0 )) s (pull interval $PULL s)"
else
  t_bad "pull: n5 still at $(version_of 5)"
fi
wait_for 20 mesh_ready 5 || t_bad "n5 not ready after restart"

# --- relay: n1 cannot reach n5; the list gets there through the others
ip -n "${M_NS[1]}" route add blackhole 198.18.0.5/32
ip -n "${M_NS[5]}" route add blackhole 198.18.0.1/32
"$BNL_SIGN" addsubnet "$M_DIR/mesh.bnl" n4 198.19.104.0/24 >/dev/null
sign_and_give 1
v4=$(signed_version "$M_DIR/mesh.signed")
kill -USR1 "${M_PID[1]}"
wait_for 20 all_at "$v4" 1 2 3 4 5 && t_ok "relay: n5 got $v4 although n1 cannot reach it" \
  || t_bad "relay: n5 at $(version_of 5)"
from=$(grep -o "node list from n[0-9] (id [0-9]*): node list version $v4 applied" "$M_DIR/n5.log" | head -1)
[[ -n $from && $from != *"from n1 "* ]] && t_ok "  n5 took it from another node ($from)" || t_bad "  n5 log: '$from'"
ip -n "${M_NS[1]}" route del blackhole 198.18.0.5/32
ip -n "${M_NS[5]}" route del blackhole 198.18.0.1/32

# --- add a node: new namespace, certificate, list
mesh_add_netns 6
mesh_add_node 6
M_N=6
sign_and_give 1 6
v5=$(signed_version "$M_DIR/mesh.signed")
kill -USR1 "${M_PID[1]}"
wait_for 15 all_at "$v5" 1 2 3 4 5 && t_ok "add: every old node at $v5" || t_bad "add: not converged on $v5"
mesh_start 6
wait_for 20 mesh_ready 6 || t_bad "n6 not ready" "$(tail -5 "$M_DIR/n6.log")"
for i in 1 2 3 4 5; do
  t_run "add: n$i pings the new node n6" 0 in_ns "$i" ping -n -c 1 -W 10 198.19.6.1
done

# --- remove a node: its tunnel goes everywhere, its traffic is dropped, subnet-down ran
"$BNL_SIGN" remove "$M_DIR/mesh.bnl" n6 >/dev/null
sign_and_give 1
v6=$(signed_version "$M_DIR/mesh.signed")
u0=$(mesh_ctl 2 status --json | jq -r '.unattributed.drops.unknown_sender')
kill -USR1 "${M_PID[1]}"
wait_for 15 all_at "$v6" 1 2 3 4 5 && t_ok "remove: every remaining node at $v6" || t_bad "remove: not converged on $v6"
for i in 1 2 3 4 5; do
  has_peer "$i" n6 && t_bad "remove: n$i still lists n6" || t_ok "remove: n6 gone from n$i's peers"
done
t_eq "remove: subnet-down removed n6's route on n2" "$(ip -n "${M_NS[2]}" route show | grep -c '198.19.6.0/24')" 0
t_eq "remove: n6's pair state file is gone on n2" "$(ls "$M_DIR/n2/state" | grep -c 'pair-6\.')" 0
in_ns 6 ping -n -c 3 -i 0.2 -W 1 198.19.2.1 >/dev/null 2>&1
t_run "remove: n6 cannot reach n2 any more" 1 in_ns 6 ping -n -c 1 -W 2 198.19.2.1
u1=$(mesh_ctl 2 status --json | jq -r '.unattributed.drops.unknown_sender')
[[ $u1 -gt $u0 ]] && t_ok "remove: n2 drops n6's frames as unknown sender ($u0 -> $u1)" || t_bad "remove: unknown_sender $u0 -> $u1"
mesh_stop 6
M_N=5  # mesh_ready no longer expects a route to n6

# --- refusals: an authenticated node (n2's certificate) pushing bad lists to n3
keep=$(sha256sum <"$M_DIR/n3/bnl.signed")
refused_before=$(grep -c 'node list from n2 (id 2) refused' "$M_DIR/n3.log" || true)
push_as_n2() {  # FILE CLAIMED_VERSION [more tool args]
  local f=$1 v=$2; shift 2
  in_ns 2 "$PUSH_TOOL" --cert "$M_DIR/n2/n2.crt" --key "$M_DIR/n2/n2.key" --ca "$M_DIR/n2/ca.crt" --id 2 \
    --to 198.18.0.3:3406 --peer-name n3 --claim-version "$v" --data "$f" "$@"
}
"$BNL_SIGN" keygen --out "$M_DIR/rogue" >/dev/null
cp "$M_DIR/mesh.bnl" "$M_DIR/rogue.bnl"
"$BNL_SIGN" sign "$M_DIR/rogue.bnl" --key "$M_DIR/rogue.key" --out "$M_DIR/rogue.signed" >/dev/null
t_run "refuse: a list signed by an untrusted key" 0 push_as_n2 "$M_DIR/rogue.signed" $((v6 + 10))
wait_for 5 grep -q 'node list from n2 (id 2) refused.*key' "$M_DIR/n3.log" && t_ok "  n3 logs the untrusted key, naming n2" \
  || t_bad "  no refusal line" "$(grep 'node list from n2' "$M_DIR/n3.log" | tail -2)"
t_run "refuse: an older list" 0 push_as_n2 "$M_DIR/v2.signed" $((v6 + 10))
cp "$M_DIR/mesh.bnl" "$M_DIR/equal.bnl"
sed -i "s/^version = .*/version = $((v6 - 1))/" "$M_DIR/equal.bnl"
"$BNL_SIGN" addsubnet "$M_DIR/equal.bnl" n1 198.19.201.0/24 >/dev/null
"$BNL_SIGN" sign "$M_DIR/equal.bnl" --key "$M_DIR/admin.key" --out "$M_DIR/equal.signed" >/dev/null
t_eq "  (the crafted list has the mesh's version $v6)" "$(signed_version "$M_DIR/equal.signed")" "$v6"
t_run "refuse: an equal version with other content" 0 push_as_n2 "$M_DIR/equal.signed" $((v6 + 10))
wait_for 5 grep -q 'node list from n2 (id 2) refused: conflict' "$M_DIR/n3.log" && t_ok "  n3 logs the conflict" \
  || t_bad "  no conflict line" "$(grep 'node list from n2' "$M_DIR/n3.log" | tail -2)"
head -c $(( $(stat -c %s "$M_DIR/mesh.signed") / 2 )) "$M_DIR/mesh.signed" >"$M_DIR/truncated.signed"
t_run "refuse: a truncated list" 0 push_as_n2 "$M_DIR/truncated.signed" $((v6 + 10))
t_run "refuse: 1000 pushes of garbage" 0 push_as_n2 /dev/null $((v6 + 10)) --garbage --count 1000
# A signature block naming a long "algorithm" of terminal escapes: the
# refusal quotes it escaped and bounded.
python3 - "$M_DIR/mesh.signed" "$M_DIR/escapes.signed" <<'PY'
import sys
body = open(sys.argv[1], 'rb').read()
bad = b'algorithm = \x1b]0;owned\x07' + b'A' * 100000
open(sys.argv[2], 'wb').write(body.replace(b'algorithm = ed25519', bad, 1))
PY
t_run "refuse: an algorithm of terminal escapes, 100 kB long" 0 push_as_n2 "$M_DIR/escapes.signed" $((v6 + 10))
wait_for 5 grep -qF "unknown algorithm '\x1b]0;owned\x07AAAA" "$M_DIR/n3.log" && t_ok "  n3 logs it escaped" \
  || t_bad "  no escaped refusal" "$(grep 'node list from n2' "$M_DIR/n3.log" | tail -1 | head -c 300)"
t_eq "  and no raw escape or overlong line reaches the log" \
  "$(LC_ALL=C grep -c -e $'\x1b' -e '.\{1000\}' "$M_DIR/n3.log")" 0
t_eq "n3 still holds its list on disk" "$(sha256sum <"$M_DIR/n3/bnl.signed")" "$keep"
t_eq "n3 still reports version $v6" "$(version_of 3)" "$v6"
t_run "n3 still carries traffic (ping n3 -> n1)" 0 in_ns 3 ping -n -c 2 -i 0.2 -W 5 198.19.1.1
t_run "and n2 -> n3" 0 in_ns 2 ping -n -c 2 -i 0.2 -W 5 198.19.3.1
# rogue key, older, equal with other content, truncated, 1000 garbage, escapes: 1005 lists
refused=$(( $(grep -c 'node list from n2 (id 2) refused' "$M_DIR/n3.log" || true) - refused_before ))
t_eq "every bad list refused with one log line" "$refused" 1005
# With the default list-ask-interval (n4), a node that keeps pushing is
# asked once; the next push within 10 s is answered busy, unread.
refused4=$(grep -c 'node list from n2 (id 2) refused' "$M_DIR/n4.log" || true)
t_run "n4: two garbage pushes from n2 at once" 0 in_ns 2 "$PUSH_TOOL" --cert "$M_DIR/n2/n2.crt" \
  --key "$M_DIR/n2/n2.key" --ca "$M_DIR/n2/ca.crt" --id 2 --to 198.18.0.4:3406 --peer-name n4 \
  --claim-version $((v6 + 10)) --data /dev/null --garbage --count 2
t_contains "  the first is asked for" "$T_OUT" "exchange 1: hello version $v6; asked (holds $v6); sent "
t_contains "  the second is answered busy" "$T_OUT" \
  "exchange 2: hello version $v6; sent ERROR busy: asked you for a node list a moment ago; try later instead of asking"
wait_for 5 grep -q 'not asking now: asked it [0-9]* ms ago' "$M_DIR/n4.log" && t_ok "  n4 logs why it did not ask" \
  || t_bad "  no 'not asking now' line" "$(grep 'node list' "$M_DIR/n4.log" | tail -2)"
t_eq "  n4 refused one list, not two" \
  "$(( $(grep -c 'node list from n2 (id 2) refused' "$M_DIR/n4.log" || true) - refused4 ))" 1

# --- re-pin: n5's key leaked; a new certificate and pin revoke the old keys at once
mv "$M_DIR/ca/nodes/n5.crt" "$M_DIR/n5-old.crt"; mv "$M_DIR/ca/nodes/n5.key" "$M_DIR/n5-old.key"
"$WEFT_CA" issue "$M_DIR/ca" n5 >/dev/null
new_pin=$("$WEFT_CA" fingerprint "$M_DIR/ca/nodes/n5.crt")
"$BNL_SIGN" modify "$M_DIR/mesh.bnl" n5 pin="$new_pin" >/dev/null
sign_and_give 1
v7=$(signed_version "$M_DIR/mesh.signed")
t_run "before: n1 -> n5" 0 in_ns 1 ping -n -c 1 -W 5 198.19.5.1
kill -USR1 "${M_PID[1]}"
wait_for 15 all_at "$v7" 1 2 3 4 && t_ok "re-pin: n1..n4 at $v7" || t_bad "re-pin: not converged on $v7"
t_eq "re-pin: n1 holds no keys for n5 any more" "$(peer_field 1 n5 .epoch)" null
t_run "re-pin: n1 -> n5 fails while n5 holds the revoked certificate" 1 in_ns 1 ping -n -c 2 -i 0.5 -W 2 198.19.5.1
# Either direction counts: n1 dialling n5 ("with n5 ...") or n5 dialling n1
# ("refused <addr>"); which comes first depends on timers on both sides.
# Both name the old certificate's fingerprint against the new pin.
old_pin=$("$WEFT_CA" fingerprint "$M_DIR/n5-old.crt")
wait_for 10 grep -qF "does not match the node list's pin: node n5 certificate $old_pin, pinned $new_pin" "$M_DIR/n1.log" \
  && t_ok "re-pin: n1 refuses n5's old certificate" \
  || t_bad "re-pin: no refusal" "$(grep -e 'refused' -e 'pin' "$M_DIR/n1.log" | tail -2)"
mesh_stop 5
cp "$M_DIR/ca/nodes/n5.crt" "$M_DIR/ca/nodes/n5.key" "$M_DIR/n5/"
mesh_start 5
wait_for 20 mesh_ready 5 || t_bad "n5 not ready with its new certificate"
t_run "re-pin: with its new certificate n5 is back (n1 -> n5)" 0 in_ns 1 ping -n -c 1 -W 10 198.19.5.1
wait_for 15 all_at "$v7" 5 && t_ok "re-pin: n5 pulled $v7" || t_bad "re-pin: n5 at $(version_of 5)"

# --- renegotiate and weftctl errors against real daemons
e0=$(peer_field 1 n2 .epoch)
[[ $e0 =~ ^[0-9]+$ ]] && t_ok "n1 reports an epoch with n2 ($e0)" || t_bad "n1 reports no epoch with n2: '$e0'"
t_run "weftctl renegotiate n2 on n1" 0 mesh_ctl 1 renegotiate n2
# epoch_above N: n1's epoch with n2 is a number greater than N (null or
# empty while renegotiating counts as not yet).
epoch_above() { local e; e=$(peer_field 1 n2 .epoch); [[ $e =~ ^[0-9]+$ && $1 =~ ^[0-9]+$ ]] && ((e > $1)); }
wait_for 10 epoch_above "$e0" \
  && t_ok "  a new epoch with n2 (was $e0)" || t_bad "  epoch still $(peer_field 1 n2 .epoch)"
t_run "weftctl renegotiate of an unknown node fails" 1 mesh_ctl 1 renegotiate nosuch
t_contains "  and says so" "$T_ERR" nosuch
chmod 0711 "$M_DIR"
t_run "a non-root user cannot use the control socket" 3 setpriv --reuid=65534 --regid=65534 --clear-groups \
  "$WEFTCTL" -s "$M_DIR/n1.sock" status
t_contains "  permission denied" "$T_ERR" "ermission"
chmod 0700 "$M_DIR"
t_eq "the socket is 0600" "$(stat -c %a "$M_DIR/n1.sock")" 600
mesh_stop 4
t_run "weftctl against a stopped daemon" 3 mesh_ctl 4 status
t_contains "  says so" "$T_ERR" "n4.sock"

mesh_check_reports
t_finish
