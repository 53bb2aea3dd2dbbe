// `appwire convert` on the file it is given (tools/appwire/pem_conversion.h):
// PKCS#12 (password "fuzz", as in the seed corpus), a DER certificate or a
// DER private key, turned into the PEM key and chain appwire reads.
//
// Checks: errors are InvalidArgument (Internal or ResourceExhausted only for
// encoding and memory failures); what comes out is PEM that NormalizePem
// accepts, a key is not encrypted, and a certificate converted from DER
// (not from PKCS#12, whose certificates are copied unparsed) can be
// described.
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "appwire/common/pem.h"
#include "appwire/transport/certificate_info.h"
#include "appwire/transport/private_key.h"
#include "tests/fuzz/fuzz_support.h"
#include "tools/appwire/pem_conversion.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace appwire;
  const absl::string_view input = fuzz::AsText(data, size);
  if (fuzz::HasLargeIterationCount(input)) return 0;  // slow, not wrong (fuzz_support.h)
  absl::StatusOr<ConvertedPem> converted = ConvertToPem(input, "fuzz", "fuzz");
  if (!converted.ok()) {
    const absl::StatusCode code = converted.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kInternal ||
                   code == absl::StatusCode::kResourceExhausted,
               "ConvertToPem: %s", converted.status().ToString().c_str());
    return 0;
  }
  if (!converted->private_key_pem.empty()) {
    absl::StatusOr<std::string> key =
        NormalizePem(converted->private_key_pem, "fuzz", PemKind::kPrivateKey);
    FUZZ_CHECK(key.ok(), "the converted key is refused: %s", key.status().ToString().c_str());
    FUZZ_CHECK(!IsEncryptedPrivateKeyPem(*key), "the converted key is encrypted");
  }
  if (!converted->certificate_chain_pem.empty()) {
    absl::StatusOr<std::string> chain =
        NormalizePem(converted->certificate_chain_pem, "fuzz", PemKind::kCertificate);
    FUZZ_CHECK(chain.ok(), "the converted chain is refused: %s", chain.status().ToString().c_str());
    FUZZ_CHECK(!SplitPemCertificates(*chain).empty(), "the converted chain has no block");
    absl::StatusOr<CertificateInfo> info = DescribeCertificatePem(*chain, "fuzz");
    FUZZ_CHECK(info.ok() || LooksLikePkcs12(input),
               "a certificate converted from DER cannot be described: %s",
               info.status().ToString().c_str());
  }
  FUZZ_CHECK(!converted->private_key_pem.empty() || !converted->certificate_chain_pem.empty() ||
                 LooksLikePkcs12(input),
             "ConvertToPem succeeded with nothing");
  return 0;
}
