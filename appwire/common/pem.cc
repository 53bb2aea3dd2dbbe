#include "appwire/common/pem.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"

namespace appwire {
namespace {

std::string ToLf(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      out.push_back('\n');
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// DER starts with a SEQUENCE tag. A PKCS#12 file is a SEQUENCE whose first
// element is INTEGER 3 (the PFX version).
bool LooksLikeDer(absl::string_view data) {
  return data.size() > 4 && static_cast<unsigned char>(data[0]) == 0x30;
}

bool LooksLikePkcs12(absl::string_view data) {
  if (!LooksLikeDer(data)) return false;
  size_t i = 1;
  unsigned char len = static_cast<unsigned char>(data[i]);
  i += (len & 0x80) ? 1 + (len & 0x7f) : 1;
  return i + 2 < data.size() && data[i] == 0x02 && data[i + 1] == 0x01 &&
         data[i + 2] == 0x03;
}

}  // namespace

absl::StatusOr<std::string> NormalizePem(absl::string_view contents,
                                         absl::string_view path, PemKind kind) {
  const bool want_cert = kind == PemKind::kCertificate;
  const char* what = want_cert ? "a PEM certificate" : "a PEM private key";
  if (contents.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", path, "\" is empty; it must hold ", what));
  }
  if (LooksLikePkcs12(contents)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", path, "\" is a PKCS#12 (.p12/.pfx) file, not ", what,
        "; convert it with: openssl pkcs12 -in FILE.p12 -nodes -out both.pem, "
        "then split the key and certificates into key.pem and cert.pem"));
  }
  if (LooksLikeDer(contents)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", path, "\" is binary DER, not ", what, "; convert it with: ",
        want_cert ? "openssl x509 -inform DER -in FILE.der -out cert.pem"
                  : "openssl pkey -inform DER -in FILE.der -out key.pem"));
  }
  std::string text = ToLf(contents);
  const bool has_cert = absl::StrContains(text, "-----BEGIN CERTIFICATE-----");
  const bool has_key = absl::StrContains(text, "PRIVATE KEY-----");
  if (want_cert && has_cert) return text;
  if (!want_cert && has_key) return text;
  if (want_cert && has_key) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", path, "\" holds a private key, not a certificate; "
        "did you swap key.pem and cert.pem?"));
  }
  if (!want_cert && has_cert) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", path, "\" holds a certificate, not a private key; "
        "did you swap key.pem and cert.pem?"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", path, "\" is not PEM: no \"-----BEGIN ",
      want_cert ? "CERTIFICATE" : "PRIVATE KEY", "-----\" line found; it must hold ",
      what));
}

absl::StatusOr<std::string> ReadPemFile(const std::string& path, PemKind kind) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return NormalizePem(*text, path, kind);
}

}  // namespace appwire
