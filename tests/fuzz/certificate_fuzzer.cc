// Certificate files (cert.pem, ca.pem, certificates/<host>.crt) as the
// server reads them: appwire/transport/certificate_info.h (SplitPemCertificates,
// DescribeCertificatePem) and the identity check of
// appwire/transport/certificate_store.h (LoadIdentityFiles: PEM rules, chain order,
// expiry) with the input as cert.pem beside a fixed key.pem.
//
// An input that starts like DER (0x30) is wrapped in a CERTIFICATE block
// first, so that mutations reach the X.509 parser rather than break base64;
// PEM inputs are used as they are.
//
// Checks: the errors are the documented ones; each block SplitPemCertificates
// returns is one BEGIN/END CERTIFICATE block; a described certificate has its
// DER and a fingerprint that parses back (ParseSha256Fingerprint) to the
// same bytes.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "appwire/common/pem.h"
#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/certificate_info.h"
#include "appwire/transport/certificate_store.h"
#include "appwire/transport/tls_options.h"
#include "tests/fuzz/fuzz_support.h"

namespace appwire {
namespace {

void CheckInfo(const CertificateInfo& info) {
  FUZZ_CHECK(!info.der.empty(), "a described certificate has no DER");
  std::string raw;
  absl::Status parsed = ParseSha256Fingerprint(info.sha256_fingerprint, &raw);
  FUZZ_CHECK(parsed.ok(), "fingerprint \"%s\" does not parse: %s", info.sha256_fingerprint.c_str(),
             parsed.ToString().c_str());
  FUZZ_CHECK(FormatSha256Fingerprint(raw) == info.sha256_fingerprint,
             "fingerprint \"%s\" does not format back", info.sha256_fingerprint.c_str());
  FormatUtc(info.not_before);
  FormatUtc(info.not_after);
}

void Describe(absl::string_view pem) {
  absl::StatusOr<CertificateInfo> info = DescribeCertificatePem(pem, "fuzz");
  if (info.ok()) {
    CheckInfo(*info);
  } else {
    FUZZ_CHECK(info.status().code() == absl::StatusCode::kInvalidArgument,
               "DescribeCertificatePem: %s", info.status().ToString().c_str());
  }
}

}  // namespace
}  // namespace appwire

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace appwire;
  absl::string_view input = fuzz::AsText(data, size);
  std::string wrapped;
  if (fuzz::StartsLikeDer(input)) {
    wrapped = fuzz::WrapPem("CERTIFICATE", input);
    input = wrapped;
  }

  Describe(input);
  std::vector<std::string> blocks = SplitPemCertificates(input);
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string& block = blocks[i];
    FUZZ_CHECK(absl::StartsWith(block, "-----BEGIN CERTIFICATE-----") &&
                   absl::EndsWith(block, "-----END CERTIFICATE-----\n"),
               "block %zu is not one PEM certificate", i);
    if (i < 8) Describe(block);
  }

  // What the server does with cert.pem (the key never matches: the point is
  // everything before that check).
  static const fuzz::ScratchDir& dir = fuzz::ScratchDir::Get();
  static const std::string key_path = [] {
    absl::StatusOr<std::string> key = GenerateEcdsaP256KeyPem();
    FUZZ_CHECK(key.ok(), "GenerateEcdsaP256KeyPem: %s", key.status().ToString().c_str());
    std::string path = dir.File("key.pem");
    fuzz::WriteScratchFile(path, *key);
    return path;
  }();
  static const std::string cert_path = dir.File("cert.pem");
  fuzz::WriteScratchFile(cert_path, input);
  absl::StatusOr<ServerIdentity> identity = LoadIdentityFiles(cert_path, key_path);
  if (identity.ok()) {
    CheckInfo(identity->leaf);
  } else {
    const absl::StatusCode code = identity.status().code();
    FUZZ_CHECK(
        code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kFailedPrecondition,
        "LoadIdentityFiles: %s", identity.status().ToString().c_str());
  }
  return 0;
}
