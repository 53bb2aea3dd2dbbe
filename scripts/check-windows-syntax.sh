#!/usr/bin/env bash
# Checks that the library sources compile for Windows, syntax only: each file
# goes through MinGW-w64's g++ (-fsyntax-only) with include paths that point
# at the third-party headers and nothing else, so no glibc or Linux header
# can be used by accident. Nothing is linked or run; it catches the POSIX
# calls, headers and types that a Windows build would trip on. Not part of
# `make test`.
#
#   scripts/check-windows-syntax.sh            # the library folders
#   scripts/check-windows-syntax.sh FILE.cc... # only these
#
# Needs: x86_64-w64-mingw32-g++-posix (Debian: apt-get install
# g++-mingw-w64-x86-64-posix), a configured build folder (BUILD, default
# ./build) for the generated protocol headers and the wolfSSL headers the
# build uses, and the Debian headers of abseil, protobuf and Asio.
# Prints one line per file (ok / FAIL and the first errors) and exits 1 when
# any file fails.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD:-$root/build}"
cxx="${MINGW_CXX:-x86_64-w64-mingw32-g++-posix}"
if ! command -v "$cxx" >/dev/null; then
  echo "$cxx not found; apt-get install g++-mingw-w64-x86-64-posix" >&2
  exit 2
fi
if [ ! -f "$build/build.ninja" ] && [ ! -f "$build/Makefile" ]; then
  echo "no configured build in $build (run cmake first, or set BUILD)" >&2
  exit 2
fi

# The wolfSSL include folder the build compiles against.
wolfssl_include="$(grep -rhoE -- '-I[^ ]*wolfssl[^ ]*/include' "$build"/build.ninja \
  "$build"/CMakeFiles 2>/dev/null | head -n 1 | sed 's/^-I//')"
if [ -z "$wolfssl_include" ] || [ ! -d "$wolfssl_include/wolfssl" ]; then
  echo "cannot find the wolfSSL include folder of $build" >&2
  exit 2
fi

# One folder holding only what is needed: abseil, protobuf, Asio, wolfSSL.
include="$(mktemp -d "${TMPDIR:-/tmp}/appwire-mingw-include.XXXXXX")"
trap 'rm -rf "$include"' EXIT
ln -s /usr/include/absl "$include/absl"
ln -s /usr/include/google "$include/google"
ln -s /usr/include/asio "$include/asio"
ln -s /usr/include/asio.hpp "$include/asio.hpp"
for entry in "$wolfssl_include"/*; do ln -s "$entry" "$include/$(basename "$entry")"; done

if [ "$#" -gt 0 ]; then
  files=("$@")
else
  # The library: common, transport, rpc, client, and the server's library
  # part (its main() is the Linux daemon's, not the SDK's).
  mapfile -t files < <(cd "$root" && find appwire/common appwire/transport appwire/rpc \
    appwire/client appwire/server -name '*.cc' ! -name '*_test.cc' \
    ! -name 'appwire_server_main.cc' | sort)
fi

flags=(-std=c++17 -fsyntax-only -D_WIN32_WINNT=0x0A00
  -DASIO_STANDALONE -DASIO_SEPARATE_COMPILATION -DASIO_NO_DEPRECATED
  -DASIO_DISABLE_STD_ALIGNED_ALLOC
  -I"$root" -I"$build/proto" -isystem "$include")

failed=0
for file in "${files[@]}"; do
  if output="$(cd "$root" && "$cxx" "${flags[@]}" "$file" 2>&1)"; then
    echo "ok   $file"
  else
    echo "FAIL $file"
    grep -m 3 'error' <<<"$output" | sed 's/^/       /'
    failed=$((failed + 1))
  fi
done
echo "${#files[@]} files, $failed failed"
[ "$failed" -eq 0 ]
