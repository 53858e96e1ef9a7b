#!/usr/bin/env bash
# weft-nscheck against real DNS responders on loopback addresses: one that
# answers, one that is silent, one that sends garbage, one that answers with
# the wrong id, one that answers only while a flag file exists.  Checks the
# rewritten file byte for byte, master order, the no-change case, first-run
# master creation, the all-dead case, the deadline, symlinks (and their
# loops), the owner and ACL kept, a master without a nameserver, the run
# lock and usage errors.
set -uo pipefail
SRC=${WEFT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${WEFT_BUILD_DIR:-$SRC/build}
source "$SRC/test/lib/assert.sh"

B=$BUILD/cron/weft-nscheck
[[ -x $B ]] || { t_bad "$B not built"; t_finish; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }

# --- the responders: one process, one UDP socket per address
cat >"$T_TMP/responder.py" <<'PY'
import os, select, socket, struct, sys
port, flag = int(sys.argv[1]), sys.argv[2]
modes = {"127.0.0.2": "answer", "127.0.0.3": "silent", "127.0.0.4": "garbage",
         "127.0.0.5": "wrong-id", "127.0.0.6": "answer", "127.0.0.7": "answer-if-flag",
         "::1": "answer"}
socks = {}
for addr, mode in modes.items():
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    try:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((addr, port))
    except OSError as e:
        if fam == socket.AF_INET6:
            continue  # no IPv6 here: that check is skipped
        sys.stderr.write("bind %s:%d: %s\n" % (addr, port, e))
        sys.exit(1)
    socks[s] = mode

def question_end(q):
    i = 12
    while q[i] != 0:
        i += 1 + q[i]
    return i + 5

def answer(q, qid):
    qe = question_end(q)
    # NS record for the question name (a pointer to offset 12) -> a.root.test.
    rdata = b"\x01a\x04root\x04test\x00"
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 2, 1, 3600, len(rdata)) + rdata
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q[12:qe] + rr

print("ready", flush=True)
while True:
    for s in select.select(list(socks), [], [])[0]:
        q, peer = s.recvfrom(4096)
        if len(q) < 17:
            continue
        qid, mode = struct.unpack("!H", q[:2])[0], socks[s]
        if mode == "answer-if-flag":
            mode = "answer" if os.path.exists(flag) else "silent"
        if mode == "answer":
            s.sendto(answer(q, qid), peer)
        elif mode == "wrong-id":
            s.sendto(answer(q, qid ^ 0x5555), peer)
        elif mode == "garbage":
            # Passes the id, flags and question checks, then claims five
            # answers it does not carry.
            s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 5, 0, 0) + q[12:question_end(q)] + b"\xde\xad", peer)
PY

RESP_PID=
cleanup() { [[ -n $RESP_PID ]] && kill "$RESP_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T_TMP"; }
trap cleanup EXIT
FLAG=$T_TMP/flag
PORT=
for try in 1 2 3 4 5; do
  p=$((20000 + RANDOM % 20000))
  coproc RESP { exec python3 "$T_TMP/responder.py" "$p" "$FLAG" 2>&1; }
  RESP_PID=$RESP_PID
  line=
  read -r -t 10 line <&"${RESP[0]}" || true
  if [[ $line == ready ]]; then PORT=$p; break; fi
  kill "$RESP_PID" 2>/dev/null; wait "$RESP_PID" 2>/dev/null; RESP_PID=
done
[[ -n $PORT ]] || { t_bad "could not start the DNS responders"; t_finish; exit 1; }
t_ok "responders on 127.0.0.2-7 port $PORT"

# Short probes: the silent server costs one timeout per run.
QUICK=(--timeout 300 --attempts 1 --deadline 3000 --log stderr --log-level info)
FAST=(--port "$PORT" "${QUICK[@]}")
D=$T_TMP/main
mkdir "$D"
R=$D/resolv.conf M=$D/resolv.conf-master

# Master order is deliberately not sorted: .6 before .2.
cat >"$R" <<'CONF'
# written by hand
search example.test corp.test
nameserver 127.0.0.6
options timeout:1 attempts:2

nameserver	127.0.0.3
nameserver 127.0.0.7
; a comment between
nameserver 127.0.0.2  
nameserver 127.0.0.4
nameserver 127.0.0.5
options rotate
CONF
chmod 0644 "$R"
original=$(<"$R")
# What resolv.conf must hold when only .6 and .2 answer, and with .7 too.
want_62=$(grep -v -e 127.0.0.3 -e 127.0.0.4 -e 127.0.0.5 -e 127.0.0.7 "$R")
want_672=$(grep -v -e 127.0.0.3 -e 127.0.0.4 -e 127.0.0.5 "$R")

# --- first run: master made from resolv.conf, then the dead ones dropped
t_run "first run" 0 "$B" --resolv "$R" --master "$M" "${FAST[@]}"
[[ -f $M ]] && t_ok "  master created" || t_bad "  master not created"
t_eq "  master is the original resolv.conf" "$(<"$M")" "$original"
t_contains "  logs the creation" "$T_ERR" "created $M"
t_eq "  resolv.conf keeps every other line, answering servers in master order" "$(<"$R")" "$want_62"
t_contains "  logs the silent server" "$T_ERR" "nameserver 127.0.0.3 stopped answering; resolv.conf now lists: 127.0.0.6 127.0.0.2"
t_contains "  logs the garbage server" "$T_ERR" "nameserver 127.0.0.4 stopped answering"
t_contains "  logs the wrong-id server" "$T_ERR" "nameserver 127.0.0.5 stopped answering"
t_contains "  garbage is not an answer" "$T_ERR" "127.0.0.4: invalid reply (malformed record)"
t_contains "  a wrong id is not an answer" "$T_ERR" "127.0.0.5: invalid reply (id does not match the query)"
t_eq "  mode kept" "$(stat -c %a "$R")" 644

# --- second run, same state: no write at all
before=$(stat -c '%i %y' "$R")
sleep 0.05
t_run "second run, nothing changed" 0 "$B" --resolv "$R" --master "$M" "${FAST[@]}"
t_eq "  resolv.conf not rewritten (inode, mtime)" "$(stat -c '%i %y' "$R")" "$before"
if [[ $T_ERR == *"stopped answering"* || $T_ERR == *"answers again"* ]]; then t_bad "  logs a change that did not happen" "$T_ERR"
else t_ok "  logs no change"; fi
ls "$D" | grep -q '\.tmp\.' && t_bad "  temporary file left behind" || t_ok "  no temporary file left"

# --- dry run prints the result and writes nothing
t_run "dry run" 0 "$B" --resolv "$R" --master "$M" "${FAST[@]}" --dry-run
t_eq "  prints the file" "$T_OUT" "$want_62"
t_eq "  writes nothing" "$(stat -c '%i %y' "$R")" "$before"

# --- a server comes back: restored in its master position
touch "$FLAG"
t_run "server .7 comes back" 0 "$B" --resolv "$R" --master "$M" "${FAST[@]}"
t_eq "  listed between .6 and .2" "$(<"$R")" "$want_672"
t_contains "  logged" "$T_ERR" "nameserver 127.0.0.7 answers again; resolv.conf now lists: 127.0.0.6 127.0.0.7 127.0.0.2"
rm -f "$FLAG"
t_run "server .7 goes away again" 0 "$B" --resolv "$R" --master "$M" "${FAST[@]}"
t_eq "  dropped again" "$(<"$R")" "$want_62"

# --- all dead (nothing listens on that port: port unreachable at once)
DEAD_PORT=$((PORT == 65000 ? 65001 : 65000))
t_run "all dead" 3 "$B" --resolv "$R" --master "$M" "${QUICK[@]}" --port "$DEAD_PORT"
t_eq "  resolv.conf lists the master's servers" "$(<"$R")" "$original"
t_contains "  warning logged" "$T_ERR" "warning: no nameserver answered"
t_contains "  names the master list" "$T_ERR" "resolv.conf keeps the master list: 127.0.0.6 127.0.0.3 127.0.0.7 127.0.0.2 127.0.0.4 127.0.0.5"
t_run "back to normal" 0 "$B" --resolv "$R" --master "$M" "${FAST[@]}"
t_eq "  pruned again" "$(<"$R")" "$want_62"

# --- all dead with only bad servers, on the first run
D2=$T_TMP/dead; mkdir "$D2"
printf 'nameserver 127.0.0.3\nnameserver 127.0.0.4\nnameserver 127.0.0.5\n' >"$D2/resolv.conf"
t_run "silent, garbage and wrong-id only" 3 "$B" --resolv "$D2/resolv.conf" --master "$D2/master" "${FAST[@]}"
t_eq "  resolv.conf unchanged" "$(<"$D2/resolv.conf")" "$(<"$D2/master")"

# --- the deadline bounds the run: silent servers, long timeouts
D3=$T_TMP/deadline; mkdir "$D3"
printf 'nameserver 127.0.0.3\nnameserver 127.0.0.7\n' >"$D3/resolv.conf"
start=$(date +%s%N)
t_run "deadline 800 ms with 5 s timeouts" 3 "$B" --resolv "$D3/resolv.conf" --master "$D3/master" \
  --port "$PORT" --timeout 5000 --attempts 3 --deadline 800 --log stderr
ms=$((($(date +%s%N) - start) / 1000000))
((ms >= 750 && ms < 2500)) && t_ok "  took ${ms} ms (deadline 800)" || t_bad "  took ${ms} ms, wanted about 800"

# --- attempts: a second query goes out after the first times out
start=$(date +%s%N)
t_run "2 attempts of 200 ms" 3 "$B" --resolv "$D3/resolv.conf" --master "$D3/master" \
  --port "$PORT" --timeout 200 --attempts 2 --deadline 5000 --log stderr
ms=$((($(date +%s%N) - start) / 1000000))
((ms >= 380 && ms < 2000)) && t_ok "  took ${ms} ms (2 x 200)" || t_bad "  took ${ms} ms, wanted about 400"

# --- a symlinked resolv.conf is written through, mode kept
D4=$T_TMP/link; mkdir -p "$D4/run"
printf 'search x.test\nnameserver 127.0.0.3\nnameserver 127.0.0.2\n' >"$D4/run/resolv.conf"
chmod 0640 "$D4/run/resolv.conf"
[[ $(id -u) == 0 ]] && chown 12345:12346 "$D4/run/resolv.conf"  # as a resolver daemon's file
owner=$(stat -c %u:%g "$D4/run/resolv.conf")
acl=
if ! command -v setfacl >/dev/null; then echo "skip  ACL kept (no setfacl)"
elif ! setfacl -m u:12345:r "$D4/run/resolv.conf" 2>"$T_TMP/setfacl.err"; then
  echo "skip  ACL kept (no ACLs here: $(<"$T_TMP/setfacl.err"))"
else acl=$(getfacl -cp "$D4/run/resolv.conf"); fi
ln -s run/resolv.conf "$D4/resolv.conf"
t_run "symlinked resolv.conf" 0 "$B" --resolv "$D4/resolv.conf" --master "$D4/master" "${FAST[@]}"
[[ -L $D4/resolv.conf ]] && t_ok "  still a symlink" || t_bad "  the symlink was replaced"
t_eq "  target rewritten" "$(<"$D4/run/resolv.conf")" "$(printf 'search x.test\nnameserver 127.0.0.2')"
t_eq "  target mode kept" "$(stat -c %a "$D4/run/resolv.conf")" 640
t_eq "  target owner kept" "$(stat -c %u:%g "$D4/run/resolv.conf")" "$owner"
[[ -n $acl ]] && t_eq "  target ACL kept" "$(getfacl -cp "$D4/run/resolv.conf")" "$acl"

# --- a symlink loop: an error, nothing written, the links stay
D10=$T_TMP/loop; mkdir "$D10"
ln -s lb "$D10/la"; ln -s la "$D10/lb"
printf 'nameserver 127.0.0.2\nnameserver 127.0.0.3\n' >"$D10/master"
t_run "resolv.conf in a symlink loop" 1 "$B" --resolv "$D10/la" --master "$D10/master" "${FAST[@]}"
t_contains "  says why" "$T_ERR" "error: cannot follow $D10/la: Too many levels of symbolic links"
[[ -L $D10/la && -L $D10/lb ]] && t_ok "  both links stay links" || t_bad "  a link was replaced"
t_eq "  nothing else written" "$(ls "$D10" | tr '\n' ' ')" "la lb master "

# --- --init-master: create if missing, never overwrite, touch nothing else
D5=$T_TMP/init; mkdir "$D5"
printf 'nameserver 127.0.0.3\n' >"$D5/resolv.conf"
t_run "--init-master" 0 "$B" --resolv "$D5/resolv.conf" --master "$D5/master" --init-master --log stderr
t_eq "  master made" "$(<"$D5/master")" "nameserver 127.0.0.3"
t_eq "  master mode" "$(stat -c %a "$D5/master")" 644
printf 'nameserver 127.0.0.2\n' >"$D5/resolv.conf"
t_run "--init-master again" 0 "$B" --resolv "$D5/resolv.conf" --master "$D5/master" --init-master --log stderr
t_eq "  master kept" "$(<"$D5/master")" "nameserver 127.0.0.3"
t_eq "  resolv.conf untouched" "$(<"$D5/resolv.conf")" "nameserver 127.0.0.2"

# --- a malformed master is refused with its line, and nothing is written
printf '# x\nnameserver 127.0.0.2\nnameserver 127.0.0.300\n' >"$D5/master"
t_run "malformed master" 1 "$B" --resolv "$D5/resolv.conf" --master "$D5/master" "${FAST[@]}"
t_contains "  names the line" "$T_ERR" "line 3: malformed nameserver address"
t_eq "  resolv.conf untouched" "$(<"$D5/resolv.conf")" "nameserver 127.0.0.2"
printf 'nameserver 127.0.0.2 # primary\n' >"$D5/master"
t_run "text after the address" 1 "$B" --resolv "$D5/resolv.conf" --master "$D5/master" "${FAST[@]}"
t_contains "  says so" "$T_ERR" "line 1: text after the nameserver address"
rm "$D5/master"; printf 'nameserver fe80::1%%bad/name\n' >"$D5/resolv.conf"
t_run "first run from a malformed resolv.conf" 1 "$B" --resolv "$D5/resolv.conf" --master "$D5/master" "${FAST[@]}"
t_contains "  says why" "$T_ERR" "cannot make the master from"
[[ -e $D5/master ]] && t_bad "  a master was made" || t_ok "  no master made"

# --- no nameserver: never a master or a resolv.conf without one
D9=$T_TMP/empty; mkdir "$D9"
printf '# generated at boot: no resolver yet\n' >"$D9/resolv.conf"
t_run "--init-master from a resolv.conf without a nameserver" 1 "$B" --resolv "$D9/resolv.conf" \
  --master "$D9/master" --init-master --log stderr
t_contains "  says why" "$T_ERR" "error: $D9/resolv.conf lists no nameserver: not making the master $D9/master from it"
[[ -e $D9/master ]] && t_bad "  a master was made" || t_ok "  no master made"
t_run "first run from a resolv.conf without a nameserver" 1 "$B" --resolv "$D9/resolv.conf" --master "$D9/master" \
  "${FAST[@]}"
t_contains "  says why" "$T_ERR" "error: $D9/resolv.conf lists no nameserver: not making the master $D9/master from it"
[[ -e $D9/master ]] && t_bad "  a master was made" || t_ok "  no master made"
t_eq "  resolv.conf untouched" "$(<"$D9/resolv.conf")" "# generated at boot: no resolver yet"
printf '# resolvers\nsearch x.test\n' >"$D9/master"
printf 'nameserver 127.0.0.2\n' >"$D9/resolv.conf"
t_run "a master without a nameserver" 1 "$B" --resolv "$D9/resolv.conf" --master "$D9/master" "${FAST[@]}"
t_contains "  says why" "$T_ERR" "error: $D9/master lists no nameserver: $D9/resolv.conf left as it is"
t_eq "  resolv.conf untouched" "$(<"$D9/resolv.conf")" "nameserver 127.0.0.2"
t_run "  nor in a dry run" 1 "$B" --resolv "$D9/resolv.conf" --master "$D9/master" "${FAST[@]}" --dry-run
t_eq "  which prints nothing" "$T_OUT" ""

# --- one run at a time: a lock on MASTER.lock
D11=$T_TMP/lock; mkdir "$D11"
printf 'nameserver 127.0.0.2\nnameserver 127.0.0.3\n' >"$D11/master"
printf 'nameserver 127.0.0.3\n' >"$D11/resolv.conf"
exec {lockfd}>"$D11/master.lock"
flock -n "$lockfd" || t_bad "could not take the test's lock"
t_run "a run while another holds the lock" 4 "$B" --resolv "$D11/resolv.conf" --master "$D11/master" "${FAST[@]}"
t_contains "  says why" "$T_ERR" "warning: another weft-nscheck holds $D11/master.lock: this run does nothing"
t_eq "  resolv.conf untouched" "$(<"$D11/resolv.conf")" "nameserver 127.0.0.3"
t_run "  --init-master too" 4 "$B" --resolv "$D11/resolv.conf" --master "$D11/master" --init-master --log stderr
t_run "  a dry run takes no lock" 0 "$B" --resolv "$D11/resolv.conf" --master "$D11/master" "${FAST[@]}" --dry-run
exec {lockfd}>&-
rm "$D11/master.lock"
# Two real runs: the first holds the lock while it waits for the silent .3.
"$B" --resolv "$D11/resolv.conf" --master "$D11/master" --port "$PORT" --timeout 1500 --attempts 1 \
  --deadline 3000 --log stderr 2>"$T_TMP/first.err" &
first=$!
# Held once /proc/locks lists its inode (taking the lock to test it could
# make the first run find it held).
wait_locked() {
  local i ino
  for ((i = 0; i < 150; i++)); do
    ino=$(stat -c %i "$1" 2>/dev/null) && grep -q ":$ino " /proc/locks && return 0
    sleep 0.02
  done
  return 1
}
wait_locked "$D11/master.lock" || t_bad "  the first run never took the lock"
t_run "a second run during the first" 4 "$B" --resolv "$D11/resolv.conf" --master "$D11/master" "${FAST[@]}"
wait "$first"; rc=$?
t_eq "  the first run completes" "$rc" 0
t_eq "  and writes" "$(<"$D11/resolv.conf")" "nameserver 127.0.0.2"
t_eq "  the lock file is 0600" "$(stat -c %a "$D11/master.lock")" 600

# --- resolv.conf that is the master under another name: refused, neither file touched
D8=$T_TMP/same; mkdir "$D8"
printf 'nameserver 127.0.0.3\nnameserver 127.0.0.7\n' >"$D8/master"
ln -s master "$D8/resolv.conf"
t_run "resolv.conf a symlink to the master" 1 "$B" --resolv "$D8/resolv.conf" --master "$D8/master" "${FAST[@]}"
t_contains "  says why" "$T_ERR" "are the same file"
t_eq "  master untouched" "$(<"$D8/master")" $'nameserver 127.0.0.3\nnameserver 127.0.0.7'
t_run "the same path spelt twice (a usage error)" 2 "$B" --resolv "$D8//master" --master "$D8/master" "${FAST[@]}"
t_eq "  master untouched" "$(<"$D8/master")" $'nameserver 127.0.0.3\nnameserver 127.0.0.7'

# --- IPv6 (skipped where ::1 is unavailable)
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0))' 2>/dev/null; then
  D6=$T_TMP/v6; mkdir "$D6"
  printf 'nameserver ::1\nnameserver 127.0.0.3\n' >"$D6/resolv.conf"
  t_run "IPv6 nameserver" 0 "$B" --resolv "$D6/resolv.conf" --master "$D6/master" "${FAST[@]}"
  t_eq "  ::1 kept" "$(<"$D6/resolv.conf")" "nameserver ::1"
else
  echo "skip  IPv6 (no ::1)"
fi

# --- ping: every loopback address answers ICMP echo, even the silent DNS one
if "$B" --resolv /dev/null --master /dev/null --help >/dev/null && { [[ $(id -u) == 0 ]] ||
   python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)' 2>/dev/null; }; then
  D7=$T_TMP/ping; mkdir "$D7"
  printf 'nameserver 127.0.0.3\n' >"$D7/resolv.conf"
  t_run "--probe ping" 0 "$B" --resolv "$D7/resolv.conf" --master "$D7/master" "${FAST[@]}" --probe ping
  t_contains "  alive by ping" "$T_ERR" "nameserver 127.0.0.3: answered ping"
  t_run "--probe dns-or-ping" 0 "$B" --resolv "$D7/resolv.conf" --master "$D7/master" "${FAST[@]}" --probe dns-or-ping
  t_contains "  alive by ping, not dns" "$T_ERR" "nameserver 127.0.0.3: ping answered ping"
  t_run "--probe dns" 3 "$B" --resolv "$D7/resolv.conf" --master "$D7/master" "${FAST[@]}" --probe dns
else
  echo "skip  ping (neither root nor ping sockets)"
fi

# --- usage errors (every run names temporary files: never the real ones)
for bad in "--timeout 0" "--timeout x" "--deadline 0" "--attempts 0" "--attempts 11" "--port 0" \
           "--port 65536" "--probe icmp" "--log file" "--log-level loud" "--query a..b" \
           "--query bad!name" "--bogus" "extra-argument" "--query"; do
  # shellcheck disable=SC2086
  t_run "usage error: $bad" 2 "$B" --master "$T_TMP/none" --resolv "$T_TMP/none2" --dry-run $bad
done
t_contains "  says what is wrong" "$T_ERR" "weft-nscheck:"
t_run "same path twice" 2 "$B" --resolv "$T_TMP/x" --master "$T_TMP/x"
t_run "--help" 0 "$B" --help
t_contains "  lists --deadline" "$T_OUT" "--deadline"
t_contains "  documents exit status" "$T_OUT" "3 no nameserver answered"
t_contains "  and the lock" "$T_OUT" "4 another run holds the lock MASTER.lock"

t_finish
