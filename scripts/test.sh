#!/usr/bin/env bash
# test.sh - build everything and pass every test, on a fresh machine.
#
#   1. installs missing Debian packages (scripts/deps.sh)
#   2. release build (warnings are errors) + the whole CTest suite
#   3. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#   4. every libFuzzer target (clang) run for FUZZ_SECONDS over a copy of its
#      committed seed corpus
# Exits non-zero on any failure or sanitizer report.  Ends with one line
# "total: N passed, N failed" over all stages.
#
# Environment: JOBS (default: nproc), FUZZ_SECONDS (default 30),
#   WEFT_SKIP_ASAN=1 / WEFT_SKIP_FUZZ=1 to skip a stage while iterating,
#   CTEST_ARGS (extra ctest arguments, e.g. "-L unit").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
read -r -a CTEST_EXTRA <<<"${CTEST_ARGS:-}"

scripts/deps.sh

TOTAL_PASS=0 TOTAL_FAIL=0 FAILED_STAGES=()
log() { printf '\n=== %s\n' "$*"; }

# run_ctest DIR LABEL: runs the suite in DIR, adds its counts to the totals.
run_ctest() {
  local dir=$1 label=$2 out rc=0
  out=$(mktemp)
  ctest --test-dir "$dir" --output-on-failure --timeout 900 "${CTEST_EXTRA[@]}" 2>&1 | tee "$out" || rc=$?
  local line total failed
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$out" | tail -1 || true)
  if [[ -n $line ]]; then
    failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
    TOTAL_PASS=$((TOTAL_PASS + total - failed)); TOTAL_FAIL=$((TOTAL_FAIL + failed))
  else
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
  fi
  rm -f "$out"
  ((rc == 0)) || FAILED_STAGES+=("$label")
}

log "release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_WERROR=ON >/dev/null
cmake --build build -j "$JOBS"
log "test suite (release)"
run_ctest build release

if [[ ${WEFT_SKIP_ASAN:-0} != 1 ]]; then
  log "ASan + UBSan build"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DWEFT_SANITIZE=ON -DWEFT_WERROR=ON >/dev/null
  cmake --build build-asan -j "$JOBS"
  log "test suite (ASan + UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  WEFT_BUILD_DIR="$ROOT/build-asan" run_ctest build-asan asan
fi

if [[ ${WEFT_SKIP_FUZZ:-0} != 1 ]]; then
  log "libFuzzer targets, ${FUZZ_SECONDS}s each"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_FUZZ=ON \
    -DWEFT_TESTS=ON >/dev/null
  cmake --build build-fuzz -j "$JOBS"
  for bin in build-fuzz/test/fuzz/fuzz_*; do
    [[ -x $bin ]] || continue
    name=${bin##*/fuzz_}
    work=$(mktemp -d)
    cp -r "test/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
    printf -- '--- fuzz %s\n' "$name"
    if "$bin" "$work" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
         -print_final_stats=1 -artifact_prefix="$work/" >"$work.log" 2>&1; then
      TOTAL_PASS=$((TOTAL_PASS + 1))
      grep -E '^stat::number_of_executed_units' "$work.log" || true
    else
      TOTAL_FAIL=$((TOTAL_FAIL + 1)); FAILED_STAGES+=("fuzz:$name")
      tail -50 "$work.log"
      ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null | head -5 | while read -r f; do
        echo "reproducer: $f ($(base64 -w0 "$f" | head -c 400))"; done
    fi
    rm -rf "$work" "$work.log"
  done
fi

echo
if ((${#FAILED_STAGES[@]})); then echo "failed stages: ${FAILED_STAGES[*]}"; fi
echo "total: $TOTAL_PASS passed, $TOTAL_FAIL failed"
((TOTAL_FAIL == 0 && ${#FAILED_STAGES[@]} == 0))
