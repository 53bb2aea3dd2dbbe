// Diffie-Hellman parameters for TLS 1.2 DHE suites (dhparams.pem).
// TLS 1.3 uses named groups and never needs them.
#ifndef APPWIRE_TRANSPORT_DH_PARAMS_H_
#define APPWIRE_TRANSPORT_DH_PARAMS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace appwire {

inline constexpr int kMinDhParamBits = 2048;

// New parameters of `bits` (2048, 3072 or 4096) as PEM ("BEGIN DH
// PARAMETERS"). Takes from a fraction of a second to several seconds.
absl::StatusOr<std::string> GenerateDhParamsPem(int bits);

// Checks PEM DH parameters: well-formed, prime at least 2048 bits. Returns
// the prime's size in bits. InvalidArgument naming `source` and the fix.
absl::StatusOr<int> CheckDhParamsPem(absl::string_view pem, absl::string_view source);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_DH_PARAMS_H_
