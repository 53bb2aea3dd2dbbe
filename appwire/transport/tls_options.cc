#include "appwire/transport/tls_options.h"

#include <cctype>

#include "absl/strings/str_cat.h"

namespace appwire {

absl::Status TlsOptions::Validate() const {
  if (static_cast<int>(min_version) > static_cast<int>(max_version)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS min_version ", TlsVersionName(min_version),
        " is above max_version ", TlsVersionName(max_version),
        "; lower the minimum or raise the maximum"));
  }
  if (role == TlsRole::kServer) {
    if (certificate_chain_pem.empty() || private_key_pem.empty()) {
      return absl::InvalidArgumentError(
          "a TLS server needs a certificate chain and its private key");
    }
    if (client_certificate_mode != ClientCertificateMode::kNone && trusted_ca_pem.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "client certificates are ",
          client_certificate_mode == ClientCertificateMode::kRequire ? "required" : "requested",
          " (kClientCertificateMode) but no CA is trusted for them; put the CA that issues "
          "your clients' certificates in the project folder as client-ca.pem"));
    }
  } else {
    if (trusted_ca_pem.empty() && !use_system_trust_store &&
        pinned_sha256.empty() && !trust_on_first_use) {
      return absl::InvalidArgumentError(
          "a TLS client must trust the server somehow: set a CA file, the "
          "system trust store, or a pinned SHA-256 fingerprint");
    }
    if (certificate_chain_pem.empty() != private_key_pem.empty()) {
      return absl::InvalidArgumentError(
          "a client identity needs both a certificate and its private key");
    }
  }
  if (!pinned_sha256.empty()) {
    std::string raw;
    absl::Status status = ParseSha256Fingerprint(pinned_sha256, &raw);
    if (!status.ok()) return status;
  }
  if (handshake_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "handshake_timeout must be positive, got ",
        absl::FormatDuration(handshake_timeout)));
  }
  return absl::OkStatus();
}

void ApplyParameters(const ParameterSnapshot& parameters, TlsOptions* options) {
  options->min_version = static_cast<TlsVersion>(parameters.Int(Parameter::kMinTlsVersion));
  options->max_version = static_cast<TlsVersion>(parameters.Int(Parameter::kMaxTlsVersion));
  options->tls13_cipher_suites = parameters.Get(Parameter::kTls13CipherSuites).AsString();
  options->tls12_cipher_list = parameters.Get(Parameter::kSslCipherList).AsString();
  options->allow_non_forward_secret = parameters.Int(Parameter::kAllowNonForwardSecret) != 0;
  options->key_exchange_groups = parameters.Get(Parameter::kKeyExchangeGroups).AsString();
  options->handshake_timeout = absl::Milliseconds(parameters.Int(Parameter::kHandshakeTimeout));
  options->client_certificate_mode = static_cast<TlsOptions::ClientCertificateMode>(
      parameters.Int(Parameter::kClientCertificateMode));
}

void ApplyParameters(const ParameterOverrides& overrides, TlsOptions* options) {
  // One snapshot instead of a lock per field: a SetDatabaseParameter on
  // another thread cannot give this context half old, half new settings.
  ApplyParameters(*ParameterSnapshot::Take(overrides), options);
}

absl::Status ParseSha256Fingerprint(absl::string_view text, std::string* raw) {
  absl::string_view body = text;
  if (body.size() >= 7 && (body.substr(0, 7) == "SHA256:" ||
                           body.substr(0, 7) == "sha256:")) {
    body.remove_prefix(7);
  }
  std::string hex;
  for (char c : body) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pinned fingerprint \"", text, "\" has a non-hex character '",
          std::string(1, c), "'; copy the SHA256:... line appwire-server prints"));
    }
    hex.push_back(c);
  }
  if (hex.size() != 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pinned fingerprint \"", text, "\" has ", hex.size() / 2,
        " bytes; a SHA-256 fingerprint has 32"));
  }
  raw->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    raw->push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return absl::OkStatus();
}

std::string FormatSha256Fingerprint(absl::string_view raw) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "SHA256:";
  for (size_t i = 0; i < raw.size(); ++i) {
    if (i > 0) out.push_back(':');
    unsigned char b = static_cast<unsigned char>(raw[i]);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace appwire
