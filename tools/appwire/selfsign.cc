#include "tools/appwire/command.h"

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "appwire/common/pem.h"
#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/certificate_info.h"

namespace appwire::cli {
namespace {

int RunSelfsign(const Arguments& a) {
  if (a.Get("key").empty() || a.Get("cn").empty() || a.Get("out").empty()) {
    return Usage(kSelfsign, "--key, --cn and --out are required");
  }
  absl::StatusOr<int> days = DaysFlag(a, 825);
  if (!days.ok()) return Usage(kSelfsign, std::string(days.status().message()));
  if (absl::Status kept = RefuseToReplace(a.Get("out"), a, kCertificateReplaced); !kept.ok()) {
    return Fail(kept);
  }
  absl::StatusOr<std::string> key = appwire::ReadPemFile(a.Get("key"), appwire::PemKind::kPrivateKey);
  if (!key.ok()) return Fail(key.status());
  CertificateSpec spec;
  spec.common_name = a.Get("cn");
  spec.days_valid = *days;
  absl::Status status = AddSans(a.All("san"), &spec);
  if (!status.ok()) return Fail(status);
  if (spec.dns_names.empty() && spec.ip_addresses.empty() && spec.email_addresses.empty() &&
      spec.uris.empty()) {
    spec.dns_names.push_back(spec.common_name);
  }
  absl::StatusOr<std::string> cert = appwire::CreateSelfSignedCertificatePem(*key, spec);
  if (!cert.ok()) return Fail(cert.status());
  status = Write(a.Get("out"), *cert, 0644, a, kCertificateReplaced);
  if (!status.ok()) return Fail(status);
  auto info = appwire::DescribeCertificatePem(*cert, a.Get("out"));
  std::printf("wrote %s (%s, %s)\n", a.Get("out").c_str(), info->subject.c_str(),
              info->sha256_fingerprint.c_str());
  return 0;
}

}  // namespace

const Subcommand kSelfsign = {
    "selfsign",
    "selfsign --key FILE --cn NAME [--san DNS:x|IP:y|EMAIL:a|URI:u ...] [--days N] --out FILE "
    "[--force]",
    "Makes a self-signed certificate for development and .local or single-label host names,\n"
    "with the subject alternative names given (default: DNS:NAME), valid --days (825). Clients\n"
    "trust it with the file itself as their CA file, or by pinning its fingerprint. An\n"
    "existing FILE is replaced only with --force.",
    &RunSelfsign,
    {{"key"}, {"cn"}, {"san", Kind::kRepeated}, {"days"}, {"out"}, {"force", Kind::kSwitch}}};

}  // namespace appwire::cli
