#include "tools/appwire/command.h"

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "appwire/transport/dh_params.h"

namespace appwire::cli {
namespace {

int RunDhparams(const Arguments& a) {
  const std::string out = a.Get("out");
  if (out.empty()) return Usage(kDhparams, "--out FILE is required");
  int bits = 0;
  if (!absl::SimpleAtoi(a.Get("bits", "2048"), &bits)) return Usage(kDhparams, "--bits needs a number");
  if (bits != 2048 && bits != 3072 && bits != 4096) {
    return Usage(kDhparams, absl::StrCat("--bits ", bits, ": use 2048, 3072 or 4096"));
  }
  if (absl::Status kept =
          RefuseToReplace(out, a, "a server reloads it at its next check");
      !kept.ok()) {
    return Fail(kept);
  }
  std::fprintf(stderr,
               "generating %d-bit DH parameters (a safe prime: this could take several minutes)",
               bits);
  std::fflush(stderr);
  // A dot a second while it works: the number of candidates is random.
  const absl::Time start = absl::Now();
  absl::Time next_dot = start + absl::Seconds(1);
  int64_t candidates = 0;
  appwire::SafePrimeGeneration generation;
  generation.bits = bits;
  generation.progress = [&](int64_t tried) {
    candidates = tried;
    if (absl::Now() < next_dot) return;
    next_dot += absl::Seconds(1);
    std::fputc('.', stderr);
    std::fflush(stderr);
  };
  absl::StatusOr<std::string> pem = appwire::GenerateDhParamsPem(generation);
  std::fprintf(stderr, " done: %lld candidates in %s\n", static_cast<long long>(candidates),
               absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(100)))
                   .c_str());
  if (!pem.ok()) return Fail(pem.status());
  absl::Status status = Write(out, *pem, 0644, a, "a server reloads it at its next check");
  if (!status.ok()) return Fail(status);
  std::printf("wrote %s (%d bits)\n", out.c_str(), bits);
  return 0;
}

}  // namespace

const Subcommand kDhparams = {
    "dhparams",
    "dhparams [--bits 2048|3072|4096] --out FILE [--force]",
    "Generates Diffie-Hellman parameters for TLS 1.2 DHE suites: a safe prime and generator\n"
    "2, as `openssl dhparam` makes (its -check accepts them). Takes seconds to minutes; a dot\n"
    "a second on stderr. An existing FILE is replaced only with --force.",
    &RunDhparams,
    {{"bits"}, {"out"}, {"force", Kind::kSwitch}}};

}  // namespace appwire::cli
