#!/usr/bin/env bash
# Runs every fuzz target of a libFuzzer build (`make fuzz`) for SECONDS each
# and prints one line per target with its executions per second.
#
#   tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS
#
# Each target fuzzes a working copy of its committed corpus,
# BUILD_DIR/tests/fuzz/work/corpus/NAME (kept between runs, so what one run
# found seeds the next; the committed corpus/NAME is only read), plus the
# committed regressions/NAME when it exists. Logs and crash inputs go to
# BUILD_DIR/tests/fuzz/work/{NAME.log,artifacts/NAME/}. Exits non-zero when
# any target crashed, leaked or timed out.
set -uo pipefail

build="$(cd "$1" && pwd)"
seconds="$2"
src="$(cd "$(dirname "$0")" && pwd)"
work="$build/tests/fuzz/work"
status=0

printf '%-16s %10s %12s %8s  %s\n' target exec/s executions corpus result
for seeds in "$src"/corpus/*/; do
  name="$(basename "$seeds")"
  fuzzer="$build/tests/fuzz/${name}_fuzzer"
  if [ ! -x "$fuzzer" ]; then
    echo "run_fuzzers: $fuzzer is missing; build the appwire_fuzzers target" >&2
    exit 1
  fi
  copy="$work/corpus/$name"
  artifacts="$work/artifacts/$name/"
  scratch="$work/tmp/$name"
  log="$work/$name.log"
  mkdir -p "$copy" "$artifacts" "$scratch"
  cp -n "$seeds"/* "$copy"/
  dirs=("$copy")
  [ -d "$src/regressions/$name" ] && dirs+=("$src/regressions/$name")
  result=ok
  if ! (cd "$artifacts" && TMPDIR="$scratch" "$fuzzer" -max_total_time="$seconds" \
          -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 -artifact_prefix="$artifacts" \
          "${dirs[@]}") >"$log" 2>&1; then
    result="FAILED: see $log and $artifacts"
    status=1
  fi
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  files="$(find "$copy" -type f | wc -l)"
  printf '%-16s %10s %12s %8s  %s\n' "$name" "${rate:-?}" "${execs:-?}" "$files" "$result"
done
exit $status
