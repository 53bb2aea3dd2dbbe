#include "tools/appwire/command.h"

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "appwire/common/pem.h"
#include "appwire/transport/certificate_generator.h"

namespace appwire::cli {
namespace {

int RunCsr(const Arguments& a) {
  if (a.Get("key").empty() || a.Get("cn").empty() || a.Get("out").empty()) {
    return Usage(kCsr, "--key, --cn and --out are required");
  }
  if (absl::Status kept = RefuseToReplace(a.Get("out"), a, kRequestReplaced); !kept.ok()) {
    return Fail(kept);
  }
  absl::StatusOr<std::string> key = appwire::ReadPemFile(a.Get("key"), appwire::PemKind::kPrivateKey);
  if (!key.ok()) return Fail(key.status());
  CertificateSpec spec;
  spec.common_name = a.Get("cn");
  spec.country = a.Get("country");
  spec.state = a.Get("state");
  spec.locality = a.Get("locality");
  spec.organization = a.Get("org");
  spec.organizational_unit = a.Get("unit");
  absl::Status status = AddSans(a.All("san"), &spec);
  if (!status.ok()) return Fail(status);
  absl::StatusOr<std::string> request = appwire::CreateCertificateRequestPem(*key, spec);
  if (!request.ok()) return Fail(request.status());
  status = Write(a.Get("out"), *request, 0644, a, kRequestReplaced);
  if (!status.ok()) return Fail(status);
  std::printf("wrote %s\n", a.Get("out").c_str());
  return 0;
}

}  // namespace

const Subcommand kCsr = {
    "csr",
    "csr --key FILE --cn NAME [--country CC --locality .. --state .. --org .. --unit ..] "
    "[--san DNS:x|IP:y|EMAIL:a|URI:u ...] --out FILE [--force]",
    "Makes a PKCS#10 certificate request (PEM) to send to a certificate authority, with the\n"
    "fields 4D's GENERATE CERTIFICATE REQUEST takes and subject alternative names.\n"
    "An existing FILE is replaced only with --force.",
    &RunCsr,
    {{"key"}, {"cn"}, {"country"}, {"state"}, {"locality"}, {"org"}, {"unit"},
     {"san", Kind::kRepeated}, {"out"}, {"force", Kind::kSwitch}}};

}  // namespace appwire::cli
