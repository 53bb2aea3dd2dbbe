// Diffie-Hellman parameters for TLS 1.2 DHE suites (dhparams.pem).
// TLS 1.3 uses named groups and never needs them.
#ifndef APPWIRE_TRANSPORT_DH_PARAMS_H_
#define APPWIRE_TRANSPORT_DH_PARAMS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "appwire/transport/safe_prime.h"

namespace appwire {

inline constexpr int kMinDhParamBits = 2048;
inline constexpr int kMaxDhParamBits = 4096;  // the largest wolfSSL here handles

// New PKCS#3 parameters as PEM ("BEGIN DH PARAMETERS"): a safe prime p of
// `generation.bits` (2048, 3072 or 4096) and generator 2, as `openssl
// dhparam` makes and checks them. Takes seconds to minutes for 2048 bits on
// one core (the number of candidates is random; mean about 20 s): run it in
// the background, with `generation.cancel` and `generation.progress`.
// InvalidArgument for another size, Cancelled when cancelled.
absl::StatusOr<std::string> GenerateDhParamsPem(const SafePrimeGeneration& generation);
absl::StatusOr<std::string> GenerateDhParamsPem(int bits);  // not cancellable

// PEM PKCS#3 parameters with prime `p` and generator `g` (unsigned
// big-endian bytes), unchecked: for generators and tests.
std::string EncodeDhParamsPem(absl::string_view p, absl::string_view g);

// Checks PEM DH parameters as `openssl dhparam -check` does for PKCS#3
// parameters: well-formed; p of 2048 to 4096 bits; p a safe prime (p and
// (p - 1) / 2 prime); 1 < g < p - 1. Returns p's size in bits.
// InvalidArgument naming `source`, what is wrong and the fix. The primality
// tests take about 0.25 s for 2048 bits, 2 to 3 s for 4096 bits.
absl::StatusOr<int> CheckDhParamsPem(absl::string_view pem, absl::string_view source);

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_DH_PARAMS_H_
