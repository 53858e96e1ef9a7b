#!/usr/bin/env bash
# Drives pki/weft-ca as an administrator would and checks the results with
# the openssl command itself. Run as `bash test/cli/pki_test.sh`; uses
# WEFT_SOURCE_DIR when set, else finds the repository from this file's path.
set -uo pipefail # no -e: every check records its own result and we go on
export LC_ALL=C

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
src=${WEFT_SOURCE_DIR:-$(cd -- "$here/../.." && pwd -P)}
tool=$src/pki/weft-ca
if [[ ! -x $tool ]]; then
    printf 'pki_test: %s is missing or not executable\n' "$tool" >&2
    exit 1
fi

work=$(mktemp -d -t weft-pki-test.XXXXXXXX) || exit 1
trap 'rm -rf -- "$work"' EXIT
# weft-ca's own temp dirs land here, so we can check that none is left over.
mkdir "$work/tmp"
export TMPDIR=$work/tmp

passed=0
failed=0
pass() {
    passed=$((passed + 1))
    printf 'ok   %s\n' "$1"
}
fail() {
    failed=$((failed + 1))
    printf 'FAIL %s\n' "$1"
    shift
    local line
    for line in "$@"; do
        printf '     %s\n' "$line"
    done
}

# run CMD...: sets rc, out, err.
run() {
    "$@" >"$work/out" 2>"$work/err"
    rc=$?
    out=$(<"$work/out")
    err=$(<"$work/err")
}

# expect_ok DESC CMD...: exit 0 and nothing on stderr.
expect_ok() {
    local desc=$1
    shift
    run "$@"
    if ((rc == 0)) && [[ -z $err ]]; then
        pass "$desc"
    else
        fail "$desc" "command: $*" "exit $rc" "stderr: $err"
    fi
}

# expect_fail DESC RC REGEX CMD...: exit RC, nothing on stdout, exactly one
# line on stderr, matching REGEX (grep -E).
expect_fail() {
    local desc=$1 want=$2 re=$3
    shift 3
    run "$@"
    local lines
    lines=$(printf '%s\n' "$err" | wc -l)
    if ((rc == want)) && [[ -z $out && -n $err ]] && ((lines == 1)) &&
        printf '%s\n' "$err" | grep -Eq -- "$re"; then
        pass "$desc"
    else
        fail "$desc" "command: $*" "exit $rc (want $want), $lines stderr line(s)" \
            "stderr: $err" "want stderr matching: $re" "stdout: $out"
    fi
}

# check DESC CMD...: the command succeeds (a predicate).
check() {
    local desc=$1
    shift
    if "$@"; then
        pass "$desc"
    else
        fail "$desc" "condition: $*"
    fi
}

# expect_eq DESC GOT WANT
expect_eq() {
    if [[ $2 == "$3" ]]; then
        pass "$1"
    else
        fail "$1" "got:  $2" "want: $3"
    fi
}

contains() { [[ $1 == *"$2"* ]]; }
mode_of() { stat -c %a -- "$1"; }
text_of() { openssl x509 -in "$1" -noout -text; }
subject_of() { openssl x509 -in "$1" -noout -subject -nameopt oneline; }
der_sha256() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
epoch_of() { # epoch_of CERT startdate|enddate
    local line
    line=$(openssl x509 -in "$1" -noout "-$2")
    date -u -d "${line#*=}" +%s
}
# The line after the one naming an extension, trimmed.
ext_value() { # ext_value CERT "X509v3 Subject Key Identifier"
    text_of "$1" | grep -A1 -F "$2" | tail -n 1 | tr -d ' '
}
same_public_key() { # same_public_key KEY CERT
    [[ "$(openssl pkey -in "$1" -pubout)" == "$(openssl x509 -in "$2" -noout -pubkey)" ]]
}

ca=$work/ca   # ed25519 network CA, name from the directory
ca2=$work/ca2 # a second, unrelated CA
ec=$work/ec   # ecdsa CA with an explicit name

# ------------------------------------------------------------------ help, usage

for c in init issue list fingerprint; do
    run "$tool" "$c" --help
    if ((rc == 0)) && [[ $out == "usage: weft-ca $c"* && -z $err ]]; then
        pass "$c --help prints its usage on stdout"
    else
        fail "$c --help prints its usage on stdout" "exit $rc" "stdout: ${out:0:80}"
    fi
    expect_fail "$c rejects an unknown option" 2 "^weft-ca $c: unknown option '--bogus'" \
        "$tool" "$c" --bogus
done
run "$tool" --help
check "--help prints the command list" test "$rc" -eq 0 -a -n "$out"
expect_fail "no command is a usage error" 2 "^weft-ca: missing command" "$tool"
expect_fail "unknown command is a usage error" 2 "^weft-ca: unknown command 'frob'" "$tool" frob

# ------------------------------------------------------------------ init

expect_fail "init without DIR" 2 "expected one DIR" "$tool" init
expect_fail "init with an unknown type" 2 "unknown key type 'rsa'" "$tool" init "$work/x" --type rsa
expect_fail "init with bad --days" 2 "--days must be a whole number" "$tool" init "$work/x" --days 0
expect_fail "init with a bad network name" 2 "invalid network name 'Net'" \
    "$tool" init "$work/x" --name Net
check "rejected init creates no directory" test ! -e "$work/x"
# A newline at the end of DIR would not survive $(...): 'nl<newline>' would
# become 'nl', and the CA would land in another directory.
expect_fail "init refuses a newline in DIR" 2 \
    "^weft-ca init: DIR must not contain control characters such as a newline, got " \
    "$tool" init "$work/nl"$'\n'
check "  and creates neither directory" test ! -e "$work/nl" -a ! -e "$work/nl"$'\n'
expect_fail "init refuses a tab in DIR" 2 "DIR must not contain control characters" \
    "$tool" init "$work/a"$'\t'"b" --name ab
mkdir "$work/nl2"$'\n'
ln -s "nl2"$'\n' "$work/nl-link"
expect_fail "init refuses a DIR whose physical path holds a newline" 1 \
    "^weft-ca: the physical path of .*/nl-link holds a control character; refusing to use it" \
    "$tool" init "$work/nl-link" --name nl
check "  and writes nothing there" test -z "$(ls -A "$work/nl2"$'\n')"
# Options are given once; "the last one wins" hides a typo in a script.
expect_fail "init --days given twice" 2 "^weft-ca init: option '--days' given twice" \
    "$tool" init "$work/x" --days 30 --days 40
expect_fail "init --type given twice" 2 "option '--type' given twice" \
    "$tool" init "$work/x" --type ecdsa --type=ed25519
expect_fail "init --name given twice" 2 "option '--name' given twice" \
    "$tool" init "$work/x" --name a --name b
check "rejected repeats create no directory" test ! -e "$work/x"

expect_ok "init an ed25519 CA" "$tool" init "$ca"
pin_line=$out
check "init prints the cert path and its pin" \
    grep -Eqx "$ca/ca.crt"$'\t''sha256:[0-9a-f]{64}' <<<"$pin_line"
expect_eq "CA directory is 0700" "$(mode_of "$ca")" 700
expect_eq "ca.key is 0600" "$(mode_of "$ca/ca.key")" 600
expect_eq "ca.crt is 0644" "$(mode_of "$ca/ca.crt")" 644
expect_eq "nodes directory is 0700" "$(mode_of "$ca/nodes")" 700
expect_eq "CA subject is 'weft CA' + directory name" "$(subject_of "$ca/ca.crt")" "subject=CN = weft CA ca"
ca_text=$(text_of "$ca/ca.crt")
check "CA key is ed25519" contains "$ca_text" "Public Key Algorithm: ED25519"
check "CA basicConstraints critical CA:TRUE, pathlen:0" \
    contains "$ca_text" $'X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0'
check "CA keyUsage critical keyCertSign, cRLSign" \
    contains "$ca_text" $'X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign'
check "CA has a subjectKeyIdentifier" contains "$ca_text" "X509v3 Subject Key Identifier"
check "CA has no extendedKeyUsage" test "${ca_text/Extended Key Usage/}" == "$ca_text"
expect_eq "CA validity defaults to 3650 days" \
    $(($(epoch_of "$ca/ca.crt" enddate) - $(epoch_of "$ca/ca.crt" startdate))) $((3650 * 86400))
run openssl verify -x509_strict -CAfile "$ca/ca.crt" "$ca/ca.crt"
expect_eq "CA verifies as its own trust anchor (x509_strict)" "$rc:$out" "0:$ca/ca.crt: OK"
ca_key_copy=$(cat "$ca/ca.key")

expect_ok "init an ecdsa CA with --name and --days" \
    "$tool" init "$ec" --type ecdsa --name prod.example --days 30
expect_eq "ecdsa CA subject uses --name" "$(subject_of "$ec/ca.crt")" "subject=CN = weft CA prod.example"
ec_text=$(text_of "$ec/ca.crt")
check "ecdsa CA key is P-256" contains "$ec_text" "NIST CURVE: P-256"
check "ecdsa CA signs with SHA-256" contains "$ec_text" "Signature Algorithm: ecdsa-with-SHA256"
expect_eq "--days sets the CA validity" \
    $(($(epoch_of "$ec/ca.crt" enddate) - $(epoch_of "$ec/ca.crt" startdate))) $((30 * 86400))
expect_eq "ecdsa ca.key is 0600" "$(mode_of "$ec/ca.key")" 600

expect_fail "init refuses an existing CA" 1 "^weft-ca: refusing to overwrite '.*/ca/ca.key'" \
    "$tool" init "$ca"
expect_fail "init refuses an existing CA (ecdsa asked)" 1 "refusing to overwrite" \
    "$tool" init "$ca" --type ecdsa
expect_eq "refused init left ca.key alone" "$(cat "$ca/ca.key")" "$ca_key_copy"
: >"$work/plainfile"
expect_fail "init on a regular file" 1 "'.*plainfile' exists and is not a directory" \
    "$tool" init "$work/plainfile"
mkdir "$work/Upper"
expect_fail "init needs --name when the directory name is not a network name" 1 \
    "directory name 'Upper' is not a valid network name; pass --name" "$tool" init "$work/Upper"
(umask 000 && "$tool" init "$work/deep/er/ca3" >/dev/null 2>&1)
expect_eq "init under umask 000 still makes DIR 0700 and ca.key 0600" \
    "$(mode_of "$work/deep/er/ca3") $(mode_of "$work/deep/er/ca3/ca.key")" "700 600"

# ------------------------------------------------------------------ issue

expect_ok "issue node1 with an OU" "$tool" issue "$ca" node1 --ou web
n1=$ca/nodes/node1
check "issue prints the cert path and its pin" \
    grep -Eqx "$n1.crt"$'\t''sha256:[0-9a-f]{64}' <<<"$out"
expect_eq "node key is 0600" "$(mode_of "$n1.key")" 600
expect_eq "node cert is 0644" "$(mode_of "$n1.crt")" 644
expect_eq "node1 subject has OU and CN" "$(subject_of "$n1.crt")" "subject=OU = web, CN = node1"
expect_eq "node1 issuer is the CA" "$(openssl x509 -in "$n1.crt" -noout -issuer -nameopt oneline)" \
    "issuer=CN = weft CA ca"
run openssl verify -x509_strict -CAfile "$ca/ca.crt" "$n1.crt"
expect_eq "node1 verifies against the CA" "$rc:$out" "0:$n1.crt: OK"
run openssl verify -x509_strict -purpose sslserver -CAfile "$ca/ca.crt" "$n1.crt"
expect_eq "node1 is fit for a TLS server" "$rc" 0
run openssl verify -x509_strict -purpose sslclient -CAfile "$ca/ca.crt" "$n1.crt"
expect_eq "node1 is fit for a TLS client" "$rc" 0
n1_text=$(text_of "$n1.crt")
check "node basicConstraints critical CA:FALSE" \
    contains "$n1_text" $'X509v3 Basic Constraints: critical\n                CA:FALSE'
check "node keyUsage critical digitalSignature only" \
    contains "$n1_text" $'X509v3 Key Usage: critical\n                Digital Signature\n'
check "node EKU serverAuth, clientAuth" \
    contains "$n1_text" $'X509v3 Extended Key Usage: \n                TLS Web Server Authentication, TLS Web Client Authentication'
expect_eq "node authorityKeyIdentifier is the CA's subjectKeyIdentifier" \
    "$(ext_value "$n1.crt" "X509v3 Authority Key Identifier")" \
    "$(ext_value "$ca/ca.crt" "X509v3 Subject Key Identifier")"
check "node key type defaults to the CA's (ed25519)" contains "$n1_text" "Public Key Algorithm: ED25519"
check "node key matches node cert" same_public_key "$n1.key" "$n1.crt"
expect_eq "node validity defaults to 825 days" \
    $(($(epoch_of "$n1.crt" enddate) - $(epoch_of "$n1.crt" startdate))) $((825 * 86400))
serial1=$(openssl x509 -in "$n1.crt" -noout -serial)
serial1=${serial1#serial=}
check "serial is random and at most 128 bits" grep -Eqx '[0-9A-F]{20,32}' <<<"$serial1"

expect_ok "issue node2 without an OU, --days 10" "$tool" issue "$ca" node2 --days 10
n2=$ca/nodes/node2
expect_eq "node2 subject is CN only" "$(subject_of "$n2.crt")" "subject=CN = node2"
run openssl verify -x509_strict -CAfile "$ca/ca.crt" "$n2.crt"
expect_eq "node2 verifies against the CA" "$rc:$out" "0:$n2.crt: OK"
expect_eq "--days sets the node validity" \
    $(($(epoch_of "$n2.crt" enddate) - $(epoch_of "$n2.crt" startdate))) $((10 * 86400))
serial2=$(openssl x509 -in "$n2.crt" -noout -serial)
check "serials differ between certificates" test "${serial2#serial=}" != "$serial1"

expect_ok "issue an ecdsa node on the ed25519 CA" "$tool" issue "$ca" mixed --type ecdsa
check "--type ecdsa gives a P-256 node key" contains "$(text_of "$ca/nodes/mixed.crt")" "NIST CURVE: P-256"
run openssl verify -x509_strict -CAfile "$ca/ca.crt" "$ca/nodes/mixed.crt"
expect_eq "ecdsa node verifies against the ed25519 CA" "$rc" 0

expect_ok "issue on the ecdsa CA" "$tool" issue "$ec" e1 --ou "Ops Team"
e1_text=$(text_of "$ec/nodes/e1.crt")
check "node key type defaults to the CA's (ecdsa)" contains "$e1_text" "NIST CURVE: P-256"
check "node cert from the ecdsa CA is signed with SHA-256" \
    contains "$e1_text" "Signature Algorithm: ecdsa-with-SHA256"
expect_eq "OU with a space" "$(subject_of "$ec/nodes/e1.crt")" "subject=OU = Ops Team, CN = e1"
run openssl verify -x509_strict -CAfile "$ec/ca.crt" "$ec/nodes/e1.crt"
expect_eq "ecdsa node verifies against the ecdsa CA" "$rc" 0
expect_ok "issue an ed25519 node on the ecdsa CA" "$tool" issue "$ec" e2 --type ed25519
run openssl verify -x509_strict -CAfile "$ec/ca.crt" "$ec/nodes/e2.crt"
expect_eq "ed25519 node verifies against the ecdsa CA" "$rc" 0
expect_eq "the default 825 days are cut to the end of the 30-day CA" \
    "$(epoch_of "$ec/nodes/e1.crt" enddate)" "$(epoch_of "$ec/ca.crt" enddate)"

name63=$(printf 'a%.0s' {1..63})
expect_ok "a 63-character name is accepted" "$tool" issue "$ca" "$name63"
expect_ok "dots and dashes in a name" "$tool" issue "$ca" 0web-1.dc2

# ------------------------------------------------------------------ bad names

names_in() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' '; }
snapshot() { names_in "$ca/nodes"; }
before=$(snapshot)
expect_fail "uppercase name refused" 2 "^weft-ca issue: invalid node name 'Node1'" \
    "$tool" issue "$ca" Node1
expect_fail "leading-dash name refused" 2 "invalid node name '-node'" \
    "$tool" issue "$ca" -- -node
expect_fail "leading-dash name without -- is an unknown option" 2 "unknown option '-node'" \
    "$tool" issue "$ca" -node
expect_fail "64-character name refused" 2 "invalid node name '${name63}a'" \
    "$tool" issue "$ca" "${name63}a"
expect_fail "name with a slash refused" 2 "invalid node name 'a/b'" "$tool" issue "$ca" a/b
expect_fail "name ../x refused" 2 "invalid node name '\.\./x'" "$tool" issue "$ca" ../x
expect_fail "empty name refused" 2 "invalid node name ''" "$tool" issue "$ca" ""
expect_fail "missing name" 2 "expected DIR and NAME, got 1" "$tool" issue "$ca"
expect_fail "bad OU refused" 2 "invalid OU 'a/b'" "$tool" issue "$ca" n9 --ou a/b
expect_fail "empty OU refused" 2 "invalid OU ''" "$tool" issue "$ca" n9 --ou ""
expect_fail "unknown node key type" 2 "unknown key type 'rsa'" "$tool" issue "$ca" n9 --type rsa
expect_fail "issue --ou given twice" 2 "^weft-ca issue: option '--ou' given twice" \
    "$tool" issue "$ca" n9 --ou x --ou y
expect_fail "issue --days given twice" 2 "option '--days' given twice" "$tool" issue "$ca" n9 --days 1 --days=2
expect_fail "issue --type given twice" 2 "option '--type' given twice" \
    "$tool" issue "$ca" n9 --type ecdsa --type ecdsa
expect_fail "issue --not-before given twice" 2 "option '--not-before' given twice" \
    "$tool" issue "$ca" n9 --not-before 20200101000000Z --not-before 20200101000000Z --not-after 20200102000000Z
expect_fail "issue --not-after given twice" 2 "option '--not-after' given twice" \
    "$tool" issue "$ca" n9 --not-before 20200101000000Z --not-after 20200102000000Z --not-after 20200103000000Z
expect_fail "issue refuses a newline in DIR" 2 "^weft-ca issue: DIR must not contain control characters" \
    "$tool" issue "$ca"$'\n' n9
expect_fail "list refuses a newline in DIR" 2 "^weft-ca list: DIR must not contain control characters" \
    "$tool" list "$ca"$'\n'
expect_eq "refused names created nothing" "$(snapshot)" "$before"

# ------------------------------------------------------------------ overwrite

crt_copy=$(cat "$n1.crt")
key_copy=$(cat "$n1.key")
expect_fail "issue refuses to overwrite node1" 1 "^weft-ca: refusing to overwrite '.*/nodes/node1\.key'" \
    "$tool" issue "$ca" node1
expect_eq "refused issue left node1's files alone" "$(cat "$n1.crt")$(cat "$n1.key")" "$crt_copy$key_copy"
rm -- "$n2.key"
expect_fail "issue refuses when only the cert exists" 1 "refusing to overwrite '.*/nodes/node2\.crt'" \
    "$tool" issue "$ca" node2
check "no key was written beside the existing cert" test ! -e "$n2.key"
rm -- "$n2.crt"

# ------------------------------------------------------------------ dates

expect_ok "issue an expired cert with an explicit window" \
    "$tool" issue "$ca" old --not-before 20200101000000Z --not-after 20200102000000Z
expect_eq "explicit window is used as given" \
    "$(openssl x509 -in "$ca/nodes/old.crt" -noout -dates | tr '\n' ' ')" \
    "notBefore=Jan  1 00:00:00 2020 GMT notAfter=Jan  2 00:00:00 2020 GMT "
run openssl verify -CAfile "$ca/ca.crt" "$ca/nodes/old.crt"
if ((rc != 0)) && contains "$out$err" "certificate has expired"; then
    pass "expired cert fails openssl verify with 'certificate has expired'"
else
    fail "expired cert fails openssl verify with 'certificate has expired'" "exit $rc" "$out$err"
fi
expect_ok "issue a not-yet-valid cert" \
    "$tool" issue "$ca" future --not-before 20990101000000Z --not-after 21000101000000Z
run openssl verify -CAfile "$ca/ca.crt" "$ca/nodes/future.crt"
if ((rc != 0)) && contains "$out$err" "certificate is not yet valid"; then
    pass "future cert fails openssl verify with 'certificate is not yet valid'"
else
    fail "future cert fails openssl verify with 'certificate is not yet valid'" "exit $rc" "$out$err"
fi
expect_fail "--not-before alone" 2 "--not-before needs --not-after" \
    "$tool" issue "$ca" d1 --not-before 20200101000000Z
expect_fail "--not-after alone" 2 "--not-after needs --not-before" \
    "$tool" issue "$ca" d1 --not-after 20200101000000Z
expect_fail "malformed date" 2 "--not-before must be YYYYMMDDHHMMSSZ \(UTC\), got '2020-01-01'" \
    "$tool" issue "$ca" d1 --not-before 2020-01-01 --not-after 20200102000000Z
expect_fail "month 13" 2 "--not-after is not a valid date and time: '20201301000000Z'" \
    "$tool" issue "$ca" d1 --not-before 20200101000000Z --not-after 20201301000000Z
expect_fail "February 30" 2 "is not a valid date and time: '20210230000000Z'" \
    "$tool" issue "$ca" d1 --not-before 20210230000000Z --not-after 20220101000000Z
expect_fail "window in the wrong order" 2 "must be earlier than --not-after" \
    "$tool" issue "$ca" d1 --not-before 20200102000000Z --not-after 20200101000000Z
expect_fail "--days with a window" 2 "--days cannot be combined" \
    "$tool" issue "$ca" d1 --days 5 --not-before 20200101000000Z --not-after 20200102000000Z
expect_fail "bad --days" 2 "--days must be a whole number from 1 to 36500, got 'ten'" \
    "$tool" issue "$ca" d1 --days ten
check "rejected dates created nothing" test ! -e "$ca/nodes/d1.key" -a ! -e "$ca/nodes/d1.crt"
# A node certificate must not outlive its CA (it would stop verifying first).
expect_fail "--days past the CA's end is refused" 1 \
    "^weft-ca: --days 31 would outlive the CA certificate, valid until [0-9-]{10}T[0-9:]{8}Z \((29|30) whole days from now\)$" \
    "$tool" issue "$ec" d2 --days 31
expect_fail "--days 36500 on the 3650-day CA is refused" 1 "would outlive the CA certificate" \
    "$tool" issue "$ca" d2 --days 36500
check "refused --days created nothing" \
    test -z "$(find "$ca/nodes" "$ec/nodes" -name '*d2*')"
expect_ok "--days that ends before the CA is fine" "$tool" issue "$ec" d3 --days 29
# An expired CA (made with openssl ca -selfsign, whose window may lie in the past).
old=$work/oldca
mkdir -p "$old/nodes" "$work/olddb"
: >"$work/olddb/index.txt"
echo 01 >"$work/olddb/serial"
cat >"$work/old.cnf" <<EOF
[ca]
default_ca = old
[old]
database = $work/olddb/index.txt
serial = $work/olddb/serial
new_certs_dir = $work/olddb
default_md = default
policy = any
[any]
commonName = supplied
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
openssl genpkey -algorithm ED25519 -out "$old/ca.key" 2>/dev/null
openssl req -new -key "$old/ca.key" -subj "/CN=weft CA old" -out "$work/old.csr" 2>/dev/null
openssl ca -batch -selfsign -notext -config "$work/old.cnf" -keyfile "$old/ca.key" -extensions v3_ca \
    -startdate 20200101000000Z -enddate 20210101000000Z -in "$work/old.csr" -out "$old/ca.crt" >/dev/null 2>&1
expect_fail "an expired CA issues nothing by default" 1 \
    "^weft-ca: the CA certificate expired at 2021-01-01T00:00:00Z; a certificate it signs would not verify$" \
    "$tool" issue "$old" n1
expect_fail "  nor with --days" 1 "the CA certificate expired at 2021-01-01T00:00:00Z" \
    "$tool" issue "$old" n1 --days 5
check "  and leaves nothing behind" test -z "$(ls -A "$old/nodes")"
expect_ok "  but an explicit window is taken as given" \
    "$tool" issue "$old" n1 --not-before 20200101000000Z --not-after 20200102000000Z

# ------------------------------------------------------------------ fingerprint

run "$tool" fingerprint "$n1.crt"
check "fingerprint exits 0" test "$rc" -eq 0 -a -z "$err"
check "fingerprint format is sha256:<64 lowercase hex>" grep -Eqx 'sha256:[0-9a-f]{64}' <<<"$out"
expect_eq "fingerprint is SHA-256 over the DER" "$out" "sha256:$(der_sha256 "$n1.crt")"
fp1=$out
expect_eq "fingerprint prints exactly one line" "$(wc -l <"$work/out")" 1
openssl x509 -in "$n1.crt" -outform DER -out "$work/node1.der"
run "$tool" fingerprint "$work/node1.der"
expect_eq "fingerprint of the DER form is the same" "$rc:$out" "0:$fp1"
expect_eq "the pin printed by init is the CA's fingerprint" \
    "${pin_line#*$'\t'}" "sha256:$(der_sha256 "$ca/ca.crt")"
expect_fail "fingerprint of a missing file" 1 "^weft-ca: no such file '.*/nope\.crt'" \
    "$tool" fingerprint "$work/nope.crt"
printf 'not a certificate\n' >"$work/junk.crt"
expect_fail "fingerprint of a non-certificate shows openssl's message" 1 \
    "^weft-ca: cannot read certificate '.*junk\.crt': .*Could not read certificate" \
    "$tool" fingerprint "$work/junk.crt"
expect_fail "fingerprint needs one CERT" 2 "expected one CERT, got 2" \
    "$tool" fingerprint "$n1.crt" "$n2.crt"

# ------------------------------------------------------------------ list

expect_ok "list" "$tool" list "$ca"
list_out=$out
expect_eq "list header" "$(head -n 1 <<<"$list_out")" $'kind\tname\tou\tnot_after\tfingerprint'
expect_eq "list CA line" "$(sed -n 2p <<<"$list_out" | cut -f1-3,5)" \
    $'ca\tweft CA ca\t-\t'"sha256:$(der_sha256 "$ca/ca.crt")"
n1_after=$(date -u -d "$(openssl x509 -in "$n1.crt" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
check "list has node1 with OU, notAfter and pin" \
    grep -Fqx $'node\tnode1\tweb\t'"$n1_after"$'\t'"$fp1" <<<"$list_out"
check "list has the expired node" \
    grep -Fqx $'node\told\t-\t2020-01-02T00:00:00Z\t'"sha256:$(der_sha256 "$ca/nodes/old.crt")" <<<"$list_out"
check "list has the ecdsa node" grep -Eq $'^node\tmixed\t-\t' <<<"$list_out"
expect_eq "list has one line per node cert plus header and CA" \
    "$(wc -l <<<"$list_out")" $(($(find "$ca/nodes" -maxdepth 1 -name '*.crt' | wc -l) + 2))
check "every list line has 5 tab-separated fields" \
    test "$(awk -F'\t' 'NF != 5' <<<"$list_out" | wc -l)" -eq 0
expect_eq "node lines are sorted by name" "$(tail -n +3 <<<"$list_out" | cut -f2)" \
    "$(tail -n +3 <<<"$list_out" | cut -f2 | sort)"
expect_fail "list of a missing directory" 1 "^weft-ca: no such directory '.*/missing'" \
    "$tool" list "$work/missing"
mkdir "$work/empty"
expect_fail "list without a CA" 1 "^weft-ca: no CA in '.*/empty'" "$tool" list "$work/empty"

# ------------------------------------------------------------------ second CA

expect_ok "init a second CA" "$tool" init "$ca2"
expect_ok "issue a node on the second CA" "$tool" issue "$ca2" node1
run openssl verify -CAfile "$ca/ca.crt" "$ca2/nodes/node1.crt"
if ((rc != 0)) && contains "$out$err" "unable to get local issuer certificate"; then
    pass "a cert of the second CA does not verify against the first"
else
    fail "a cert of the second CA does not verify against the first" "exit $rc" "$out$err"
fi
run openssl verify -CAfile "$ca2/ca.crt" "$ca/nodes/node1.crt"
check "and the first CA's cert does not verify against the second" test "$rc" -ne 0
run openssl verify -CAfile "$ca2/ca.crt" "$ca2/nodes/node1.crt"
expect_eq "the second CA's cert verifies against its own CA" "$rc" 0

# ------------------------------------------------------------------ state errors

expect_fail "issue into a missing directory" 1 "^weft-ca: no such directory '.*/missing'" \
    "$tool" issue "$work/missing" n1
expect_fail "issue without a CA" 1 "^weft-ca: no CA in '.*/empty'" "$tool" issue "$work/empty" n1

cp -a "$ca" "$work/badkey"
printf 'garbage\n' >"$work/badkey/ca.key"
before=$(names_in "$work/badkey/nodes")
expect_fail "an unreadable CA key shows openssl's message" 1 \
    "^weft-ca: cannot sign the certificate: Could not read CA private key" \
    "$tool" issue "$work/badkey" fresh
expect_eq "a failed issue leaves no key, cert or temp file" \
    "$(names_in "$work/badkey/nodes")" "$before"

cp -a "$ca" "$work/mismatch"
cp -- "$ca2/ca.key" "$work/mismatch/ca.key"
expect_fail "a CA key that does not match ca.crt" 1 \
    "cannot sign the certificate: CA certificate and CA private key do not match" \
    "$tool" issue "$work/mismatch" fresh
check "nothing left behind after the mismatch" \
    test -z "$(find "$work/mismatch/nodes" -name '*fresh*')"

# ------------------------------------------------------------------ symlink, cwd

ln -s -- "$tool" "$work/weft-ca-link"
mkdir "$work/elsewhere"
run bash -c 'cd "$1" && "$2" issue ../ca vialink --ou edge' _ "$work/elsewhere" "$work/weft-ca-link"
expect_eq "works through a symlink from another directory" "$rc" 0
run openssl verify -CAfile "$ca/ca.crt" "$ca/nodes/vialink.crt"
expect_eq "the cert made through the symlink verifies" "$rc" 0
run bash -c 'cd "$1" && "$2" fingerprint ../ca/nodes/node1.crt' _ "$work/elsewhere" "$work/weft-ca-link"
expect_eq "fingerprint with a relative path from another directory" "$out" "$fp1"

check "no temporary directory left behind" test -z "$(ls -A "$TMPDIR")"
check "no temporary file left in the CA directories" \
    test -z "$(find "$ca" "$ec" "$ca2" -name '.*' ! -name '.' -print)"

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
