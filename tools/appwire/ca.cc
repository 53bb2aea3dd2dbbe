#include "tools/appwire/command.h"

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "appwire/common/pem.h"
#include "appwire/transport/certificate_generator.h"

namespace appwire::cli {
namespace {

int RunCa(const Arguments& a) {
  if (a.positional.empty()) return Usage(kCa, "init or issue?");
  if (a.positional[0] == "init") {
    if (a.positional.size() < 2) return Usage(kCa, "ca init needs a folder");
    const std::string dir = a.positional[1];
    if (appwire::FileExists(appwire::JoinPath(dir, "ca.key"))) {
      return Fail(absl::AlreadyExistsError(absl::StrCat(
          "\"", appwire::JoinPath(dir, "ca.key"), "\" exists; this folder already holds a CA")));
    }
    absl::Status status = appwire::MakeDirectories(dir);
    if (!status.ok()) return Fail(status);
    absl::StatusOr<std::string> key = appwire::GenerateEcdsaP256KeyPem();
    if (!key.ok()) return Fail(key.status());
    CertificateSpec spec;
    spec.common_name = a.Get("name", "appwire CA");
    spec.days_valid = 3650;
    absl::StatusOr<std::string> cert = appwire::CreateSelfSignedCertificatePem(*key, spec);
    if (!cert.ok()) return Fail(cert.status());
    // Never over a CA key that appeared since the check above.
    status = appwire::WriteFileAtomically(appwire::JoinPath(dir, "ca.key"), *key, 0600,
                                          appwire::ExistingFile::kKeep);
    if (status.ok()) status = Write(appwire::JoinPath(dir, "ca.pem"), *cert, 0644);
    if (!status.ok()) return Fail(status);
    std::printf("certificate authority '%s' in %s (ca.pem, ca.key mode 0600)\n",
                spec.common_name.c_str(), dir.c_str());
    return 0;
  }
  if (a.positional[0] != "issue") return Usage(kCa, "use ca init or ca issue");
  const std::string ca_dir = a.Get("ca");
  const std::string out = a.Get("out");
  const std::string client = a.Get("client");
  const std::string server = a.Get("server");
  if (ca_dir.empty() || out.empty() || client.empty() == server.empty()) {
    return Usage(kCa, "ca issue needs --ca DIR, --out DIR and one of --client NAME, --server HOST");
  }
  if (absl::Status kept = RefuseToReplace(appwire::JoinPath(out, "key.pem"), a, kKeyReplaced);
      !kept.ok()) {
    return Fail(kept);
  }
  absl::StatusOr<std::string> ca_cert =
      appwire::ReadPemFile(appwire::JoinPath(ca_dir, "ca.pem"), appwire::PemKind::kCertificate);
  if (!ca_cert.ok()) return Fail(ca_cert.status());
  absl::StatusOr<std::string> ca_key =
      appwire::ReadPemFile(appwire::JoinPath(ca_dir, "ca.key"), appwire::PemKind::kPrivateKey);
  if (!ca_key.ok()) return Fail(ca_key.status());
  absl::StatusOr<std::string> key = appwire::GenerateEcdsaP256KeyPem();
  if (!key.ok()) return Fail(key.status());
  CertificateSpec spec;
  spec.days_valid = 825;
  if (!client.empty()) {
    spec.common_name = client;
  } else {
    spec.common_name = server;
    absl::Status status = AddSans({server.find_first_not_of("0123456789.") == std::string::npos ||
                                           server.find(':') != std::string::npos
                                       ? "IP:" + server
                                       : "DNS:" + server},
                                  &spec);
    if (!status.ok()) return Fail(status);
  }
  absl::StatusOr<std::string> cert = appwire::IssueCertificatePem(*key, spec, *ca_cert, *ca_key);
  if (!cert.ok()) return Fail(cert.status());
  absl::Status status = appwire::MakeDirectories(out);
  if (status.ok()) status = WriteKey(appwire::JoinPath(out, "key.pem"), *key, a);
  if (status.ok()) status = Write(appwire::JoinPath(out, "cert.pem"), *cert, 0644);
  if (status.ok()) status = Write(appwire::JoinPath(out, "ca.pem"), *ca_cert, 0644);
  if (!status.ok()) return Fail(status);
  std::printf("issued %s certificate for '%s' into %s (key.pem mode 0600, cert.pem, ca.pem)\n",
              client.empty() ? "a server" : "a client", spec.common_name.c_str(), out.c_str());
  return 0;
}

}  // namespace

const Subcommand kCa = {
    "ca",
    "ca init DIR [--name NAME] | ca issue --ca DIR (--client NAME | --server HOST) --out DIR "
    "[--force]",
    "A small certificate authority in a folder (ca.pem, ca.key with mode 0600).\n"
    "`ca issue --client NAME` writes a ready-to-copy client folder (key.pem, cert.pem, ca.pem)\n"
    "for a desktop user; `ca issue --server HOST` writes key.pem and cert.pem for a project\n"
    "folder, plus ca.pem for clients to trust. An existing DIR/key.pem is replaced only\n"
    "with --force; ca init never replaces a CA.",
    &RunCa};

}  // namespace appwire::cli
