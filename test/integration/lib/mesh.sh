# mesh.sh - real weft meshes in network namespaces, for the integration
# tests.  Source it after test/lib/assert.sh.
#
# Layout for N nodes (i = 1..N), all names carrying this run's id:
#   namespace M_BR: bridge br0; namespace M_NS[i]: veth eth0 on the bridge
#   underlay 198.18.0.i/24 and 2001:db8:ff::i/64
#   overlay  subnets 198.19.i.0/24 and 2001:db8:i::/48; TUN weft0 holds
#            198.19.i.1 and 2001:db8:i::1, routes to the other subnets come
#            from the subnet-up hook
# Cleanup (daemons by PID, namespaces) runs on every exit path.

SRC=${WEFT_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BUILD=${WEFT_BUILD_DIR:-$SRC/build}
WEFTD=$BUILD/src/app/weftd
BNL_SIGN=$BUILD/bnl/bnl-sign
WEFTCTL=$BUILD/src/app/weftctl
WEFT_CA=$SRC/pki/weft-ca
FRAMES="python3 $SRC/test/integration/lib/frames.py"

M_ID=$$
M_BR=wf${M_ID}br
M_DIR=$(mktemp -d /tmp/weft-mesh.XXXXXX)
declare -a M_NS M_PID
M_AUX_PIDS=()

mesh_require_root() {
  if [[ $EUID -ne 0 || ! -c /dev/net/tun ]]; then
    echo "SKIP: needs root and /dev/net/tun"
    exit 77
  fi
  for t in ip ping python3 tcpdump openssl; do
    command -v "$t" >/dev/null || { echo "missing $t (scripts/deps.sh installs it)"; exit 1; }
  done
}

mesh_cleanup() {
  local p i
  for p in "${M_AUX_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for i in "${!M_PID[@]}"; do
    p=${M_PID[$i]}
    [[ -n $p ]] && kill -TERM "$p" 2>/dev/null
  done
  for i in "${!M_PID[@]}"; do mesh_wait_exit "${M_PID[$i]}" 5 || kill -KILL "${M_PID[$i]}" 2>/dev/null; done
  for p in "${M_AUX_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for i in "${!M_NS[@]}"; do ip netns del "${M_NS[$i]}" 2>/dev/null; done
  ip netns del "$M_BR" 2>/dev/null
  if [[ ${T_FAIL:-0} -gt 0 || -n ${KEEP:-} ]]; then echo "kept for inspection: $M_DIR"; else rm -rf "$M_DIR"; fi
  rm -rf "$T_TMP"
}
trap mesh_cleanup EXIT
trap 'exit 130' INT TERM

# mesh_wait_exit PID SECONDS: true once PID is gone (reaped if ours).
mesh_wait_exit() {
  local pid=$1 t=$2 i
  [[ -z $pid ]] && return 0
  for ((i = 0; i < t * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    sleep 0.1
  done
  return 1
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s, bounded.
wait_for() {
  local t=$1 i; shift
  for ((i = 0; i < t * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# mesh_setup N: namespaces, bridge, certificates, the signed list, configs.
mesh_setup() {
  local n=$1 i
  M_N=$n
  ip netns add "$M_BR"
  ip -n "$M_BR" link add br0 type bridge
  ip -n "$M_BR" link set br0 up
  ip -n "$M_BR" link set lo up
  for ((i = 1; i <= n; i++)); do mesh_add_netns "$i"; done
  "$WEFT_CA" init "$M_DIR/ca" --name mesh >/dev/null
  "$BNL_SIGN" keygen --out "$M_DIR/admin" >/dev/null
  "$BNL_SIGN" new "$M_DIR/mesh.bnl" --network mesh >/dev/null
  for ((i = 1; i <= n; i++)); do mesh_add_node "$i"; done
  mesh_sign
}

mesh_add_netns() {
  local i=$1 ns=wf${M_ID}n$1
  M_NS[$i]=$ns
  ip netns add "$ns"
  ip link add "wf${M_ID}v$i" type veth peer name "wf${M_ID}b$i"
  ip link set "wf${M_ID}v$i" netns "$ns"
  ip link set "wf${M_ID}b$i" netns "$M_BR"
  ip -n "$M_BR" link set "wf${M_ID}b$i" master br0 up
  ip -n "$ns" link set "wf${M_ID}v$i" name eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" addr add "198.18.0.$i/24" dev eth0
  ip -n "$ns" addr add "2001:db8:ff::$i/64" dev eth0 nodad
}

# mesh_add_node I: certificate, list entry (pinned), config dir n$I.
mesh_add_node() {
  local i=$1 d=$M_DIR/n$1
  mkdir -p "$d"
  "$WEFT_CA" issue "$M_DIR/ca" "n$i" >/dev/null
  cp "$M_DIR/ca/nodes/n$i.crt" "$M_DIR/ca/nodes/n$i.key" "$M_DIR/ca/ca.crt" "$M_DIR/admin.pub" "$d/"
  "$BNL_SIGN" add "$M_DIR/mesh.bnl" "n$i" id="$i" ipv4="198.18.0.$i" \
    subnet="198.19.$i.0/24" subnet="2001:db8:$i::/48" \
    pin="$("$WEFT_CA" fingerprint "$d/n$i.crt")" >/dev/null
  cat >"$d/weft.conf" <<CONF
# node n$i of the integration mesh
name = n$i
interface = weft0
cert = n$i.crt
key = n$i.key
ca = ca.crt
bnl = bnl.signed
bnl-key = admin.pub
state-dir = state
control-socket = $M_DIR/n$i.sock
log = $M_DIR/n$i.log
log-level = debug
keepalive = 0
up = ip addr add 198.19.$i.1/32 dev \$TUNDEV && ip -6 addr add 2001:db8:$i::1/128 dev \$TUNDEV nodad && ip link set \$TUNDEV up && ip route add 198.19.0.0/16 dev \$TUNDEV && ip -6 route add 2001:db8::/32 dev \$TUNDEV
subnet-up = ip route replace \$SUBNET dev \$TUNDEV
subnet-down = ip route del \$SUBNET dev \$TUNDEV
${M_EXTRA_CONF:-}
CONF
}

# mesh_sign [I...]: signs the list and hands it to nodes I... (default: every node).
mesh_sign() {
  local i nodes=("$@")
  "$BNL_SIGN" sign "$M_DIR/mesh.bnl" --key "$M_DIR/admin.key" --out "$M_DIR/mesh.signed" >/dev/null
  ((${#nodes[@]})) || for ((i = 1; i <= M_N; i++)); do nodes+=("$i"); done
  for i in "${nodes[@]}"; do cp "$M_DIR/mesh.signed" "$M_DIR/n$i/bnl.signed"; done
}

# mesh_start I: weftd in the foreground inside node I's namespace.
mesh_start() {
  local i=$1
  ip netns exec "${M_NS[$i]}" "$WEFTD" -c "$M_DIR/n$i" -f >>"$M_DIR/n$i.out" 2>&1 &
  M_PID[$i]=$!
}

# mesh_ready I: TUN up with its address, and a route to every other node.
mesh_ready() {
  local i=$1 j
  ip -n "${M_NS[$i]}" addr show dev weft0 2>/dev/null | grep -q "198.19.$i.1" || return 1
  for ((j = 1; j <= M_N; j++)); do
    [[ $j == "$i" ]] && continue
    ip -n "${M_NS[$i]}" route show 2>/dev/null | grep -q "198.19.$j.0/24 dev weft0" || return 1
  done
}

mesh_stop() {  # mesh_stop I [SIGNAL]
  local i=$1 sig=${2:-TERM}
  kill -"$sig" "${M_PID[$i]}" 2>/dev/null
  mesh_wait_exit "${M_PID[$i]}" 10
  local rc=$?
  M_PID[$i]=
  return $rc
}

in_ns() { local i=$1; shift; ip netns exec "${M_NS[$i]}" "$@"; }

# mesh_ctl I ARGS...: weftctl against node I's control socket, 5 s bound.
mesh_ctl() { local i=$1; shift; "$WEFTCTL" -s "$M_DIR/n$i.sock" -t 5 "$@"; }

# status_field I PEER FIELD: asks node I for its status (SIGUSR2) and prints
# FIELD ("rx", "replay", "auth_failed", ...) of the line for PEER ("n2", or
# "unattributed").  Prints 0 for a drop reason never counted.
status_field() {
  local i=$1 peer=$2 field=$3 log=$M_DIR/n$1.log before line
  before=$(grep -c 'status: node' "$log")
  kill -USR2 "${M_PID[$i]}"
  wait_for 5 bash -c "[[ \$(grep -c 'status: node' '$log') -gt $before ]]" || { echo "?"; return 1; }
  sleep 0.1
  if [[ $peer == unattributed ]]; then line=$(grep 'status: unattributed' "$log" | tail -1)
  else line=$(grep "status: peer $peer " "$log" | tail -1); fi
  case $field in
    rx) sed -E 's/.* rx ([0-9]+) pkts.*/\1/' <<<"$line" ;;
    tx) sed -E 's/.* tx ([0-9]+) pkts.*/\1/' <<<"$line" ;;
    epoch) sed -E 's/.* epoch ([0-9-]+).*/\1/' <<<"$line" ;;
    *) if [[ $line == *" $field="* ]]; then sed -E "s/.* $field=([0-9]+).*/\\1/" <<<"$line"; else echo 0; fi ;;
  esac
}

# start_capture I FILE FILTER: tcpdump on node I's underlay, returns once it
# is really capturing (it says "listening on"), bounded.  Sets CAPTURE_PID.
start_capture() {
  local i=$1 file=$2 filter=$3
  ip netns exec "${M_NS[$i]}" tcpdump -Z root --immediate-mode -i eth0 -U -n -w "$file" "$filter" 2>"$file.log" &
  CAPTURE_PID=$!
  M_AUX_PIDS+=("$CAPTURE_PID")
  wait_for 10 grep -q 'listening on' "$file.log"
}
stop_capture() {
  sleep 0.3
  kill -TERM "$CAPTURE_PID" 2>/dev/null
  mesh_wait_exit "$CAPTURE_PID" 5
}

# mesh_check_reports: a sanitizer report from any daemon (in the ASan+UBSan
# build of the suite) fails the test, even if the traffic looked fine.
mesh_check_reports() {
  local f hits
  for f in "$M_DIR"/n*.out; do
    [[ -e $f ]] || continue
    hits=$(grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|internal check failed' "$f" | head -3)
    if [[ -n $hits ]]; then t_bad "sanitizer or check report in ${f##*/}" "$hits"; else t_ok "no sanitizer report from ${f##*/}"; fi
  done
}
