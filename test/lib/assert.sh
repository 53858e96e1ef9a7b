# Small assertion library for the shell tests.  Source it; call t_finish at
# the end.  Every check prints one line; failures are counted, not fatal, so
# one run shows every broken behaviour.
T_PASS=0 T_FAIL=0

t_ok()   { T_PASS=$((T_PASS + 1)); printf 'ok    %s\n' "$1"; }
t_bad()  { T_FAIL=$((T_FAIL + 1)); printf 'FAIL  %s\n' "$1"; [[ -n ${2:-} ]] && printf '      %s\n' "$2"; return 0; }

# t_run DESC EXPECTED_RC CMD...: runs CMD, captures stdout/stderr into
# $T_OUT / $T_ERR, checks the exit code.
t_run() {
  local desc=$1 want=$2; shift 2
  local rc=0
  T_OUT=$("$@" 2>"$T_TMP/stderr") || rc=$?
  T_ERR=$(<"$T_TMP/stderr")
  if [[ $rc == "$want" ]]; then t_ok "$desc (exit $rc)"
  else t_bad "$desc: exit $rc, wanted $want" "stderr: ${T_ERR:0:400}"; fi
}
t_contains() {  # DESC HAYSTACK NEEDLE
  if [[ $2 == *"$3"* ]]; then t_ok "$1"; else t_bad "$1: '$3' not found" "in: ${2:0:400}"; fi
}
t_eq() {  # DESC GOT WANT
  if [[ $2 == "$3" ]]; then t_ok "$1"; else t_bad "$1: got '$2', wanted '$3'"; fi
}
t_finish() {
  printf '%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
  [[ $T_FAIL -eq 0 ]]
}
T_TMP=$(mktemp -d /tmp/weft-test.XXXXXX)
trap 'rm -rf "$T_TMP"' EXIT
