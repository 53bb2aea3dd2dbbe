#!/usr/bin/env bash
# Installs the Debian 12 packages appwire builds with, when any is missing.
# Idempotent: a machine that has everything is left untouched and nothing is
# downloaded. Uses sudo only when not running as root.
#
#   scripts/install-deps.sh          what make build/test/demo need
#   scripts/install-deps.sh --fuzz   what `make fuzz` needs beyond that:
#                                    clang 14 and its runtime libraries
#                                    (libFuzzer, ASan, UBSan)
set -euo pipefail

what="build"
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libasio-dev libprotobuf-dev protobuf-compiler libprotoc-dev libabsl-dev
  libgtest-dev libgmock-dev
  # JSON written and read by a library, not by hand: the `appwire` command's
  # --json output and its tests.
  nlohmann-json3-dev
  # sd_notify for appwire-server under systemd (Type=notify); optional at
  # build time, installed so that its test runs.
  libsystemd-dev
  # AutoSSL (issue 14): the ACME client speaks HTTPS through libcurl, and its
  # tests (and `make demo`) run Let's Encrypt's test CA, Pebble, with
  # pebble-challtestsrv as its DNS, on loopback.
  libcurl4-openssl-dev pebble curl
  # wolfSSL is built from Debian's source package (scripts/build-wolfssl.sh);
  # these are what its configure step needs, plus the binary package for
  # -DAPPWIRE_WOLFSSL=system builds.
  dpkg-dev autoconf automake libtool libwolfssl-dev
  # Independent TLS peer for tests (openssl s_client / s_server), and the
  # system trust store that ChannelOptions::use_system_trust_store loads.
  openssl ca-certificates
  # tests/downstream/ (a project outside the tree: python3 drives it, and one
  # of its programs also links OpenSSL) and the C API's ctypes test.
  python3 libssl-dev
)
if [ "${1:-}" = "--fuzz" ]; then
  what="fuzzing"
  packages=(clang-14 libclang-rt-14-dev)
elif [ $# -gt 0 ]; then
  echo "usage: scripts/install-deps.sh [--fuzz]" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

echo "appwire: installing missing packages for $what: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
