#include "tools/appwire/command.h"

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "appwire/common/files.h"
#include "appwire/common/pem.h"
#include "appwire/transport/certificate_generator.h"

namespace appwire::cli {
namespace {

// The flags each action takes (the table below holds their union, so the
// parser knows their kinds; this says which belong to which).
const std::set<std::string> kInitFlags = {"name", "days", "curve"};
const std::set<std::string> kIssueFlags = {"ca",   "out",  "client", "server",
                                           "san",  "days", "force",  "curve"};
const std::set<std::string> kSignFlags = {"ca", "out", "san", "days", "force"};

// A flag given that `action` does not take, as a usage problem; "" when none.
std::string ForeignFlag(const Arguments& a, const std::string& action,
                        const std::set<std::string>& allowed) {
  for (const auto& [name, value] : a.flags) {
    if (allowed.count(name) == 0) return absl::StrCat("ca ", action, " takes no --", name);
  }
  return "";
}

// --curve: P-256 (the default) or P-384; "" after a usage error.
std::string CurveFlag(const Arguments& a) {
  const std::string curve = a.Get("curve", "P-256");
  return curve == "P-256" || curve == "P-384" ? curve : "";
}

bool LooksLikeIpAddress(const std::string& host) {
  return host.find_first_not_of("0123456789.") == std::string::npos ||
         host.find(':') != std::string::npos;
}

int RunInit(const Arguments& a) {
  if (a.positional.size() < 2) return Usage(kCa, "ca init needs a folder");
  if (std::string foreign = ForeignFlag(a, "init", kInitFlags); !foreign.empty()) {
    return Usage(kCa, foreign);
  }
  absl::StatusOr<int> days = DaysFlag(a, 3650);
  if (!days.ok()) return Usage(kCa, std::string(days.status().message()));
  if (CurveFlag(a).empty()) {
    return Usage(kCa, absl::StrCat("--curve ", a.Get("curve"), ": use P-256 or P-384"));
  }
  const std::string dir = a.positional[1];
  const std::string key_path = appwire::JoinPath(dir, "ca.key");
  const std::string cert_path = appwire::JoinPath(dir, "ca.pem");
  for (const std::string& path : {key_path, cert_path}) {
    if (appwire::FileExists(path)) {
      return Fail(absl::AlreadyExistsError(absl::StrCat(
          "\"", path, "\" exists; this folder already holds a CA (ca init never replaces one: "
          "every certificate it issued depends on it)")));
    }
  }
  absl::Status status = appwire::MakeDirectories(dir);
  if (!status.ok()) return Fail(status);
  absl::StatusOr<std::string> key = appwire::GenerateEcdsaKeyPem(CurveFlag(a));
  if (!key.ok()) return Fail(key.status());
  CertificateSpec spec;
  spec.common_name = a.Get("name", "appwire CA");
  spec.days_valid = *days;
  absl::StatusOr<std::string> cert = appwire::CreateSelfSignedCertificatePem(*key, spec);
  if (!cert.ok()) return Fail(cert.status());
  // Never over a CA key or certificate that appeared since the check above.
  status = appwire::WriteFileAtomically(key_path, *key, 0600, appwire::ExistingFile::kKeep);
  if (status.ok()) {
    status = appwire::WriteFileAtomically(cert_path, *cert, 0644, appwire::ExistingFile::kKeep);
  }
  if (!status.ok()) return Fail(status);
  std::printf("certificate authority '%s' in %s (ca.pem, ca.key mode 0600)\n",
              spec.common_name.c_str(), dir.c_str());
  return 0;
}

int RunIssue(const Arguments& a) {
  if (a.positional.size() > 1) {
    return Usage(kCa, absl::StrCat("unexpected argument \"", a.positional[1], "\""));
  }
  if (std::string foreign = ForeignFlag(a, "issue", kIssueFlags); !foreign.empty()) {
    return Usage(kCa, foreign);
  }
  const std::string ca_dir = a.Get("ca");
  const std::string out = a.Get("out");
  const std::string client = a.Get("client");
  const std::string server = a.Get("server");
  if (ca_dir.empty() || out.empty() || client.empty() == server.empty()) {
    return Usage(kCa, "ca issue needs --ca DIR, --out DIR and one of --client NAME, --server HOST");
  }
  absl::StatusOr<int> days = DaysFlag(a, 825);
  if (!days.ok()) return Usage(kCa, std::string(days.status().message()));
  if (CurveFlag(a).empty()) {
    return Usage(kCa, absl::StrCat("--curve ", a.Get("curve"), ": use P-256 or P-384"));
  }
  CertificateSpec spec;
  spec.days_valid = *days;
  spec.common_name = client.empty() ? server : client;
  std::vector<std::string> sans;
  if (!server.empty()) sans.push_back((LooksLikeIpAddress(server) ? "IP:" : "DNS:") + server);
  for (const std::string& san : a.All("san")) sans.push_back(san);
  if (absl::Status status = AddSans(sans, &spec); !status.ok()) {
    return Usage(kCa, std::string(status.message()));
  }
  absl::StatusOr<std::string> ca_cert =
      appwire::ReadPemFile(appwire::JoinPath(ca_dir, "ca.pem"), appwire::PemKind::kCertificate);
  if (!ca_cert.ok()) return Fail(ca_cert.status());
  const std::string key_path = appwire::JoinPath(out, "key.pem");
  const std::string cert_path = appwire::JoinPath(out, "cert.pem");
  const std::string ca_copy_path = appwire::JoinPath(out, "ca.pem");
  // Every refusal before anything is made or written.
  for (absl::Status kept : {RefuseToReplace(key_path, a, kKeyReplaced),
                            RefuseToReplace(cert_path, a, kCertificateReplaced),
                            RefuseToReplaceUnlessSame(ca_copy_path, *ca_cert, a,
                                                      "it holds another CA's certificate")}) {
    if (!kept.ok()) return Fail(kept);
  }
  absl::StatusOr<std::string> ca_key =
      appwire::ReadPemFile(appwire::JoinPath(ca_dir, "ca.key"), appwire::PemKind::kPrivateKey);
  if (!ca_key.ok()) return Fail(ca_key.status());
  absl::StatusOr<std::string> key = appwire::GenerateEcdsaKeyPem(CurveFlag(a));
  if (!key.ok()) return Fail(key.status());
  absl::StatusOr<std::string> cert = appwire::IssueCertificatePem(*key, spec, *ca_cert, *ca_key);
  if (!cert.ok()) return Fail(cert.status());
  absl::Status status = appwire::MakeDirectories(out);
  if (status.ok()) status = WriteKey(key_path, *key, a);
  if (status.ok()) status = Write(cert_path, *cert, 0644, a, kCertificateReplaced);
  if (status.ok()) {
    status = Write(ca_copy_path, *ca_cert, 0644, a, "it holds another CA's certificate");
  }
  if (!status.ok()) return Fail(status);
  std::printf("issued %s certificate for '%s' into %s (key.pem mode 0600, cert.pem, ca.pem), "
              "valid %d days\n",
              client.empty() ? "a server" : "a client", spec.common_name.c_str(), out.c_str(),
              spec.days_valid);
  return 0;
}

// ca sign REQUEST: a certificate for a request made elsewhere (a CSR from
// `appwire csr`, openssl or a device), with the names it asks for.
int RunSign(const Arguments& a) {
  if (a.positional.size() < 2) return Usage(kCa, "ca sign needs the request file");
  if (std::string foreign = ForeignFlag(a, "sign", kSignFlags); !foreign.empty()) {
    return Usage(kCa, foreign);
  }
  const std::string ca_dir = a.Get("ca");
  const std::string out = a.Get("out");
  if (ca_dir.empty() || out.empty()) return Usage(kCa, "ca sign needs --ca DIR and --out FILE");
  absl::StatusOr<int> days = DaysFlag(a, 825);
  if (!days.ok()) return Usage(kCa, std::string(days.status().message()));
  if (absl::Status kept = RefuseToReplace(out, a, kCertificateReplaced); !kept.ok()) {
    return Fail(kept);
  }
  const std::string request_path = a.positional[1];
  absl::StatusOr<std::string> request_pem = appwire::ReadFile(request_path);
  if (!request_pem.ok()) return Fail(request_pem.status());
  absl::StatusOr<appwire::CertificateRequest> request =
      appwire::ReadCertificateRequestPem(*request_pem, request_path);
  if (!request.ok()) return Fail(request.status());
  CertificateSpec spec = request->spec;
  spec.days_valid = *days;
  if (absl::Status status = AddSans(a.All("san"), &spec); !status.ok()) {
    return Usage(kCa, std::string(status.message()));
  }
  if (spec.common_name.empty() && spec.dns_names.empty() && spec.ip_addresses.empty() &&
      spec.email_addresses.empty() && spec.uris.empty()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "\"", request_path, "\" names nobody (no common name, no alternative name); add --san")));
  }
  absl::StatusOr<std::string> ca_cert =
      appwire::ReadPemFile(appwire::JoinPath(ca_dir, "ca.pem"), appwire::PemKind::kCertificate);
  if (!ca_cert.ok()) return Fail(ca_cert.status());
  absl::StatusOr<std::string> ca_key =
      appwire::ReadPemFile(appwire::JoinPath(ca_dir, "ca.key"), appwire::PemKind::kPrivateKey);
  if (!ca_key.ok()) return Fail(ca_key.status());
  absl::StatusOr<std::string> cert =
      appwire::IssueCertificateForPublicKeyPem(request->public_key_der, spec, *ca_cert, *ca_key);
  if (!cert.ok()) return Fail(cert.status());
  absl::Status status = Write(out, *cert, 0644, a, kCertificateReplaced);
  if (!status.ok()) return Fail(status);
  std::vector<std::string> names = spec.dns_names;
  names.insert(names.end(), spec.ip_addresses.begin(), spec.ip_addresses.end());
  names.insert(names.end(), spec.email_addresses.begin(), spec.email_addresses.end());
  names.insert(names.end(), spec.uris.begin(), spec.uris.end());
  std::printf("signed a certificate for '%s' (%s) into %s, valid %d days\n",
              spec.common_name.c_str(), absl::StrJoin(names, ", ").c_str(), out.c_str(),
              spec.days_valid);
  return 0;
}

int RunCa(const Arguments& a) {
  if (a.positional.empty()) return Usage(kCa, "init, issue or sign?");
  if (a.positional[0] == "init") return RunInit(a);
  if (a.positional[0] == "issue") return RunIssue(a);
  if (a.positional[0] == "sign") return RunSign(a);
  return Usage(kCa, absl::StrCat("\"", a.positional[0], "\": use ca init, ca issue or ca sign"));
}

}  // namespace

const Subcommand kCa = {
    "ca",
    "ca init DIR [--name NAME] [--days N] [--curve P-256|P-384] | ca issue --ca DIR "
    "(--client NAME | --server HOST) [--curve P-256|P-384] "
    "[--san DNS:x|IP:y|EMAIL:a|URI:u ...] [--days N] --out DIR [--force] | "
    "ca sign REQUEST.csr --ca DIR --out FILE [--san ...] [--days N] [--force]",
    "A small certificate authority in a folder (ca.pem, ca.key with mode 0600), valid --days\n"
    "(3650). `ca issue --client NAME` writes a ready-to-copy client folder (key.pem, cert.pem,\n"
    "ca.pem) for a desktop user; `ca issue --server HOST` writes key.pem and cert.pem for a\n"
    "project folder, plus ca.pem for clients to trust. --san adds names (a server's HOST is\n"
    "always one); --days sets the validity (825). An existing DIR/key.pem or DIR/cert.pem is\n"
    "replaced only with --force; ca init never replaces a CA.\n"
    "`ca sign REQUEST.csr` signs a request made elsewhere (appwire csr, openssl, a device):\n"
    "its signature is checked, its subject and names are kept (--san adds more), the CA\n"
    "decides the validity (--days, 825) and never makes it a CA.\n"
    "Keys are ECDSA P-256, or P-384 with --curve P-384 (this wolfSSL build has no Ed25519).",
    &RunCa,
    {{"name"}, {"days"}, {"ca"}, {"out"}, {"client"}, {"server"}, {"san", Kind::kRepeated},
     {"force", Kind::kSwitch}, {"curve"}},
    /*max_positional=*/2};

}  // namespace appwire::cli
