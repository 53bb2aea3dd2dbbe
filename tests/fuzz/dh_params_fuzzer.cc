// dhparams.pem (transport/dh_params.h CheckDhParamsPem), read by the server
// at start-up and on reload, and by `appwire check`.
//
// An input that starts like DER (0x30) is wrapped in a DH PARAMETERS block
// first, so that mutations reach the PKCS#3 parser.
//
// Checks: errors are InvalidArgument naming the file; accepted parameters
// have at least kMinDhParamBits bits.
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "tests/fuzz/fuzz_support.h"
#include "transport/dh_params.h"

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
    FUZZ_CHECK(*bits <= 8192, "%d-bit parameters", *bits);  // the 1024-byte buffers
  } else {
    FUZZ_CHECK(bits.status().code() == absl::StatusCode::kInvalidArgument, "CheckDhParamsPem: %s",
               bits.status().ToString().c_str());
    FUZZ_CHECK(absl::StrContains(bits.status().message(), "fuzz/dhparams.pem"),
               "the error does not name the file: %s", bits.status().ToString().c_str());
  }
  return 0;
}
