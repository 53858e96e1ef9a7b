#!/usr/bin/env bash
# bnl-sign as an administrator uses it: the installed binary, a scripted
# session, and every refusal with its reason and exit code.
set -uo pipefail
SRC=${WEFT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${WEFT_BUILD_DIR:-$SRC/build}
source "$SRC/test/lib/assert.sh"

# Install into a scratch prefix and use the installed binary.
cmake --install "$BUILD" --prefix "$T_TMP/prefix" >/dev/null || { echo "install failed"; exit 1; }
B=$T_TMP/prefix/bin/bnl-sign
[[ -x $B ]] && t_ok "installed bin/bnl-sign" || { t_bad "bin/bnl-sign not installed"; t_finish; exit 1; }
cd "$T_TMP"

# --- keys
t_run "keygen ed25519" 0 "$B" keygen --out admin
t_eq "private key mode 0600" "$(stat -c %a admin.key)" 600
t_contains "keygen prints the fingerprint" "$T_OUT" "sha256:"
t_run "keygen refuses to overwrite" 1 "$B" keygen --out admin
t_contains "  ...and says so" "$T_ERR" "refusing to overwrite"
t_run "keygen unknown type" 2 "$B" keygen --out x --type rsa
t_run "keygen without --out" 2 "$B" keygen
t_run "second key for rotation" 0 "$B" keygen --out admin2
t_run "attacker key" 0 "$B" keygen --out evil
fp=$("$B" fingerprint admin.pub)
t_eq "fingerprint of .key and .pub agree" "$("$B" fingerprint admin.key)" "$fp"

# --- a list
t_run "new" 0 "$B" new net.bnl --network prod
t_run "new refuses to overwrite" 1 "$B" new net.bnl --network prod
t_run "new with a bad network name" 1 "$B" new other.bnl --network Prod
t_run "add alpha" 0 "$B" add net.bnl alpha ipv4=198.18.0.1 ipv6=2001:db8::1 subnet=198.19.1.0/24 subnet=2001:db8:1::/48
t_run "add beta (id chosen)" 0 "$B" add net.bnl beta ipv4=198.18.0.2 subnet=198.19.2.0/24
t_contains "  lowest free id" "$T_OUT" "id 2"
t_run "add gamma with explicit id" 0 "$B" add net.bnl gamma id=7 ipv6=2001:db8::3 port=4000 subnet=198.19.3.0/24
before=$(sha256sum net.bnl)

refuse() {  # DESC NEEDLE CMD...: a refused edit names the problem and leaves the file as it was
  local desc=$1 needle=$2; shift 2
  t_run "$desc" 1 "$@"
  t_contains "  reason: $needle" "$T_ERR" "$needle"
  t_eq "  file unchanged" "$(sha256sum net.bnl)" "$before"
}
refuse "duplicate name" "exists already" "$B" add net.bnl beta ipv4=198.18.0.9
refuse "duplicate id" "duplicate node id 7" "$B" add net.bnl delta id=7 ipv4=198.18.0.4
refuse "overlapping subnet" "overlaps 198.19.1.0/24 of node alpha" "$B" add net.bnl delta ipv4=198.18.0.4 subnet=198.19.1.128/25
refuse "host bits set" "host bits set" "$B" add net.bnl delta ipv4=198.18.0.4 subnet=198.19.4.1/24
refuse "no endpoint" "needs ipv4= or ipv6=" "$B" add net.bnl delta subnet=198.19.4.0/24
refuse "bad name" "invalid node name" "$B" add net.bnl Delta ipv4=198.18.0.4
refuse "bad address" "not an IPv4 address" "$B" add net.bnl delta ipv4=198.18.0.256
refuse "multicast endpoint" "multicast" "$B" add net.bnl delta ipv4=224.0.0.1
refuse "bad port" "a port is 1 to 65535" "$B" add net.bnl delta ipv4=198.18.0.4 port=70000
refuse "prefer without endpoint" "prefers ipv6 but has no such endpoint" "$B" add net.bnl delta ipv4=198.18.0.4 prefer=ipv6
refuse "bad pin" "expected sha256:" "$B" add net.bnl delta ipv4=198.18.0.4 pin=abc
refuse "modify unknown node" "no node named" "$B" modify net.bnl nosuch port=1
refuse "modify into a duplicate name" "duplicate node name" "$B" modify net.bnl beta name=alpha
refuse "delsubnet not present" "has no subnet" "$B" delsubnet net.bnl beta 198.19.9.0/24
refuse "addsubnet overlapping" "overlaps" "$B" addsubnet net.bnl beta 198.19.0.0/16
t_run "unknown field is a usage error" 2 "$B" add net.bnl delta ipv4=198.18.0.4 colour=red
t_eq "  file unchanged" "$(sha256sum net.bnl)" "$before"
# Only subnet= repeats; any other field given twice is refused, not "the last one wins".
t_run "add: a field given twice is a usage error" 2 "$B" add net.bnl delta ipv4=198.18.0.4 ipv4=198.18.0.5 id=5 id=6
t_eq "  names the field" "$T_ERR" \
  "bnl-sign add: field 'ipv4' given twice (only subnet= may repeat) (see bnl-sign add --help)"
t_run "add: id given twice" 2 "$B" add net.bnl delta ipv4=198.18.0.4 id=5 id=6
t_contains "  names the field" "$T_ERR" "field 'id' given twice"
t_run "modify: a field given twice is a usage error" 2 "$B" modify net.bnl alpha port=3500 port=3501
t_contains "  names the field" "$T_ERR" "field 'port' given twice"
t_run "modify: ipv6=none and ipv6=ADDR together" 2 "$B" modify net.bnl alpha ipv6=none ipv6=2001:db8::9
t_contains "  names the field" "$T_ERR" "field 'ipv6' given twice"
t_eq "  file unchanged" "$(sha256sum net.bnl)" "$before"

t_run "modify port and prefer" 0 "$B" modify net.bnl alpha port=3500 prefer=ipv6
t_run "addsubnet" 0 "$B" addsubnet net.bnl beta 198.19.20.0/24
t_run "delsubnet" 0 "$B" delsubnet net.bnl beta 198.19.20.0/24
t_run "add delta with a pin" 0 "$B" add net.bnl delta ipv4=198.18.0.4 pin=sha256:$(printf '%064d' 0 | tr 0 a)
t_run "remove delta" 0 "$B" remove net.bnl delta
t_run "print source" 0 "$B" print net.bnl
t_contains "  table shows alpha's port" "$T_OUT" "3500"
t_contains "  says unsigned" "$T_OUT" "unsigned source list"
# --pub means "verify": an unsigned list cannot pass, and the keys are loaded.
t_run "print source --pub is refused" 1 "$B" print net.bnl --pub admin.pub
t_eq "  reason" "$T_ERR" \
  "bnl-sign print: net.bnl: invalid: no signature block: the list is not signed (use bnl-sign sign)"
t_eq "  nothing printed" "$T_OUT" ""
t_run "print source --pub with a missing key file" 1 "$B" print net.bnl --pub nosuch.pub
t_contains "  reason" "$T_ERR" "nosuch.pub: No such file or directory"

# --- sign and verify
t_run "sign" 0 "$B" sign net.bnl --key admin.key --out net.signed
v1=$(sed -n 's/^version = //p' net.signed)
t_run "sign again at once" 0 "$B" sign net.bnl --key admin.key --out net.signed
v2=$(sed -n 's/^version = //p' net.signed)
(( v2 > v1 )) && t_ok "second signature in the same second has a greater version ($v1 -> $v2)" || t_bad "version did not increase: $v1 -> $v2"
t_eq "source records the version" "$(sed -n 's/^version = //p' net.bnl)" "$v2"
t_run "verify" 0 "$B" verify net.signed --pub admin.pub
t_contains "  names the network and version" "$T_OUT" "network prod, version $v2"
t_run "verify with a rotated key set" 0 "$B" verify net.signed --pub admin2.pub --pub admin.pub
t_run "verify against an untrusted key" 1 "$B" verify net.signed --pub evil.pub
t_contains "  reason" "$T_ERR" "not a trusted key"
t_run "print --json --pub" 0 "$B" print net.signed --json --pub admin.pub
t_eq "  json: three nodes" "$(jq '.nodes | length' <<<"$T_OUT")" 3
t_eq "  json: verified" "$(jq '.signature.verified' <<<"$T_OUT")" true
t_eq "  json: gamma's port" "$(jq '.nodes[] | select(.name=="gamma") | .port' <<<"$T_OUT")" 4000

# tamper: one byte in the body, one in the signature, truncation, appended data
cp net.signed t1 && sed -i 's/port = 4000/port = 4001/' t1
t_run "one changed byte in the body" 1 "$B" verify t1 --pub admin.pub
t_contains "  reason" "$T_ERR" "signature does not verify"
cp net.signed t2 && python3 - t2 <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[5] ^= 0x01; open(p, 'wb').write(bytes(b))
PY
t_run "one flipped bit in the header" 1 "$B" verify t2 --pub admin.pub
head -c -20 net.signed > t3
t_run "truncated file" 1 "$B" verify t3 --pub admin.pub
t_contains "  reason" "$T_ERR" "signature block"
{ cat net.signed; echo "extra"; } > t4
t_run "data after the signature block" 1 "$B" verify t4 --pub admin.pub
t_run "unsigned source given to verify" 1 "$B" verify net.bnl --pub admin.pub
t_contains "  reason" "$T_ERR" "not signed"

# rollback, conflict, network mismatch, through --current
cp net.signed old.signed
t_run "modify and sign a newer list" 0 "$B" modify net.bnl beta port=3407
t_run "  sign it" 0 "$B" sign net.bnl --key admin.key --out net.signed
t_run "newer list accepted over the old one" 0 "$B" verify net.signed --pub admin.pub --current old.signed
t_contains "  says why" "$T_OUT" "would be accepted"
t_run "older list refused as a rollback" 1 "$B" verify old.signed --pub admin.pub --current net.signed
t_contains "  reason" "$T_ERR" "rollback"
t_run "the same list is not newer" 1 "$B" verify net.signed --pub admin.pub --current net.signed
t_contains "  reason" "$T_ERR" "same"
# same version, other content: forge by re-signing an edited copy with the version pinned
cp net.bnl conflict.bnl && "$B" modify conflict.bnl beta port=3999 >/dev/null
vnow=$(sed -n 's/^version = //p' net.signed)
sed -i "s/^version = .*/version = $((vnow - 1))/" conflict.bnl
"$B" sign conflict.bnl --key admin.key --out conflict.signed >/dev/null
t_eq "  conflict list got the same version" "$(sed -n 's/^version = //p' conflict.signed)" "$vnow"
t_run "equal version with other content is a conflict" 1 "$B" verify conflict.signed --pub admin.pub --current net.signed
t_contains "  reason" "$T_ERR" "conflict"
"$B" new other.bnl --network staging >/dev/null && "$B" add other.bnl x ipv4=198.18.1.1 >/dev/null
"$B" sign other.bnl --key admin.key --out other.signed >/dev/null
t_run "another network's list is refused" 1 "$B" verify other.signed --pub admin.pub --current old.signed
t_contains "  reason" "$T_ERR" "network mismatch"
t_run "sign refuses to overwrite another network's list" 1 "$B" sign other.bnl --key admin.key --out net.signed
t_run "sign refuses a signed file as source" 1 "$B" sign net.signed --key admin.key --out x.signed
t_contains "  reason" "$T_ERR" "is a signed list"

# --- DSA for old networks
t_run "keygen dsa" 0 "$B" keygen --out olddsa --type dsa
t_run "sign with dsa" 0 "$B" sign net.bnl --key olddsa.key --out dsa.signed
t_contains "  block names dsa-sha256" "$(cat dsa.signed)" "algorithm = dsa-sha256"
t_run "verify dsa" 0 "$B" verify dsa.signed --pub olddsa.pub
t_run "dsa list against the ed25519 key" 1 "$B" verify dsa.signed --pub admin.pub
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024 -out p1024.pem 2>/dev/null
openssl genpkey -paramfile p1024.pem -out weak.key 2>/dev/null
t_run "a 1024-bit DSA key is refused" 1 "$B" sign net.bnl --key weak.key --out weak.signed
t_contains "  reason" "$T_ERR" "at least 2048"
# A traditional DSA key whose public value y does not belong to its private
# value x (here x+1): it would sign lists that no node holding olddsa.pub accepts.
python3 - olddsa.key mismatched.key <<'PY'
import base64, subprocess, sys
text = subprocess.run(['openssl', 'pkey', '-in', sys.argv[1], '-noout', '-text'],
                      capture_output=True, text=True, check=True).stdout
fields, cur = {}, None
for line in text.splitlines():
    line = line.rstrip()
    if line and not line[0].isspace() and line.endswith(':'):
        cur = line[:-1]
        fields[cur] = ''
    elif cur and line.startswith(' '):
        fields[cur] += line.strip().replace(':', '')
p, q, g, y, x = (int(fields[k], 16) for k in ('P', 'Q', 'G', 'pub', 'priv'))
def length(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b
def integer(v):
    b = v.to_bytes(v.bit_length() // 8 + 1, 'big')
    return b'\x02' + length(len(b)) + b
body = b''.join(integer(v) for v in (0, p, q, g, y, x + 1))
b64 = base64.b64encode(b'\x30' + length(len(body)) + body).decode()
with open(sys.argv[2], 'w') as f:
    f.write('-----BEGIN DSA PRIVATE KEY-----\n')
    f.write(''.join(b64[i:i + 64] + '\n' for i in range(0, len(b64), 64)))
    f.write('-----END DSA PRIVATE KEY-----\n')
PY
t_eq "  (the mismatched key carries olddsa.pub)" "$(openssl pkey -in mismatched.key -pubout 2>&1)" "$(cat olddsa.pub)"
cp dsa.signed dsa.before && cp net.bnl net.before
t_run "sign refuses a DSA key whose public value does not match" 1 \
  "$B" sign net.bnl --key mismatched.key --out dsa.signed
t_eq "  reason" "$T_ERR" \
  "bnl-sign sign: mismatched.key: the private key does not match its own public key (a damaged key file?)"
t_eq "  signed list unchanged" "$(sha256sum <dsa.signed)" "$(sha256sum <dsa.before)"
t_eq "  source list unchanged" "$(sha256sum <net.bnl)" "$(sha256sum <net.before)"
t_run "  nor does it create a new signed list" 1 "$B" sign net.bnl --key mismatched.key --out fresh.signed
[[ ! -e fresh.signed ]] && t_ok "  fresh.signed not written" || t_bad "fresh.signed written"
t_run "  fingerprint refuses it too" 1 "$B" fingerprint mismatched.key
t_contains "  reason" "$T_ERR" "does not match its own public key"

# --- a key file is exactly one PEM block (white space around it only)
cat olddsa.key admin.pub > mixed.pub
t_run "verify: a private key before the public key is refused" 1 "$B" verify net.signed --pub mixed.pub
t_eq "  reason" "$T_ERR" "bnl-sign verify: mixed.pub: unexpected data after the PEM block\
 (a public key file holds exactly one key and nothing else)"
{ echo "# the admin key"; cat admin.pub; } > noted.pub
t_run "verify: text before the public key is refused" 1 "$B" verify net.signed --pub noted.pub
t_eq "  reason" "$T_ERR" "bnl-sign verify: noted.pub: unexpected data before the PEM block\
 (a public key file holds exactly one key and nothing else)"
{ echo "garbage"; cat admin.key; } > noted.key
t_run "sign: text before the private key is refused" 1 "$B" sign net.bnl --key noted.key --out x.signed
t_eq "  reason" "$T_ERR" "bnl-sign sign: noted.key: unexpected data before the PEM block\
 (a private key file holds exactly one key and nothing else)"
cat admin.pub admin.key > mixed.key
t_run "sign: a public key before the private key is refused" 1 "$B" sign net.bnl --key mixed.key --out x.signed
t_contains "  reason" "$T_ERR" "unexpected data after the PEM block (a private key file"
[[ ! -e x.signed ]] && t_ok "  x.signed not written" || t_bad "x.signed written"
{ printf '\n  \n'; cat admin.pub; printf '\n\n'; } > spaced.pub
t_run "white space around the one block is fine" 0 "$B" verify net.signed --pub spaced.pub

# --- CSV import (the original's own example line, plus a v6 node)
cat > old.csv <<'CSV'
# name,id,ipv4,ipv6,port,ipv6preferred,nsubnets,subnets...
testnode,5,99.100.101.102,::,3406,0,2,4:10.156.10.0/24,10.156.11.0/24
v6node,6,0.0.0.0,2001:db8::6,3406,1,1,6:2001:db8:6::/48
CSV
t_run "import-csv" 0 "$B" import-csv old.csv imported.bnl --network legacy
t_run "  imported list prints" 0 "$B" print imported.bnl --json
t_eq "  testnode subnets" "$(jq -c '.nodes[0].subnets' <<<"$T_OUT")" '["10.156.10.0/24","10.156.11.0/24"]'
t_eq "  v6node prefers ipv6" "$(jq -r '.nodes[1].prefer' <<<"$T_OUT")" ipv6
t_eq "  testnode has no ipv6" "$(jq -r '.nodes[0].ipv6' <<<"$T_OUT")" null
printf 'bad,7,1.2.3.4,::,3406,0,2,10.1.0.0/16\n' > bad.csv
t_run "import-csv: nsubnets mismatch" 1 "$B" import-csv bad.csv bad.bnl --network legacy
t_contains "  names the line" "$T_ERR" "line 1: nsubnets says 2"
printf 'a,1,1.2.3.4,::,3406,0,1,6:10.1.0.0/16\n' > bad2.csv
t_run "import-csv: family prefix mismatch" 1 "$B" import-csv bad2.csv bad.bnl --network legacy
[[ ! -e bad.bnl ]] && t_ok "  nothing written on error" || t_bad "bad.bnl written"

# --- lists reached through symlinks are written where they point; the links stay
mkdir -p repo
t_run "new list in a repository" 0 "$B" new repo/real.bnl --network linked
ln -s repo/real.bnl link.bnl
ln -s repo/real.signed link.signed  # dangling: sign creates the target
t_run "add through a symlink" 0 "$B" add link.bnl alpha ipv4=198.18.0.1 subnet=198.19.1.0/24
[[ -L link.bnl ]] && t_ok "  link.bnl is still a link" || t_bad "  link.bnl replaced by a file"
t_contains "  the target holds alpha" "$(cat repo/real.bnl)" "alpha"
t_run "sign through symlinks" 0 "$B" sign link.bnl --key admin.key --out link.signed
[[ -L link.signed && -f repo/real.signed ]] && t_ok "  link.signed still a link, its target written" \
  || t_bad "  link.signed: $(ls -l link.signed repo/ 2>&1)"
t_run "  the target verifies" 0 "$B" verify repo/real.signed --pub admin.pub
ln -s loop-b.bnl loop-a.bnl; ln -s loop-a.bnl loop-b.bnl
t_run "a symlink loop is refused" 1 "$B" add loop-a.bnl beta ipv4=198.18.0.2
[[ -L loop-a.bnl && -L loop-b.bnl ]] && t_ok "  both links stay" || t_bad "  a loop link was replaced"

# --- help and usage
for c in keygen fingerprint new add modify remove addsubnet delsubnet import-csv sign verify print; do
  t_run "$c --help" 0 "$B" "$c" --help
done
t_run "unknown command" 2 "$B" frobnicate
t_run "missing argument" 2 "$B" add net.bnl

t_finish
