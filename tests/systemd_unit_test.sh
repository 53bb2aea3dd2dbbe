#!/usr/bin/env bash
# examples/systemd/appwire-server.service, checked by systemd itself:
# `systemd-analyze verify` on a copy whose ExecStart is the binary just
# built must print nothing (it exits 0 even for unknown keys and bad
# values, and says so on stderr).
#
#   tests/systemd_unit_test.sh UNIT APPWIRE_SERVER_BINARY
set -euo pipefail
unit=$1
binary=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
copy="$dir/appwire-server.service"
sed "s|/usr/local/bin/appwire-server|$binary|" "$unit" > "$copy"
grep -q "^ExecStart=$binary " "$copy" || { echo "no ExecStart=/usr/local/bin/appwire-server in $unit"; exit 1; }
grep -q '^Type=notify$' "$copy" || { echo "$unit is not Type=notify"; exit 1; }
output=$(systemd-analyze verify "$copy" 2>&1) || { echo "$output"; exit 1; }
if [ -n "$output" ]; then
  echo "systemd-analyze verify says:"
  echo "$output"
  exit 1
fi
echo "systemd-analyze verify: $unit is clean"
