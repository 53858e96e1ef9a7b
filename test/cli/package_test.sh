#!/usr/bin/env bash
# Packaging and install: the example weft.conf against a generated network,
# the systemd unit (systemd-analyze verify), `cpack -G DEB` from the build
# directory, the package's control fields, every path and mode it installs,
# its conffiles and maintainer scripts, and the postinst run against a
# scratch root (DPKG_ROOT).
#
# Fast: cpack runs in WEFT_BUILD_DIR (any build type) after building only
# the installed programs; it does not build the rest of the tree.
set -uo pipefail
SRC=${WEFT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${WEFT_BUILD_DIR:-$SRC/build}
source "$SRC/test/lib/assert.sh"
WEFTD=$BUILD/src/app/weftd
BNL_SIGN=$BUILD/bnl/bnl-sign
WEFT_CA=$SRC/pki/weft-ca

# --- the example weft.conf: every key documented, every commented default
# really the default, and all of it loads (weftd --check-config)
N=$T_TMP/net
mkdir -p "$N/alpha"
"$WEFT_CA" init "$N/ca" --name pkg >/dev/null
"$WEFT_CA" issue "$N/ca" alpha >/dev/null
"$BNL_SIGN" keygen --out "$N/admin" >/dev/null
"$BNL_SIGN" new "$N/pkg.bnl" --network pkg >/dev/null
"$BNL_SIGN" add "$N/pkg.bnl" alpha id=1 ipv4=198.18.0.1 subnet=198.19.1.0/24 >/dev/null
"$BNL_SIGN" sign "$N/pkg.bnl" --key "$N/admin.key" --out "$N/alpha/bnl.signed" >/dev/null
cp "$N/ca/nodes/alpha.crt" "$N/ca/nodes/alpha.key" "$N/ca/ca.crt" "$N/admin.pub" "$N/alpha/"
cp "$SRC/scripts/examples/weft.conf" "$N/alpha/weft.conf"
t_run "examples/weft.conf passes weftd --check-config on a generated network" 0 "$WEFTD" -c "$N/alpha" --check-config
described=$T_OUT
keys=$(sed -nE 's/^#? ?([a-z][a-z-]*) = .*/\1/p' <<<"$described" | sort -u)
missing=""
for k in $keys; do grep -qE "^(# )?$k = " "$SRC/scripts/examples/weft.conf" || missing+=" $k"; done
t_eq "every key weftd knows is in examples/weft.conf" "$missing" ""
defaults="interface bnl state-dir ciphers compression pull-interval mtu control-socket log log-level
  keepalive rekey-after rekey-messages rekey-grace max-connections handshake-timeout queue-packets hook-timeout
  list-ask-interval"
cp "$SRC/scripts/examples/weft.conf" "$N/alpha/weft.conf"
for k in $defaults; do sed -i -E "0,/^# ($k = )/s//\\1/" "$N/alpha/weft.conf"; done  # not [peer.beta]'s
t_run "  with every commented default uncommented it still loads" 0 "$WEFTD" -c "$N/alpha" --check-config
t_eq "  to exactly the same configuration (the comments state the defaults)" "$T_OUT" "$described"
sed -E 's/^# ([a-z][a-z-]* = )/\1/; s/^# (\[peer\.)/\1/' "$SRC/scripts/examples/weft.conf" >"$N/alpha/weft.conf"
t_run "  with every example line uncommented (hooks, listen, [peer.beta]) it loads" 0 "$WEFTD" -c "$N/alpha" --check-config
t_contains "  the per-peer section is read" "$T_OUT" "peer.beta.ciphers = chacha20-poly1305:10"

# --- shell scripts parse (sh -n; shellcheck when installed)
for f in "$SRC"/scripts/init.d/weft "$SRC"/scripts/hooks/* "$SRC"/cmake/debian/postinst \
         "$SRC"/cmake/debian/prerm "$SRC"/cmake/debian/postrm; do
  t_run "sh -n ${f#"$SRC"/}" 0 sh -n "$f"
  if command -v shellcheck >/dev/null; then t_run "  shellcheck" 0 shellcheck -s sh "$f"; fi
done

# --- the systemd unit
UNIT=$SRC/scripts/systemd/weft@.service
u=$(<"$UNIT")
for line in "Type=notify" "ExecStartPre=@SBINDIR@/weftd -c /etc/weft/%i --check-config" \
  "ExecStart=@SBINDIR@/weftd -f -c /etc/weft/%i" 'ExecReload=/bin/kill -HUP $MAINPID' \
  "Restart=on-failure" "StartLimitIntervalSec=120" "StartLimitBurst=10" "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW" "DeviceAllow=/dev/net/tun rw" \
  "ProtectSystem=strict" "ReadWritePaths=/etc/weft/%i" "RuntimeDirectory=weft" "RuntimeDirectoryPreserve=yes" \
  "ProtectHome=yes" "PrivateTmp=yes" "NoNewPrivileges=yes" \
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK" "systemctl kill -s USR1"; do
  t_contains "weft@.service: $line" "$u" "$line"
done
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$T_TMP/unit"
  sed "s|@SBINDIR@|$BUILD/src/app|g" "$UNIT" >"$T_TMP/unit/weft@pkgtest.service"
  t_run "systemd-analyze verify weft@pkgtest.service" 0 systemd-analyze verify "$T_TMP/unit/weft@pkgtest.service"
  t_eq "  without a warning" "$T_ERR" ""
  t_run "  systemd-analyze security: exposure below 3.0 (hardened)" 0 \
    systemd-analyze security --offline=yes --threshold=30 "$T_TMP/unit/weft@pkgtest.service"
else
  echo "skip: systemd-analyze not installed"
fi

# --- the .deb
if ! command -v cpack >/dev/null || ! command -v dpkg-deb >/dev/null || [[ ! -f $BUILD/CPackConfig.cmake ]]; then
  echo "skip: the package part needs cpack, dpkg-deb and a configured $BUILD"
  t_finish; exit
fi
# Only what gets installed, not the whole tree.
targets=$(cmake --build "$BUILD" --target help 2>/dev/null)
for t in weftd bnl-sign weftctl weft-nscheck; do
  if grep -qE "^\.\.\. $t( |$)|^$t:" <<<"$targets"; then
    cmake --build "$BUILD" --target "$t" >"$T_TMP/build.log" 2>&1 || t_bad "building $t" "$(tail -5 "$T_TMP/build.log")"
  fi
done
PKG=$T_TMP/pkg
# packaging.cmake sets CMAKE_SKIP_INSTALL_ALL_DEPENDENCY: cpack builds nothing more.
t_run "cpack -G DEB" 0 cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$PKG"
deb=$(ls "$PKG"/weft_*.deb 2>/dev/null | head -1)
if [[ -z $deb ]]; then t_bad "no weft_*.deb produced" "$T_OUT"; t_finish; exit; fi
t_ok "package file ${deb##*/}"
arch=$(dpkg --print-architecture)
t_eq "Package" "$(dpkg-deb -f "$deb" Package)" weft
t_eq "Version" "$(dpkg-deb -f "$deb" Version)" "$(sed -nE 's/^project\(weft VERSION ([0-9.]+).*/\1/p' "$SRC/CMakeLists.txt")"
t_eq "Architecture" "$(dpkg-deb -f "$deb" Architecture)" "$arch"
t_eq "Section" "$(dpkg-deb -f "$deb" Section)" net
dep=$(dpkg-deb -f "$deb" Depends)
for d in libc6 libssl3 libboost-program-options1.81.0 zlib1g liblz4-1 libsodium23 iproute2; do
  t_contains "Depends names $d (computed by dpkg-shlibdeps, plus the hooks' iproute2)" "$dep" "$d"
done
t_contains "Recommends openssl (weft-ca)" "$(dpkg-deb -f "$deb" Recommends)" openssl
[[ -n $(dpkg-deb -f "$deb" Maintainer) ]] && t_ok "Maintainer set" || t_bad "no Maintainer"
[[ $(dpkg-deb -f "$deb" Description) == *"signed node list"* ]] && t_ok "Description" || t_bad "Description"

# Every expected path with its mode (and root ownership).
listing=$(dpkg-deb -c "$deb")
expect_path() {  # MODE PATH
  local line
  line=$(awk -v p="./${2#/}" '$6 == p' <<<"$listing")
  if [[ -z $line ]]; then t_bad "package holds $2"; return; fi
  set -- "$1" "$2" $line
  if [[ $3 == "$1" && $4 == root/root ]]; then t_ok "$2 $1 root/root"; else t_bad "$2: $3 $4, wanted $1 root/root"; fi
}
expect_path -rwxr-xr-x /usr/sbin/weftd
expect_path -rwxr-xr-x /usr/bin/bnl-sign
expect_path -rwxr-xr-x /usr/sbin/weft-ca
for h in up down subnet-up subnet-down; do expect_path -rwxr-xr-x "/usr/share/weft/hooks/$h"; done
for e in weft.conf default README; do expect_path -rw-r--r-- "/usr/share/weft/examples/$e"; done
expect_path -rw-r--r-- /usr/share/doc/weft/README
expect_path -rw-r--r-- /usr/share/doc/weft/HOWTO
expect_path -rwxr-xr-x /etc/init.d/weft
expect_path -rw-r--r-- /etc/default/weft
expect_path -rw-r--r-- /lib/systemd/system/weft@.service
if [[ -f $SRC/cron/weft-nscheck.cron ]]; then
  expect_path -rw-r--r-- /etc/cron.d/weft-nscheck
  expect_path -rwxr-xr-x /usr/sbin/weft-nscheck
  cronline=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./etc/cron.d/weft-nscheck | grep -v '^#')
  t_contains "  the cron entry runs the packaged /usr/sbin/weft-nscheck" "$cronline" " /usr/sbin/weft-nscheck "
  t_contains "  the cron entry runs only once a master list exists" "$cronline" "test -f /etc/resolv.conf-master && "
  [[ $cronline == *@*@* ]] && t_bad "  the cron entry has an unsubstituted @VAR@" || t_ok "  the cron entry is fully substituted"
fi
if grep -q 'add_subdirectory(weftctl)\|weftctl' "$SRC/src/app/CMakeLists.txt"; then expect_path -rwxr-xr-x /usr/sbin/weftctl; fi
for bad in scripts/test.sh scripts/deps.sh scripts/demo.sh scripts/bench.sh test.sh deps.sh demo.sh bench.sh /usr/etc/ /usr/local/; do
  grep -q -- "$bad" <<<"$listing" && t_bad "package holds $bad" || t_ok "package holds no $bad"
done

# Control files.
CTRL=$T_TMP/control
dpkg-deb -e "$deb" "$CTRL"
etc_files=$(awk '$1 !~ /^d/ {print $6}' <<<"$listing" | sed -n 's|^\./etc/|/etc/|p' | sort)
t_eq "conffiles: exactly the package's files under /etc" "$(sort "$CTRL/conffiles")" "$etc_files"
for c in /etc/default/weft /etc/init.d/weft; do t_contains "  conffile $c" "$(<"$CTRL/conffiles")" "$c"; done
for s in postinst prerm postrm; do
  [[ -x $CTRL/$s ]] && t_ok "maintainer script $s (executable)" || t_bad "no executable $s in the package"
done
if grep -nE 'systemctl +(--[a-z]+ +)*(enable|start|restart)|update-rc\.d +weft +(enable|start)|invoke-rc\.d|init\.d/weft +(start|restart)' \
    "$CTRL/postinst"; then
  t_bad "postinst starts or enables something"
else
  t_ok "postinst neither starts nor enables a daemon"
fi
# prerm, run for real in a private mount namespace: /etc/init.d/weft and
# systemctl are stand-ins that record how they were called, and
# /run/systemd/system exists there (systemd "running").  Nothing outside
# the namespace is touched.
prerm_run() {  # ACTION...: what the stand-ins recorded, one call per line
  local rec=$T_TMP/prerm.calls
  : >"$rec"
  mkdir -p "$T_TMP/fakebin"
  printf '#!/bin/sh\necho "systemctl $*" >>%s\n' "$rec" >"$T_TMP/fakebin/systemctl"
  printf '#!/bin/sh\necho "init.d/weft $* SKIP=$SYSTEMCTL_SKIP_REDIRECT" >>%s\n' "$rec" >"$T_TMP/fakeinit"
  chmod +x "$T_TMP/fakebin/systemctl" "$T_TMP/fakeinit"
  unshare -m sh -c '
    mount -t tmpfs none /etc/init.d && cp "$1" /etc/init.d/weft &&
    mkdir -p /run/systemd && mount -t tmpfs none /run/systemd && mkdir /run/systemd/system &&
    shift && PATH="$0:$PATH" sh "$@"' "$T_TMP/fakebin" "$T_TMP/fakeinit" "$CTRL/prerm" "$@" >/dev/null 2>&1
  echo "rc=$?"
  cat "$rec"
}
if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
  t_eq "prerm remove stops the weft@ units and the init script's daemons" "$(prerm_run remove)" \
    "rc=0
systemctl --system stop weft@*.service weft.service
init.d/weft stop SKIP=true"
  t_eq "prerm upgrade stops nothing" "$(prerm_run upgrade 0.2.0)" "rc=0"
  t_eq "prerm with an unknown action fails and stops nothing" "$(prerm_run bogus)" "rc=1"
else
  echo "skip: no mount namespaces (unshare -m) here: prerm not run"
fi

# Unpack into a scratch root and run the postinst there (DPKG_ROOT).
ROOT=$T_TMP/root
t_run "dpkg -x into a scratch root" 0 dpkg -x "$deb" "$ROOT"
for p in usr/sbin/weftd etc/init.d/weft etc/default/weft lib/systemd/system/weft@.service usr/share/weft/hooks/up; do
  [[ -e $ROOT/$p ]] && t_ok "  /$p unpacked" || t_bad "  /$p missing after dpkg -x"
done
t_contains "the unit names the installed weftd" "$(<"$ROOT/lib/systemd/system/weft@.service")" "ExecStart=/usr/sbin/weftd -f -c /etc/weft/%i"
t_contains "/etc/default/weft starts no network" "$(<"$ROOT/etc/default/weft")" 'NETS=""'
t_run "the packaged weftd runs (--version)" 0 "$ROOT/usr/sbin/weftd" --version
t_run "postinst configure with DPKG_ROOT=scratch root" 0 env DPKG_ROOT="$ROOT" sh "$CTRL/postinst" configure
if [[ -d $ROOT/etc/weft ]]; then
  t_eq "  /etc/weft mode 0750" "$(stat -c %a "$ROOT/etc/weft")" 750
  t_eq "  /etc/weft owned by root:root" "$(stat -c %U:%G "$ROOT/etc/weft")" root:root
  t_contains "  /etc/weft/README explains the layout" "$(cat "$ROOT/etc/weft/README" 2>/dev/null)" "/etc/weft/NET/weft.conf"
else
  t_bad "  postinst did not create /etc/weft"
fi
echo "admin's note" >"$ROOT/etc/weft/README"
t_run "postinst run again (upgrade)" 0 env DPKG_ROOT="$ROOT" sh "$CTRL/postinst" configure 0.0.1
t_eq "  keeps an edited /etc/weft/README" "$(<"$ROOT/etc/weft/README")" "admin's note"
t_run "postinst with an unknown action fails" 1 env DPKG_ROOT="$ROOT" sh "$CTRL/postinst" bogus
mkdir -p "$ROOT/etc/weft/prod"
t_run "postrm purge" 0 env DPKG_ROOT="$ROOT" sh "$CTRL/postrm" purge
[[ -d $ROOT/etc/weft/prod && ! -e $ROOT/etc/weft/README ]] && t_ok "  keeps a configured network, removes the README" ||
  t_bad "  purge removed a network or kept the README"
rmdir "$ROOT/etc/weft/prod"
t_run "postrm purge with /etc/weft empty" 0 env DPKG_ROOT="$ROOT" sh "$CTRL/postrm" purge
[[ ! -e $ROOT/etc/weft ]] && t_ok "  removes the empty /etc/weft" || t_bad "  /etc/weft left behind"
t_run "prerm upgrade does nothing" 0 env DPKG_ROOT="$ROOT" sh "$CTRL/prerm" upgrade 0.2.0

if command -v lintian >/dev/null; then
  t_run "lintian (errors only)" 0 lintian --fail-on error "$deb"
else
  echo "skip: lintian not installed"
fi
t_finish
