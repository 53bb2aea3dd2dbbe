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
cleanup() {
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
echo "== stopping (SIGTERM drains calls in flight)"
kill -TERM "$server_pid"
wait "$server_pid" && echo "   appwire-server exited with status 0"
server_pid=""
echo "demo done."
