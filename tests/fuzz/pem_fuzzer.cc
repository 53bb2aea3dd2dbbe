// PEM and DER detection (appwire/common/pem.h) on the contents of key.pem,
// cert.pem, ca.pem, client-ca.pem: whatever the operator put in the file.
//
// NormalizePem runs for both kinds. Checks: only InvalidArgument is an error
// and it names the file; a result has LF line endings only, holds the block
// asked for, is never longer than the input, and normalizes to itself.
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "appwire/common/pem.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

constexpr absl::string_view kPath = "fuzz/input.pem";

void Check(absl::string_view input, appwire::PemKind kind) {
  absl::StatusOr<std::string> normalized = appwire::NormalizePem(input, kPath, kind);
  if (!normalized.ok()) {
    FUZZ_CHECK(normalized.status().code() == absl::StatusCode::kInvalidArgument, "NormalizePem: %s",
               normalized.status().ToString().c_str());
    FUZZ_CHECK(absl::StrContains(normalized.status().message(), kPath),
               "the error does not name the file: %s", normalized.status().ToString().c_str());
    return;
  }
  const std::string& text = *normalized;
  FUZZ_CHECK(text.size() <= input.size(), "normalized to %zu bytes from %zu", text.size(),
             input.size());
  FUZZ_CHECK(text.find('\r') == std::string::npos, "a CR is left");
  FUZZ_CHECK(
      absl::StrContains(text, kind == appwire::PemKind::kCertificate ? "-----BEGIN CERTIFICATE-----"
                                                                     : "PRIVATE KEY-----"),
      "accepted without the block");
  absl::StatusOr<std::string> again = appwire::NormalizePem(text, kPath, kind);
  FUZZ_CHECK(again.ok(), "normalized text is refused: %s", again.status().ToString().c_str());
  FUZZ_CHECK(*again == text, "NormalizePem is not idempotent");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input = appwire::fuzz::AsText(data, size);
  Check(input, appwire::PemKind::kCertificate);
  Check(input, appwire::PemKind::kPrivateKey);
  return 0;
}
