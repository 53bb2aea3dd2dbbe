#!/usr/bin/env bash
# The wolfSSL build guard: a program compiled with one build's headers links
# against that build's libwolfssl.a, and fails to link when the headers name
# another build (as they would after a rebuild with other options).
set -euo pipefail
prefix="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/check.cc" <<'CC'
#include <appwire_wolfssl_build.h>
extern "C" const char APPWIRE_WOLFSSL_BUILD_SYMBOL[];
int main() { return APPWIRE_WOLFSSL_BUILD_SYMBOL[0] == 0; }
CC
c++ -I"$prefix/include" "$work/check.cc" "$prefix/lib/libwolfssl.a" -lm -o "$work/same"
"$work/same"
echo "same build: links and runs"
# Headers from "another build": same files, another build id.
mkdir -p "$work/other"
sed 's/appwire_wolfssl_build_[0-9a-f]*/appwire_wolfssl_build_0000000000000000/' \
  "$prefix/include/appwire_wolfssl_build.h" >"$work/other/appwire_wolfssl_build.h"
if c++ -I"$work/other" "$work/check.cc" "$prefix/lib/libwolfssl.a" -lm -o "$work/mixed" 2>"$work/err"; then
  echo "FAIL: headers of another build linked against this library" >&2
  exit 1
fi
grep -q "undefined reference to \`appwire_wolfssl_build_0000000000000000'" "$work/err"
echo "mixed builds: link fails as it should"
