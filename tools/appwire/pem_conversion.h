// Turning DER and PKCS#12 files into the PEM key and chain appwire reads
// (what `appwire convert` does).
// Only the command uses it, so it lives here and not in appwire/transport/ (the
// pem_conversion fuzz target links it through appwire_tools). Pure: no I/O,
// any thread.
#ifndef APPWIRE_TOOLS_APPWIRE_PEM_CONVERSION_H_
#define APPWIRE_TOOLS_APPWIRE_PEM_CONVERSION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace appwire {

struct ConvertedPem {
  std::string private_key_pem;        // empty when the input held no key
  std::string certificate_chain_pem;  // leaf first; empty when no certificate
};

// `data` is a PKCS#12 file (needs `password`), a DER certificate or a DER
// private key. InvalidArgument naming `source` when it is none of these or
// the password is wrong.
absl::StatusOr<ConvertedPem> ConvertToPem(absl::string_view data, const std::string& password,
                                          absl::string_view source);

// Whether ConvertToPem takes `data` for a PKCS#12 file: a SEQUENCE whose
// first element is INTEGER 3 (the PFX version), at least 8 bytes.
bool LooksLikePkcs12(absl::string_view data);

}  // namespace appwire

#endif  // APPWIRE_TOOLS_APPWIRE_PEM_CONVERSION_H_
