#!/usr/bin/env bash
# `make demo`: start appwire-server on a default project folder, run the
# example desktop clients against it over TLS, print what happened, stop.
set -euo pipefail
build="${1:-build}"
project="$build/demo-project"
log="$(mktemp)"
notes_log="$(mktemp)"
server_pid=""
notes_pid=""
mtls_pid=""
mtls_log="$(mktemp)"
resilient_pid=""
pebble_pids=""
cleanup() {
  for pid in $pebble_pids; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  [ -n "$resilient_pid" ] && kill "$resilient_pid" 2>/dev/null && wait "$resilient_pid" 2>/dev/null || true
  [ -n "$mtls_pid" ] && kill "$mtls_pid" 2>/dev/null && wait "$mtls_pid" 2>/dev/null || true
  rm -f "$mtls_log"
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "$notes_pid" ] && kill "$notes_pid" 2>/dev/null && wait "$notes_pid" 2>/dev/null || true
  rm -f "$log" "$notes_log"
}
trap cleanup EXIT

# Waits (bounded) for a line matching $2 in file $1 and prints its last field.
wait_for_address() {
  for _ in $(seq 1 100); do
    if grep -q "$2" "$1"; then
      grep "$2" "$1" | head -1 | awk '{print $NF}'
      return 0
    fi
    sleep 0.1
  done
  echo "demo: timed out waiting for '$2'; log:" >&2
  cat "$1" >&2
  return 1
}

echo "== appwire demo: project folder $project"
"$build/appwire/server/appwire-server" --project "$project" --port 0 --bind 127.0.0.1 2>"$log" &
server_pid=$!
address="$(wait_for_address "$log" "listening on")"
sed 's/^/   server | /' "$log"
echo
echo "== desktop client (examples/echo_client) -> appwire-server at $address, trusting $project/cert.pem"
"$build/examples/echo_client" --target "$address" --ca "$project/cert.pem" | sed 's/^/   client | /'
echo
echo "== pinned fingerprint instead of a CA file"
fingerprint="$(grep 'certificate fingerprint' "$log" | awk '{print $NF}')"
"$build/examples/echo_client" --target "$address" --pin "$fingerprint" --message "pinned" \
  | grep echo | sed 's/^/   client | /'
echo
echo "== a desktop-app-style service: examples/notes_server and notes_client"
"$build/examples/notes_server" "$project" 0 >"$notes_log" 2>&1 &
notes_pid=$!
notes_address="$(wait_for_address "$notes_log" "notes_server listening on")"
"$build/examples/notes_client" --target "$notes_address" --ca "$project/cert.pem" | sed 's/^/   client | /'
echo
echo "== mutual TLS: examples/echo_server_mtls requires a client certificate (client-ca.pem)"
mtls="$build/demo-mtls"
rm -rf "$mtls"
mkdir -p "$mtls/project" "$mtls/client"
# A small client CA and a certificate for "alice", made with openssl here.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -keyout "$mtls/client-ca.key" -out "$mtls/project/client-ca.pem" -subj "/CN=Demo Client CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=alice" \
  -keyout "$mtls/client/key.pem" -out "$mtls/alice.csr" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n' >"$mtls/ext.cnf"
openssl x509 -req -in "$mtls/alice.csr" -CA "$mtls/project/client-ca.pem" -CAkey "$mtls/client-ca.key" \
  -CAcreateserial -days 30 -extfile "$mtls/ext.cnf" -out "$mtls/client/cert.pem" 2>/dev/null
chmod 600 "$mtls/client/key.pem" "$mtls/client-ca.key"
"$build/examples/echo_server_mtls" "$mtls/project" 0 >"$mtls_log" 2>&1 &
mtls_pid=$!
mtls_address="$(wait_for_address "$mtls_log" "echo_server_mtls listening on")"
cp "$mtls/project/cert.pem" "$mtls/client/ca.pem"
"$build/examples/echo_client_mtls" --target "$mtls_address" --client-folder "$mtls/client" \
  | sed 's/^/   client | /'
echo "   without a certificate:"
"$build/examples/echo_client" --target "$mtls_address" --ca "$mtls/project/cert.pem" 2>&1 \
  | grep -i "failed" | cut -c1-200 | sed 's/^/   client | /' || true
kill "$mtls_pid" 2>/dev/null; wait "$mtls_pid" 2>/dev/null || true
mtls_pid=""
echo
echo "== the server restarts under a desktop client (examples/resilient_client)"
resilient_log="$(mktemp)"
"$build/examples/resilient_client" --target "$address" --ca "$project/cert.pem" \
  --calls 10 --interval-ms 150 >"$resilient_log" 2>&1 &
resilient_pid=$!
sleep 0.5
kill -TERM "$server_pid"
wait "$server_pid" || true
echo "   (appwire-server stopped; starting it again on the same port)"
sleep 0.3
"$build/appwire/server/appwire-server" --project "$project" --port "${address##*:}" --bind 127.0.0.1 \
  2>"$log" &
server_pid=$!
wait_for_address "$log" "listening on" >/dev/null
wait "$resilient_pid" || echo "   resilient_client: some calls failed"
resilient_pid=""
sed 's/^/   client | /' "$resilient_log"
rm -f "$resilient_log"
echo
echo "== AutoSSL: a certificate from an ACME CA (Pebble, Let's Encrypt's test CA, on loopback)"
if command -v pebble >/dev/null && command -v pebble-challtestsrv >/dev/null; then
  acme="$build/demo-acme"
  rm -rf "$acme"
  mkdir -p "$acme/pebble" "$acme/project"
  # Four distinct free TCP ports (held open together while chosen) and a UDP one.
  read -r acme_port management_port app_port challtestsrv_port dns_port < <(python3 -c '
import socket
tcp = [socket.socket() for _ in range(4)]
for s in tcp: s.bind(("127.0.0.1", 0))
udp = socket.socket(type=socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in tcp + [udp]])')
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$acme/pebble/key.pem" -out "$acme/pebble/cert.pem" -subj "/CN=pebble" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
  cat >"$acme/pebble/config.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$acme_port", "managementListenAddress": "127.0.0.1:$management_port",
 "certificate": "$acme/pebble/cert.pem", "privateKey": "$acme/pebble/key.pem",
 "httpPort": 5002, "tlsPort": $app_port, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
  # pebble-challtestsrv is Pebble's DNS: every name resolves to 127.0.0.1.
  pebble-challtestsrv -dns01 "127.0.0.1:$dns_port" -http01 "" -https01 "" -tlsalpn01 "" \
    -management "127.0.0.1:$challtestsrv_port" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
    >"$acme/challtestsrv.log" 2>&1 &
  pebble_pids="$!"
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$acme/pebble/config.json" \
    -dnsserver "127.0.0.1:$dns_port" >"$acme/pebble.log" 2>&1 &
  pebble_pids="$pebble_pids $!"
  for _ in $(seq 1 100); do
    curl -sf --max-time 2 --cacert "$acme/pebble/cert.pem" "https://127.0.0.1:$acme_port/dir" -o /dev/null && break
    sleep 0.2
  done
  cp "$project/dhparams.pem" "$acme/project/" 2>/dev/null || true
  cat >"$acme/project/appwire.conf" <<CONF
port = $app_port
acme_domains = shop.demo.test
acme_directory = https://127.0.0.1:$acme_port/dir
acme_ca_file = $acme/pebble/cert.pem
CONF
  echo "   appwire.conf: acme_domains = shop.demo.test, acme_directory = Pebble"
  acme_log="$acme/server.log"
  "$build/appwire/server/appwire-server" --project "$acme/project" 2>"$acme_log" &
  acme_server_pid=$!
  for _ in $(seq 1 300); do
    grep -q "acme: certificate saved\|acme: could not get" "$acme_log" && break
    sleep 0.1
  done
  grep "acme: " "$acme_log" | sed 's/^/   server | /'
  curl -sf --max-time 5 --cacert "$acme/pebble/cert.pem" "https://127.0.0.1:$management_port/roots/0" \
    -o "$acme/pebble-root.pem"
  echo "   a client trusting Pebble's root connects by name:"
  "$build/examples/echo_client" --target "127.0.0.1:$app_port" --ca "$acme/pebble-root.pem" \
    --server-name shop.demo.test --message "issued by an ACME CA" | sed 's/^/   client | /'
  "$build/tools/appwire" acme status --project "$acme/project" | sed 's/^/   appwire acme status | /'
  kill -TERM "$acme_server_pid"; wait "$acme_server_pid" || true
  for pid in $pebble_pids; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  pebble_pids=""
else
  echo "   (pebble is not installed: scripts/install-deps.sh installs it)"
fi
echo
echo "== stopping (SIGTERM drains calls in flight)"
kill -TERM "$server_pid"
wait "$server_pid" && echo "   appwire-server exited with status 0"
server_pid=""
echo "demo done."
