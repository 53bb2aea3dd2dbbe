// Private key files (key.pem, certificates/<host>.key, a client's key.pem)
// after NormalizePem accepted them: appwire/transport/private_key.h (encrypted-key
// detection and decryption with the passphrase) and PublicKeyPem
// (appwire/transport/certificate_generator.h), which reads the key to compare it
// with the certificate.
//
// The passphrase is "fuzz" (the seed corpus's encrypted keys use it). An
// input that starts like DER (0x30) is wrapped in a PRIVATE KEY block and in
// an ENCRYPTED PRIVATE KEY block, so that mutations reach the ASN.1 and
// PKCS#8 parsers.
//
// Checks: a decrypted key is plain PEM that NormalizePem accepts as a private
// key; errors are InvalidArgument (or Internal when re-encoding fails) and
// never show the passphrase.
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "appwire/common/pem.h"
#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/private_key.h"
#include "tests/fuzz/fuzz_support.h"

namespace appwire {
namespace {

void CheckPublicKey(const std::string& key_pem) {
  absl::StatusOr<std::string> public_pem = PublicKeyPem(key_pem);
  if (public_pem.ok()) {
    FUZZ_CHECK(absl::StrContains(*public_pem, "-----BEGIN PUBLIC KEY-----"),
               "PublicKeyPem returned no PUBLIC KEY block");
  }
}

void CheckKeyFile(absl::string_view contents) {
  absl::StatusOr<std::string> pem = NormalizePem(contents, "fuzz", PemKind::kPrivateKey);
  if (!pem.ok()) return;  // pem_fuzzer covers the refusals
  if (!IsEncryptedPrivateKeyPem(*pem)) {
    CheckPublicKey(*pem);
    return;
  }
  if (fuzz::HasLargeIterationCount(fuzz::PemBodies(*pem))) return;  // slow, not wrong
  absl::StatusOr<std::string> plain = DecryptPrivateKeyPem(*pem, "fuzz", "key-under-test");
  if (!plain.ok()) {
    FUZZ_CHECK(plain.status().code() == absl::StatusCode::kInvalidArgument ||
                   plain.status().code() == absl::StatusCode::kInternal,
               "DecryptPrivateKeyPem: %s", plain.status().ToString().c_str());
    FUZZ_CHECK(!absl::StrContains(plain.status().message(), "fuzz"),
               "the message shows the passphrase: %s", plain.status().ToString().c_str());
    return;
  }
  FUZZ_CHECK(!IsEncryptedPrivateKeyPem(*plain), "a decrypted key is still encrypted");
  absl::StatusOr<std::string> again = NormalizePem(*plain, "fuzz", PemKind::kPrivateKey);
  FUZZ_CHECK(again.ok(), "a decrypted key is refused: %s", again.status().ToString().c_str());
  CheckPublicKey(*plain);
}

}  // namespace
}  // namespace appwire

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input = appwire::fuzz::AsText(data, size);
  if (appwire::fuzz::StartsLikeDer(input)) {
    appwire::CheckKeyFile(appwire::fuzz::WrapPem("PRIVATE KEY", input));
    appwire::CheckKeyFile(appwire::fuzz::WrapPem("ENCRYPTED PRIVATE KEY", input));
  } else {
    appwire::CheckKeyFile(input);
  }
  return 0;
}
