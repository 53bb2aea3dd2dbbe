// What a TlsContext is built from. One struct for both roles; every field
// documents its default. Plain data: no wolfSSL or Asio types.
#ifndef APPWIRE_TRANSPORT_TLS_OPTIONS_H_
#define APPWIRE_TRANSPORT_TLS_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "appwire/common/parameters.h"
#include "appwire/common/tls_version.h"

namespace appwire {

enum class TlsRole { kServer, kClient };

// The ALPN protocol id every appwire connection negotiates.
inline constexpr absl::string_view kAlpnProtocol = "appwire/1";
// The ALPN protocol id of an ACME TLS-ALPN-01 validation (RFC 8737): a
// server context that answers one negotiates this instead.
inline constexpr absl::string_view kAcmeTlsAlpnProtocol = "acme-tls/1";

struct TlsOptions {
  TlsRole role = TlsRole::kClient;

  // Lowest and highest protocol versions this end accepts. Default: TLS 1.3
  // only. TLS 1.0 and 1.1 cannot be expressed: they are obsolete.
  TlsVersion min_version = TlsVersion::k1_3;
  TlsVersion max_version = TlsVersion::k1_3;

  // TLS 1.3 suites in preference order, colon-separated IANA names.
  // Default: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305 (all forward-secret
  // AEAD). Empty means the default.
  std::string tls13_cipher_suites;
  // TLS 1.2 suites (used when min_version is 1.2), OpenSSL cipher-string
  // syntax ("ECDHE-ECDSA-AES128-GCM-SHA256:..."). Default: ECDHE and DHE
  // suites with AEAD ciphers. A list with no forward-secret suite is refused
  // unless allow_non_forward_secret is set.
  std::string tls12_cipher_list;
  bool allow_non_forward_secret = false;
  // Key-exchange groups, preferred first: "P-256:X25519:P-384" (default).
  std::string key_exchange_groups;
  // DH parameters (PEM) for TLS 1.2 DHE suites; without them only ECDHE
  // suites are offered.
  std::string dh_params_pem;
  // Servers: the key TLS session tickets are encrypted with
  // (appwire/transport/session_ticket_key.h), so tickets outlive this context and
  // this process. Empty: wolfSSL's random per-context key.
  std::string session_ticket_key;

  // Our certificate chain (leaf first) and private key, as PEM text.
  // Required for servers; optional for clients (mutual TLS).
  std::string certificate_chain_pem;
  std::string private_key_pem;
  // Where the two came from, for error messages ("cert.pem and key.pem do
  // not match"). Default: "certificate" / "private key".
  std::string certificate_source = "certificate";
  std::string private_key_source = "private key";

  // ---- Server: client certificates (mutual TLS), 4D-style selector 1004.
  enum class ClientCertificateMode { kNone = 0, kRequest = 1, kRequire = 2 };
  // kNone (default): not asked for. kRequest: asked for, and verified
  // against trusted_ca_pem when presented. kRequire: a client without a
  // valid certificate is refused.
  ClientCertificateMode client_certificate_mode = ClientCertificateMode::kNone;
  // A certificate revocation list (PEM) for client certificates: a client
  // whose certificate it lists is refused.
  std::string crl_pem;
  std::string crl_source = "CRL";

  // ---- Client: how the server is trusted (and, for a server asking for
  // client certificates, the CAs it trusts for them). At least one must be
  // set for a client; nothing ever silently skips verification.
  // PEM roots (one or more CA certificates).
  std::string trusted_ca_pem;
  std::string trusted_ca_source = "CA file";
  // Trust the operating system's root store (/etc/ssl/certs).
  bool use_system_trust_store = false;
  // SHA-256 fingerprint of the server's leaf certificate, as printed by
  // appwire-server ("SHA256:AB:CD:..." or plain hex). When set, the pin is
  // the server's identity (as SSH's known_hosts): a server presenting this
  // exact certificate is trusted whatever its issuer, names or dates, and
  // any other certificate is refused.
  std::string pinned_sha256;
  // Trust on first use: accept the server's certificate whatever its chain;
  // the caller records its fingerprint (see ChannelOptions). Only for a
  // first contact, explicitly asked for.
  bool trust_on_first_use = false;
  // Refuse a peer that does not negotiate ALPN `alpn_protocol`. Default on;
  // a probe of arbitrary TLS servers turns it off.
  bool require_alpn = true;
  // The ALPN protocol this end offers (client) or accepts (server):
  // "appwire/1", or "acme-tls/1" for the context that answers an ACME
  // TLS-ALPN-01 validation with its challenge certificate.
  std::string alpn_protocol = std::string(kAlpnProtocol);

  // Handshake must finish within this time. Default 10 s.
  absl::Duration handshake_timeout = absl::Seconds(10);

  // Checks the fields for contradictions; InvalidArgument naming the field.
  absl::Status Validate() const;
};

// Fills the TLS fields of `options` (versions, suites, groups, handshake
// timeout, client certificate mode) from database parameters: those of
// `parameters`, or `overrides` where set, else the process-wide values (read
// as one snapshot, so all fields come from the same moment).
void ApplyParameters(const ParameterSnapshot& parameters, TlsOptions* options);
void ApplyParameters(const ParameterOverrides& overrides, TlsOptions* options);

// Parses "SHA256:AB:CD:..." / "ab cd ..." / "abcd..." into 32 raw bytes;
// InvalidArgument when it is not a SHA-256 fingerprint.
absl::Status ParseSha256Fingerprint(absl::string_view text, std::string* raw);

// Formats 32 raw bytes as "SHA256:AB:CD:...".
std::string FormatSha256Fingerprint(absl::string_view raw);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_TLS_OPTIONS_H_
