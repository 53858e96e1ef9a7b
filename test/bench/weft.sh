# weft.sh - weft as a case of the peer benchmark (../shared/bench/peers.sh).
#
# Two real weftd daemons, one per namespace, with a certificate authority
# and per-node certificates from pki/weft-ca and a node list signed with
# bnl-sign (both nodes pinned), made fresh for every case and round.
#   PEERS_CASES=test/bench/weft.sh /work/shared/bench/peers.sh \
#       -c "raw weft weft-chacha nebula fastd wireguard-go"
# Cases: weft (AES-256-GCM), weft-chacha (ChaCha20-Poly1305), weft-nooffload
# (AES-256-GCM with offload = off: the fallback path).
# WEFT_BUILD_DIR picks the build (default: build-rel, then build, next to
# this file's tree).  Node a is 198.19.0.1/32, node b 198.19.0.2/32 in the
# list; the up hook puts the harness's overlay address (/24) on the TUN.
# WEFT_SETTLE=S (diagnostic, default 0): wait S seconds after the TUNs exist,
# so the idle RTT is measured after the start-up negotiations have settled.
# WEFT_LOG_LEVEL=debug (diagnostic, default notice): both daemons log their
# negotiations and node-list exchanges to the case's weft-a.log/weft-b.log.

WEFT_BENCH_ROOT=${WEFT_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
if [[ -z ${WEFT_BUILD_DIR:-} ]]; then
  if [[ -x $WEFT_BENCH_ROOT/build-rel/src/app/weftd ]]; then WEFT_BUILD_DIR=$WEFT_BENCH_ROOT/build-rel
  else WEFT_BUILD_DIR=$WEFT_BENCH_ROOT/build; fi
fi

# weft_case CIPHER OFFLOAD NOTE
weft_case() {
  local cipher=$1 offload=$2 d=$CASEDIR n ul ol i
  local weftd=$WEFT_BUILD_DIR/src/app/weftd sign=$WEFT_BUILD_DIR/bnl/bnl-sign ca=$WEFT_BENCH_ROOT/pki/weft-ca
  [[ -x $weftd && -x $sign ]] || { log "weft: build weftd and bnl-sign in $WEFT_BUILD_DIR first"; return 1; }
  CASE_NOTE="$3, MTU $OVERLAY_MTU, offload $offload"
  {
    "$ca" init "$d/ca" --name bench &&
      "$sign" keygen --out "$d/admin" &&
      "$sign" new "$d/list.bnl" --network bench
  } >"$d/pki.log" 2>&1 || return 1
  for n in a b; do
    if [[ $n == a ]]; then ul=$UL_A ol=$OL_A i=1; else ul=$UL_B ol=$OL_B i=2; fi
    mkdir -p "$d/$n"
    {
      "$ca" issue "$d/ca" "$n" &&
        cp "$d/ca/nodes/$n.crt" "$d/ca/nodes/$n.key" "$d/ca/ca.crt" "$d/admin.pub" "$d/$n/" &&
        "$sign" add "$d/list.bnl" "$n" id="$i" ipv4="$ul" subnet="$ol/32" \
          pin="$("$ca" fingerprint "$d/$n/$n.crt")"
    } >>"$d/pki.log" 2>&1 || return 1
    cat >"$d/$n/weft.conf" <<CONF
name = $n
interface = pbweft$n
cert = $n.crt
key = $n.key
ca = ca.crt
bnl = bnl.signed
bnl-key = admin.pub
state-dir = state
control-socket = $d/$n.sock
listen = $ul
log = stderr
log-level = ${WEFT_LOG_LEVEL:-notice}
mtu = $OVERLAY_MTU
ciphers = $cipher:10
offload = $offload
up = ip addr add $ol/24 dev \$TUNDEV && ip link set \$TUNDEV up
CONF
  done
  "$sign" sign "$d/list.bnl" --key "$d/admin.key" --out "$d/list.signed" >>"$d/pki.log" 2>&1 || return 1
  cp "$d/list.signed" "$d/a/bnl.signed" && cp "$d/list.signed" "$d/b/bnl.signed" || return 1
  spawn "$NS_B" weft-b "$weftd" -c "$d/b" -f
  spawn "$NS_A" weft-a "$weftd" -c "$d/a" -f
  wait_iface "$NS_A" pbwefta && wait_iface "$NS_B" pbweftb || return 1
  if [[ ${WEFT_SETTLE:-0} != 0 ]]; then
    CASE_NOTE+=", settled ${WEFT_SETTLE}s"
    sleep "$WEFT_SETTLE"
  fi
}

case_weft_up() { weft_case aes-256-gcm auto "weft, AES-256-GCM"; }
case_weft_chacha_up() { weft_case chacha20-poly1305 auto "weft, ChaCha20-Poly1305"; }
case_weft_nooffload_up() { weft_case aes-256-gcm off "weft, AES-256-GCM"; }
