// dhparams.pem (appwire/transport/dh_params.h CheckDhParamsPem), read by the server
// at start-up and on reload, and by `appwire check`.
//
// An input that starts like DER (0x30) is wrapped in a DH PARAMETERS block
// first, so that mutations reach the PKCS#3 parser.
//
// Checks: errors are InvalidArgument naming the file; accepted parameters
// have kMinDhParamBits to kMaxDhParamBits bits. (An accepted input is also a
// safe prime: that costs tens of milliseconds of primality tests, so inputs
// that pass are slow.)
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "appwire/transport/dh_params.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input = appwire::fuzz::AsText(data, size);
  std::string wrapped;
  if (appwire::fuzz::StartsLikeDer(input)) {
    wrapped = appwire::fuzz::WrapPem("DH PARAMETERS", input);
    input = wrapped;
  }
  absl::StatusOr<int> bits = appwire::CheckDhParamsPem(input, "fuzz/dhparams.pem");
  if (bits.ok()) {
    FUZZ_CHECK(*bits >= appwire::kMinDhParamBits, "%d-bit parameters accepted", *bits);
    FUZZ_CHECK(*bits <= appwire::kMaxDhParamBits, "%d-bit parameters accepted", *bits);
  } else {
    FUZZ_CHECK(bits.status().code() == absl::StatusCode::kInvalidArgument, "CheckDhParamsPem: %s",
               bits.status().ToString().c_str());
    FUZZ_CHECK(absl::StrContains(bits.status().message(), "fuzz/dhparams.pem"),
               "the error does not name the file: %s", bits.status().ToString().c_str());
  }
  return 0;
}
