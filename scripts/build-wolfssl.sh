#!/usr/bin/env bash
# Builds wolfSSL from Debian's source package, with its assembly enabled, into
# a cache folder outside the source tree, and prints that folder's path.
#
# Why: Debian's binary libwolfssl is built without assembly and runs
# AES-128-GCM at ~80 MB/s; the same source with --enable-intelasm etc. runs at
# several GB/s. Building from `apt-get source` keeps Debian's security patches.
#
# The deb-src entries live in a private apt configuration under the cache
# folder; the machine's own apt sources are not touched.
#
# Output folder: $APPWIRE_CACHE (default ~/.cache/appwire)/wolfssl-<version>-<flags hash>
# containing include/, lib/libwolfssl.a and BUILD_ID. Reused when present.
#
# BUILD_ID guards against mixing headers and library of different builds: the
# library gets an extra object defining `appwire_wolfssl_build_<id>`, and the
# generated header include/appwire_wolfssl_build.h references that symbol, so a
# mismatched pair fails at link time instead of miscompiling.
set -euo pipefail

cache="${APPWIRE_CACHE:-$HOME/.cache/appwire}"
mkdir -p "$cache"

# The version of the binary package installed (scripts/install-deps.sh puts
# it there), else the one apt would install: the source package of the same
# version carries the same Debian patches.
version="$(dpkg-query -W -f='${Version}' libwolfssl-dev 2>/dev/null || true)"
if [ -z "$version" ]; then
  version="$(apt-cache policy libwolfssl-dev | awk '/Candidate:/ {print $2}')"
fi
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  echo "build-wolfssl: apt-cache knows no libwolfssl-dev; run 'apt-get update' first" >&2
  exit 1
fi

configure_flags=(
  # Only the features appwire uses. Debian's own package enables everything
  # (--enable-distro); that makes every connection's WOLFSSL object ~55 KiB,
  # mostly certificate-chain buffers we never read.
  --enable-static --disable-shared --disable-examples --disable-crypttests
  # Position-independent: the archive is linked into libappwire_client.so
  # and libappwire_server.so (-DBUILD_SHARED_LIBS=ON) as well as into
  # programs.
  --with-pic
  --enable-tls13 --disable-oldtls --enable-alpn --enable-sni
  --enable-session-ticket --enable-supportedcurves --enable-hkdf
  --enable-ecc --enable-curve25519 --enable-ed25519 --enable-dh --enable-aesgcm
  --enable-chacha --enable-poly1305
  # Certificates: parsing names (OpenSSL-compatible X509 API), generating
  # keys, requests and certificates, CRLs, the system trust store, PKCS#12
  # and encrypted keys for the `appwire` tool.
  --enable-opensslextra --enable-certgen --enable-certreq --enable-certext
  --enable-keygen --enable-crl --enable-sys-ca-certs --enable-altcertchains
  --enable-pkcs12 --enable-des3 --enable-enckeys --enable-pwdbased
  --enable-ip-alt-name
  # The assembly Debian's binary package lacks.
  --enable-intelasm --enable-aesni --enable-sp --enable-sp-asm
  --disable-silent-rules
)
# Debian's optimisation and hardening flags, less -ffile-prefix-map (it names
# the current folder, which would make the cache key depend on it).
cflags="$(dpkg-buildflags --get CFLAGS | sed 's/-ffile-prefix-map=[^ ]*//g') $(dpkg-buildflags --get CPPFLAGS)"
# Subject alternative names in generated certificates, the SNI name a client
# asked for kept for CallContext, and static-RSA suites so that a legacy
# cipher list (4D selector 64) can name them when the operator explicitly
# allows non-forward-secret suites; they are never in a default list. None
# of these has a configure switch.
cflags="$cflags -DWOLFSSL_ALT_NAMES -DWOLFSSL_ALWAYS_KEEP_SNI -DWOLFSSL_STATIC_RSA"
ldflags="$(dpkg-buildflags --get LDFLAGS)"

# What is done to the built archive (below); part of the cache key.
postprocess="localize-openssl-names-1"

key="$(printf '%s\n' "$version" "${configure_flags[@]}" "$cflags" "$ldflags" "$postprocess" | sha256sum | cut -c1-12)"
prefix="$cache/wolfssl-${version}-${key}"

if [ -f "$prefix/BUILD_ID" ] && [ -f "$prefix/lib/libwolfssl.a" ]; then
  echo "$prefix"
  exit 0
fi

work="$(mktemp -d "$cache/wolfssl-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log="$work/build.log"

apt_dir="$cache/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$apt_dir/sources.list" <<SOURCES
deb-src [signed-by=$keyring] http://deb.debian.org/debian bookworm main
deb-src [signed-by=$keyring] http://deb.debian.org/debian bookworm-updates main
deb-src [signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security main
SOURCES
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=/nonexistent"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Sandbox::User=root"
)

echo "build-wolfssl: fetching Debian source wolfssl=$version" >&2
apt-get "${apt_opts[@]}" update -qq >>"$log" 2>&1
(cd "$work" && apt-get "${apt_opts[@]}" source "wolfssl=$version" >>"$log" 2>&1) || {
  tail -20 "$log" >&2; echo "build-wolfssl: apt-get source wolfssl=$version failed" >&2; exit 1; }
src="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'wolfssl-*' | head -1)"

echo "build-wolfssl: configuring and compiling (a few minutes, once; log: $log)" >&2
(
  cd "$src"
  ./autogen.sh
  ./configure --prefix="$prefix.tmp" "${configure_flags[@]}" CFLAGS="$cflags" LDFLAGS="$ldflags"
  make -j"$(nproc)"
  make install
) >>"$log" 2>&1 || { tail -40 "$log" >&2; echo "build-wolfssl: build failed; log above" >&2; exit 1; }

# --enable-distro does not install options.h: take the one this configure made.
cp "$src/wolfssl/options.h" "$prefix.tmp/include/wolfssl/options.h"

# --enable-opensslextra defines a few functions under OpenSSL's own names
# (SSL_SESSION_set1_id, ERR_load_SSL_strings, ...), not wolfSSL_ ones. In a
# program that links appwire statically and also loads OpenSSL (most
# desktop apps do, through some other library) they would replace
# OpenSSL's, for OpenSSL's own callers too. Nothing in wolfSSL calls them
# from another object file, so they become local to theirs. (The shared
# libraries hide every wolfSSL symbol anyway: --exclude-libs.)
archive="$prefix.tmp/lib/libwolfssl.a"
openssl_names='^(SSL|SSL_CTX|SSL_SESSION|ERR|EVP|X509|BIO|PEM|CRYPTO|OPENSSL|RAND|BN|EC|ECDSA|ECDH|RSA|DH|DSA|ASN1|OBJ|PKCS[0-9]*|TLS|DTLS|HMAC|MD5|SHA[0-9]*|AES|DES|i2d|d2i|COMP|OCSP|CONF|ENGINE)_'
nm -g --undefined-only "$archive" 2>/dev/null | awk '{print $NF}' | sort -u >"$work/referenced"
nm -g --defined-only "$archive" 2>/dev/null | awk 'NF == 3 {print $3}' | grep -E "$openssl_names" \
  | sort -u | comm -23 - "$work/referenced" >"$work/localize"
if [ -s "$work/localize" ]; then
  objcopy --localize-symbols="$work/localize" "$archive"
fi
echo "build-wolfssl: made $(wc -l <"$work/localize") OpenSSL-named functions local" >&2

build_id="$(cat "$prefix.tmp/include/wolfssl/options.h" "$prefix.tmp/lib/libwolfssl.a" | sha256sum | cut -c1-16)"
cat >"$work/appwire_build_id.c" <<C
const char appwire_wolfssl_build_${build_id}[] = "${version} ${key}";
C
cc -c -O2 -fPIC "$work/appwire_build_id.c" -o "$work/appwire_build_id.o"
ar r "$prefix.tmp/lib/libwolfssl.a" "$work/appwire_build_id.o"
cat >"$prefix.tmp/include/appwire_wolfssl_build.h" <<H
/* Generated by scripts/build-wolfssl.sh. Referencing this symbol makes a link
 * against a libwolfssl.a from another build fail instead of miscompiling. */
#define APPWIRE_WOLFSSL_BUILD_ID "${build_id}"
#define APPWIRE_WOLFSSL_BUILD_SYMBOL appwire_wolfssl_build_${build_id}
H
echo "$build_id" >"$prefix.tmp/BUILD_ID"
rm -rf "$prefix"
mv "$prefix.tmp" "$prefix"
echo "build-wolfssl: built $prefix" >&2
echo "$prefix"
