#!/usr/bin/env bash
# Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/NAME/.
# Run from anywhere; needs openssl and python3. The committed corpus came
# from this script: rerunning it replaces every file (the keys and
# certificates are new each time: they are throwaway test keys made here,
# never used for anything else). Encrypted keys and PKCS#12 files use the
# password "fuzz", the one the targets try.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="$here/corpus"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

for name in frame_decoder pem certificate private_key pem_conversion dh_params \
            settings_file known_servers client_folder; do
  rm -rf "${out:?}/$name"
  mkdir -p "$out/$name"
done

# --- frame_decoder: the frames of docs/protocol.md sections 4.4 and 14, and
# the other kinds, encoded by hand (protobuf wire format) -------------------
python3 - "$out/frame_decoder" <<'PY'
import struct, sys
out = sys.argv[1]

def varint(n):
    b = bytearray()
    while True:
        c = n & 0x7f
        n >>= 7
        if n:
            b.append(c | 0x80)
        else:
            b.append(c)
            return bytes(b)

def field(number, value):
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value

def frame(header, payload=b"", frame_length=None):
    length = 4 + len(header) + len(payload) if frame_length is None else frame_length
    return struct.pack(">II", length, len(header)) + header + payload

def write(name, data):
    with open(f"{out}/{name}", "wb") as f:
        f.write(data)

hello = lambda who: field(2, field(1, 1) + field(2, who) + field(3, b"0.1.0") + field(4, 16 << 20))
request = lambda call, method, extra=b"": field(1, call) + field(3, field(1, method) + extra)
response = lambda call, body=b"": field(1, call) + field(4, body)
goaway = field(5, field(1, 14) + field(2, b"the server is shutting down"))

client_hello = frame(hello(b"appwire-client"))
health = frame(request(1, b"appwire.v1.Health/Check"))
echo = frame(request(3, b"appwire.v1.Echo/Echo", field(2, 250000)), b"\x0a\x02hi")
server_hello = frame(hello(b"appwire-server"))
echo_ok = frame(response(3), b"\x0a\x02hi")
health_ok = frame(response(1), b"\x08\x01")
final_goaway = frame(goaway)

# The bytes docs/protocol.md sections 4.4 and 14 show.
doc = lambda text: bytes.fromhex(text.replace(" ", ""))
assert client_hello == doc("00 00 00 24 00 00 00 20 12 1e 08 01 12 0e 61 70 70 77 69 72 65 2d 63 6c"
                           "69 65 6e 74 1a 05 30 2e 31 2e 30 20 80 80 80 08")
assert health == doc("00 00 00 21 00 00 00 1d 08 01 1a 19 0a 17 61 70 70 77 69 72 65 2e 76 31"
                     "2e 48 65 61 6c 74 68 2f 43 68 65 63 6b")
assert echo == doc("00 00 00 26 00 00 00 1e 08 03 1a 1a 0a 14 61 70 70 77 69 72 65 2e 76 31"
                   "2e 45 63 68 6f 2f 45 63 68 6f 10 90 a1 0f 0a 02 68 69")
assert server_hello == doc("00 00 00 24 00 00 00 20 12 1e 08 01 12 0e 61 70 70 77 69 72 65 2d 73 65"
                           "72 76 65 72 1a 05 30 2e 31 2e 30 20 80 80 80 08")
assert echo_ok == doc("00 00 00 0c 00 00 00 04 08 03 22 00 0a 02 68 69")
assert health_ok == doc("00 00 00 0a 00 00 00 04 08 01 22 00 08 01")
assert final_goaway == doc("00 00 00 25 00 00 00 21 2a 1f 08 0e 12 1b 74 68 65 20 73 65 72 76 65 72"
                           "20 69 73 20 73 68 75 74 74 69 6e 67 20 64 6f 77 6e")

write("client_hello", client_hello)
write("request_health_check", health)
write("request_echo_deadline", echo)
write("server_hello", server_hello)
write("response_echo", echo_ok)
write("response_health", health_ok)
write("goaway_final", final_goaway)
write("goaway_graceful_last_call_id",
      frame(field(5, field(1, 14) + field(2, b"the server is shutting down") + field(3, 1) + field(4, 3))))
write("response_unimplemented", frame(doc("08 05 22 05 08 0c 12 01 78")))
write("session_client", client_hello + health + echo)
write("session_server", server_hello + echo_ok + health_ok + final_goaway)
metadata = field(3, field(1, b"x-request-id") + field(2, b"42")) + \
           field(3, field(1, b"session-token-bin") + field(2, b"\x00\xff\x80")) + field(4, 3)
write("request_metadata_bidi", frame(request(5, b"inventory.Inventory/Watch", metadata)))
write("response_trailers_error",
      frame(response(7, field(1, 5) + field(2, b"no such item") +
                     field(3, field(1, b"retry-after") + field(2, b"3")) + field(4, 1))))
write("stream_message_half_close_cancel_window",
      frame(field(1, 5) + field(6, b""), b"\x0a\x03abc") + frame(field(1, 5) + field(7, b"")) +
      frame(field(1, 9) + field(8, b"")) + frame(field(1, 5) + field(9, field(1, 65536))))
write("ping_and_ack", frame(field(10, field(1, 0x1234567890))) +
      frame(field(10, field(1, 0x1234567890) + field(2, 1))))
big = request(11, b"appwire.v1.Echo/Echo")
write("oversized_payload_then_ping",
      frame(big, b"\x00" * 16, frame_length=4 + len(big) + (16 << 20) + 1) + frame(field(10, b"")))
write("empty_header", frame(b""))
write("malformed_frame_length_3", struct.pack(">II", 3, 0))
write("header_over_limit", struct.pack(">II", 4 + 65537, 65537) + b"\x08\x01")
write("header_not_protobuf", frame(b"\xff\xff\xff"))
write("incomplete_request", health[:20])
write("unknown_field_only", frame(field(15, 7)))
write("negative_status_code", frame(response(9, field(1, (1 << 64) - 1))))
PY

# --- keys and certificates (throwaway, made here) ---------------------------
ossl() { openssl "$@" 2>/dev/null; }
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key
ossl ec -in ec.key -out ec_traditional.key
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec384.key
ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key
ossl rsa -in rsa.key -traditional -out rsa_traditional.key
ossl genpkey -algorithm ED25519 -out ed25519.key
ossl pkcs8 -topk8 -in ec.key -v2 aes-256-cbc -iter 1 -passout pass:fuzz -out ec_pkcs8_aes_iter1.key
ossl pkcs8 -topk8 -in ec.key -v2 aes-128-cbc -passout pass:fuzz -out ec_pkcs8_aes.key
ossl pkcs8 -topk8 -in rsa.key -v1 PBE-SHA1-3DES -passout pass:fuzz -out rsa_pkcs8_pbes1.key
ossl ec -in ec.key -aes128 -passout pass:fuzz -out ec_traditional_aes.key
ossl rsa -in rsa.key -traditional -des3 -passout pass:fuzz -out rsa_traditional_des3.key
ossl pkey -in ec.key -outform DER -out ec_pkcs8.der
ossl ec -in ec.key -outform DER -out ec_traditional.der
ossl rsa -in rsa.key -traditional -outform DER -out rsa_traditional.der
ossl pkcs8 -topk8 -in ec.key -v2 aes-256-cbc -iter 1 -passout pass:fuzz -outform DER \
  -out ec_pkcs8_encrypted.der

cat >ca.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
[leaf_ext]
basicConstraints = CA:false
subjectAltName = DNS:localhost, DNS:*.example.com, IP:127.0.0.1, IP:::1, email:ops@example.com, URI:https://example.com/
extendedKeyUsage = serverAuth, clientAuth
[ca]
default_ca = d
[d]
database = index.txt
serial = serial
new_certs_dir = .
default_md = sha256
policy = p
copy_extensions = copy
[p]
commonName = supplied
CNF
touch index.txt
echo 1000 >serial
ossl req -x509 -new -key ec384.key -subj "/CN=appwire fuzz CA/O=appwire" -days 3650 \
  -config ca.cnf -extensions ca_ext -out ca.pem
ossl req -new -key ec.key -subj "/CN=localhost/O=appwire fuzz" -config ca.cnf -out leaf.csr
ossl x509 -req -in leaf.csr -CA ca.pem -CAkey ec384.key -CAcreateserial -days 3650 \
  -extfile ca.cnf -extensions leaf_ext -out leaf.pem
ossl req -x509 -new -key rsa.key -subj "/CN=rsa.example.com" -days 3650 -out rsa_self_signed.pem
ossl req -x509 -new -key ec.key -subj "/CN=localhost" -days 3650 \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out ec_self_signed.pem
ossl ca -batch -config ca.cnf -cert ca.pem -keyfile ec384.key -in leaf.csr -notext \
  -startdate 20200101000000Z -enddate 20210101000000Z -out expired.pem
ossl x509 -in leaf.pem -outform DER -out leaf.der
cat leaf.pem ca.pem >chain.pem
cat ca.pem leaf.pem >chain_wrong_order.pem
sed 's/$/\r/' chain.pem >chain_crlf.pem
ossl pkcs12 -export -inkey ec.key -in leaf.pem -certfile ca.pem -passout pass:fuzz \
  -iter 1 -maciter -out chain.p12
ossl pkcs12 -export -inkey rsa.key -in rsa_self_signed.pem -passout pass:fuzz \
  -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 -iter 1 -out rsa_legacy.p12
ossl pkcs12 -export -nokeys -in leaf.pem -passout pass:fuzz -iter 1 -out certificate_only.p12
ossl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out ffdhe2048.pem
ossl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe3072 -out ffdhe3072.pem
sed "1d;\$d" ffdhe2048.pem | base64 -d >ffdhe2048.der
ossl dhparam -out dh1024.pem 1024
ossl dhparam -dsaparam -out x942.pem 1024 || true

c() { cp "$1" "$out/$2/${3:-$1}"; }

for f in leaf.pem ca.pem chain.pem chain_wrong_order.pem chain_crlf.pem rsa_self_signed.pem \
         ec_self_signed.pem expired.pem leaf.der ec.key; do
  c "$f" certificate
done
printf '%s' "$(cat leaf.pem)" >"$out/certificate/leaf_no_final_newline.pem"
tr '\n' '\r' <leaf.pem >"$out/certificate/leaf_cr_only.pem"

for f in ec.key ec_traditional.key ec384.key rsa.key rsa_traditional.key ed25519.key \
         ec_pkcs8_aes_iter1.key ec_pkcs8_aes.key rsa_pkcs8_pbes1.key ec_traditional_aes.key \
         rsa_traditional_des3.key ec_pkcs8.der ec_traditional.der rsa_traditional.der \
         ec_pkcs8_encrypted.der; do
  c "$f" private_key
done
sed 's/$/\r/' ec.key >"$out/private_key/ec_crlf.key"
cat ec.key leaf.pem >"$out/private_key/key_and_certificate.pem"

for f in chain.p12 rsa_legacy.p12 certificate_only.p12 leaf.der ec_pkcs8.der ec_traditional.der \
         rsa_traditional.der leaf.pem; do
  c "$f" pem_conversion
done

for f in ffdhe2048.pem ffdhe3072.pem ffdhe2048.der dh1024.pem; do c "$f" dh_params; done
[ -s x942.pem ] && c x942.pem dh_params
c ec.key dh_params

for f in leaf.pem chain_crlf.pem ec.key rsa_traditional.key ec_traditional_aes.key leaf.der \
         chain.p12 ffdhe2048.pem; do
  c "$f" pem
done
tr '\n' '\r' <ec.key >"$out/pem/key_cr_only.pem"
cat ec.key leaf.pem >"$out/pem/key_and_certificate.pem"
: >"$out/pem/empty"
printf 'hello, this is not PEM\n' >"$out/pem/text"
openssl pkey -in ec.key -pubout >"$out/pem/public_key.pem" 2>/dev/null
printf '0\x82\x01' >"$out/pem/short_der"

# --- appwire.conf (docs/configuration.md section 3) -------------------------
s="$out/settings_file"
cat >"$s/docs_example.conf" <<'CONF'
# DIR/appwire.conf
port = 19813
bind = 0.0.0.0
min_tls = 1.2
ciphers = ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256
idle_timeout_s = 3600
CONF
cat >"$s/every_key.conf" <<'CONF'
bind = ::1
port = 0
min_tls = 1.2
max_tls = 1.3
ciphers =
tls13_ciphers = TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256
groups = X25519:P-256
client_cert = request
handshake_timeout_ms = 10000
max_message_bytes = 1048576
dh_param_bits = 3072
idle_timeout_s = 0
allow_non_forward_secret = 0
keepalive_interval_ms = 30000
keepalive_timeout_ms = 10000
max_concurrent_calls = 100
max_metadata_bytes = 8192
client_ca = /etc/appwire/client-ca.pem
key_passphrase_file = /etc/appwire/passphrase
key_passphrase_env = APPWIRE_KEY_PASSPHRASE
CONF
printf 'port = 19813\r\nmin_tls = 1.3\r\nmax_tls = 1.3\r\n' >"$s/crlf.conf"
printf 'port = 19813\rclient_cert = require\r' >"$s/cr_only.conf"
printf 'allow_non_forward_secret = 1\nciphers = AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256\n' \
  >"$s/non_forward_secret.conf"
printf 'allow_non_forward_secret = yes\nciphers = AES256-GCM-SHA384\nallow_non_forward_secret = no\n' \
  >"$s/non_forward_secret_then_off.conf"
printf 'min_tls = 1.2\nmax_tls = 1.2\nmin_tls = 1.3\n' >"$s/min_over_max.conf"
printf 'min_tls = 1.1\n' >"$s/obsolete_tls.conf"
printf 'prot = 19813\n' >"$s/unknown_key.conf"
printf '\n# comment\n   \t\nport 19813\n' >"$s/no_equals.conf"
printf 'max_message_bytes = 16MiB\n' >"$s/units.conf"
printf 'port = 19813 # default\n' >"$s/trailing_comment.conf"
printf 'port = 99999\n' >"$s/port_out_of_range.conf"
printf 'bind = localhost\n' >"$s/bind_host_name.conf"
printf 'groups = X25519:P-256:P-384:P-521:ffdhe2048:ffdhe3072\nkeepalive_interval_ms = 0\nport = -1\n' \
  >"$s/groups_and_negative_port.conf"
printf 'tls13_ciphers = TLS_AES_256_GCM_SHA384\nciphers = "ECDHE-RSA-AES128-GCM-SHA256"\n' \
  >"$s/quoted_value.conf"
printf 'handshake_timeout_ms = 9223372036854775807\nidle_timeout_s = -5\n' >"$s/large_numbers.conf"

# --- known_servers (appwire/client/client_folder.h) ---------------------------------
k="$out/known_servers"
fp1="SHA256:5F:AB:67:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
fp2="SHA256:0C:3E:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD"
printf 'db.example.com:19813 %s\n' "$fp1" >"$k/one_server"
printf '# recorded by appwire\nlocalhost:19813 %s\n\n127.0.0.1:19813\t%s\n::1:19813 %s\n' \
  "$fp1" "$fp2" "$fp1" >"$k/comments_tabs_ipv6"
printf 'db.example.com:19813 %s\r\nbackup.example.com:19813 %s\r\n' "$fp1" "$fp2" >"$k/crlf"
printf 'db.example.com:19813 %s\ndb.example.com:19813 %s\n' "$fp1" "$fp2" >"$k/duplicate"
printf 'db.example.com:19813 %s extra\nbad-line\n   indented:1 sha256:%s\n' "$fp1" \
  "$(printf '%064d' 0)" >"$k/odd_lines"
printf 'db.example.com:19813 %s' "$fp1" >"$k/no_final_newline"
: >"$k/empty"

# --- client folder: host, '\n', one byte of which files exist --------------
f="$out/client_folder"
printf 'localhost\n\x7f' >"$f/localhost_everything"
printf 'DB.Example.com\n\x15' >"$f/mixed_case_per_server_cert"
printf '::1\n\x2f' >"$f/ipv6"
printf 'db.example.com\n\x43' >"$f/per_server_ca_only"
printf 'db.example.com\n\x00' >"$f/empty_folder"
printf '..\n\x07' >"$f/dot_dot"
printf '../client\n\x07' >"$f/dot_dot_back_in"
printf 'a/../..\n\x07' >"$f/slash_dot_dot"
printf '\n\x0f' >"$f/empty_host"

# --- session: sequences of operations (session_fuzzer.cc) -----------------
python3 "$here/make_session_corpus.py" "$out/session"

echo "seed corpora written to $out" >&2
du -sh "$out"/* >&2
