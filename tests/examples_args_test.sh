#!/usr/bin/env bash
# The examples read their command line strictly (examples/example_args.h):
# an unknown flag, a flag without its value, a stray word or a bad number is
# exit status 2 with the problem and the usage, before anything connects.
#
#   tests/examples_args_test.sh BUILD_EXAMPLES_DIR
set -euo pipefail
dir=$1
failures=0
expect() {  # expect "WORDS" PROGRAM ARGS...
  local words=$1; shift
  local output status=0
  output=$("$@" 2>&1) || status=$?
  if [ "$status" -ne 2 ] || [[ "$output" != *"$words"* ]]; then
    echo "FAIL: $* -> exit $status, output: $output (wanted exit 2 and: $words)"
    failures=$((failures + 1))
  fi
}
expect "unknown flag --bogus" "$dir/echo_client" --target 127.0.0.1:1 --bogus 1
expect "--message needs a value" "$dir/echo_client" --target 127.0.0.1:1 --message
expect "unexpected argument \"stray\"" "$dir/notes_client" stray
expect "usage: echo_client_mtls" "$dir/echo_client_mtls" --client-folder
expect "echo_server: port \"99999\" is not a number from 0 to 65535" "$dir/echo_server" /nonexistent 99999
expect "port \"80x\" is not a number" "$dir/notes_server" /nonexistent 80x
expect "missing arguments" "$dir/echo_server_mtls"
expect "--calls takes 1 to 1000000" "$dir/resilient_client" --target 127.0.0.1:1 --calls many
[ "$failures" -eq 0 ] && echo "the examples refuse every bad command line"
exit "$failures"
