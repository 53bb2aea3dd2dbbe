#include "tools/appwire/command.h"

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "appwire/common/files.h"
#include "appwire/common/pem.h"
#include "appwire/transport/certificate_generator.h"
#include "appwire/transport/certificate_info.h"

namespace appwire::cli {
namespace {

// The flags each action takes (the table below holds their union, so the
// parser knows their kinds; this says which belong to which).
// --encrypt and --password* encrypt the key an action makes; --ca-password*
// decrypt an encrypted ca.key.
const std::set<std::string> kInitFlags = {"name",     "days",          "curve",
                                          "encrypt",  "password",      "password-file",
                                          "password-env"};
const std::set<std::string> kIssueFlags = {
    "ca",       "out",           "client",       "server",      "san",
    "days",     "force",         "curve",        "encrypt",     "password",
    "password-file", "password-env", "ca-password", "ca-password-file", "ca-password-env"};
const std::set<std::string> kSignFlags = {"ca",          "out",         "san",
                                          "days",        "force",       "ca-password",
                                          "ca-password-file", "ca-password-env"};
const std::set<std::string> kRevokeFlags = {"ca"};
const std::set<std::string> kCrlFlags = {"ca",          "out",         "days",
                                         "force",       "ca-password", "ca-password-file",
                                         "ca-password-env"};
const std::set<std::string> kRenewFlags = {"ca",          "out",         "days",
                                           "force",       "ca-password", "ca-password-file",
                                           "ca-password-env"};

// The CA folder's list of what it revoked, one certificate per line:
// "SERIAL REVOKED-AT SUBJECT" ("3A:F1:.. 2026-12-02T21:10:00Z CN=alice"),
// and the number of the last list it made (each new one gets the next).
constexpr char kRevokedFile[] = "revoked.txt";
constexpr char kCrlNumberFile[] = "crl-number";

// What revoked.txt lists; an empty list when the file does not exist.
absl::StatusOr<std::vector<appwire::RevokedCertificate>> ReadRevoked(const std::string& path) {
  std::vector<appwire::RevokedCertificate> revoked;
  if (!appwire::FileExists(path)) return revoked;
  absl::StatusOr<std::string> text = appwire::ReadFile(path);
  if (!text.ok()) return text.status();
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
    ++line_number;
    std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(' ', 2));
    appwire::RevokedCertificate entry;
    std::string error;
    if (fields.size() < 2 ||
        !absl::ParseTime(absl::RFC3339_full, fields[1], &entry.revoked_at, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", path, "\" line ", line_number, " is not \"SERIAL TIME SUBJECT\" (", line,
          "): restore it from a backup or remove the line"));
    }
    entry.serial = fields[0];
    revoked.push_back(entry);
  }
  return revoked;
}

// The CA certificate and key of `ca_dir`.
struct CaFiles {
  std::string cert_pem;
  std::string key_pem;
};
absl::StatusOr<std::string> ReadCaCertificate(const std::string& ca_dir) {
  return appwire::ReadPemFile(appwire::JoinPath(ca_dir, "ca.pem"), appwire::PemKind::kCertificate);
}
// ca.key, decrypted with --ca-password-file (-env, --ca-password, the
// terminal) when it is encrypted.
absl::StatusOr<std::string> ReadCaKey(const Arguments& a, const std::string& ca_dir) {
  return ReadPrivateKey(a, appwire::JoinPath(ca_dir, "ca.key"), "ca-");
}
absl::StatusOr<CaFiles> ReadCa(const Arguments& a, const std::string& ca_dir) {
  absl::StatusOr<std::string> cert = ReadCaCertificate(ca_dir);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadCaKey(a, ca_dir);
  if (!key.ok()) return key.status();
  return CaFiles{*std::move(cert), *std::move(key)};
}

// What `cert_path` says of itself, once it is known to be a certificate this
// CA issued (and not the CA's own).
absl::StatusOr<appwire::CertificateInfo> DescribeIssuedCertificate(const std::string& cert_pem,
                                                                   const std::string& cert_path,
                                                                   const std::string& ca_cert_pem,
                                                                   const std::string& ca_dir,
                                                                   const char* action) {
  absl::StatusOr<appwire::CertificateInfo> info =
      appwire::DescribeCertificatePem(cert_pem, cert_path);
  if (!info.ok()) return info.status();
  absl::StatusOr<appwire::CertificateInfo> ca_info =
      appwire::DescribeCertificatePem(ca_cert_pem, appwire::JoinPath(ca_dir, "ca.pem"));
  if (!ca_info.ok()) return ca_info.status();
  if (info->issuer != ca_info->subject) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", cert_path, "\" was issued by '", info->issuer, "', not by this CA ('",
        ca_info->subject, "'): ", action, " it with the CA that issued it"));
  }
  if (info->serial == ca_info->serial) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", cert_path, "\" is the CA's own certificate, not one it issued: ca ", action,
        " works on the certificates it issued"));
  }
  return info;
}

// A flag given that `action` does not take, as a usage problem; "" when none.
std::string ForeignFlag(const Arguments& a, const std::string& action,
                        const std::set<std::string>& allowed) {
  for (const auto& [name, value] : a.flags) {
    if (allowed.count(name) == 0) return absl::StrCat("ca ", action, " takes no --", name);
  }
  return "";
}

// --curve: P-256 (the default), P-384 or Ed25519; "" after a usage error.
std::string CurveFlag(const Arguments& a) {
  const std::string curve = a.Get("curve", "P-256");
  return curve == "P-256" || curve == "P-384" || curve == "Ed25519" ? curve : "";
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
    return Usage(kCa, absl::StrCat("--curve ", a.Get("curve"), ": use P-256, P-384 or Ed25519"));
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
  absl::StatusOr<std::string> key = appwire::GenerateKeyPem(CurveFlag(a));
  if (!key.ok()) return Fail(key.status());
  CertificateSpec spec;
  spec.common_name = a.Get("name", "appwire CA");
  spec.days_valid = *days;
  absl::StatusOr<std::string> cert = appwire::CreateSelfSignedCertificatePem(*key, spec);
  if (!cert.ok()) return Fail(cert.status());
  absl::StatusOr<std::string> written_key = EncryptIfAsked(a, *key, key_path);
  if (!written_key.ok()) return FailOrUsage(kCa, written_key.status());
  absl::Status status = appwire::MakeDirectories(dir);
  if (!status.ok()) return Fail(status);
  // Never over a CA key or certificate that appeared since the check above.
  status =
      appwire::WriteFileAtomically(key_path, *written_key, 0600, appwire::ExistingFile::kKeep);
  if (status.ok()) {
    status = appwire::WriteFileAtomically(cert_path, *cert, 0644, appwire::ExistingFile::kKeep);
  }
  if (!status.ok()) return Fail(status);
  std::printf("certificate authority '%s' in %s (ca.pem, ca.key mode 0600%s)\n",
              spec.common_name.c_str(), dir.c_str(), a.Has("encrypt") ? ", encrypted" : "");
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
    return Usage(kCa, absl::StrCat("--curve ", a.Get("curve"), ": use P-256, P-384 or Ed25519"));
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
  absl::StatusOr<std::string> ca_cert = ReadCaCertificate(ca_dir);
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
  absl::StatusOr<std::string> ca_key = ReadCaKey(a, ca_dir);
  if (!ca_key.ok()) return Fail(ca_key.status());
  absl::StatusOr<std::string> key = appwire::GenerateKeyPem(CurveFlag(a));
  if (!key.ok()) return Fail(key.status());
  absl::StatusOr<std::string> cert = appwire::IssueCertificatePem(*key, spec, *ca_cert, *ca_key);
  if (!cert.ok()) return Fail(cert.status());
  absl::StatusOr<std::string> written_key = EncryptIfAsked(a, *key, key_path);
  if (!written_key.ok()) return FailOrUsage(kCa, written_key.status());
  absl::Status status = appwire::MakeDirectories(out);
  if (status.ok()) status = WriteKey(key_path, *written_key, a);
  if (status.ok()) status = Write(cert_path, *cert, 0644, a, kCertificateReplaced);
  if (status.ok()) {
    status = Write(ca_copy_path, *ca_cert, 0644, a, "it holds another CA's certificate");
  }
  if (!status.ok()) return Fail(status);
  std::printf("issued %s certificate for '%s' into %s (key.pem mode 0600%s, cert.pem, ca.pem), "
              "valid %d days\n",
              client.empty() ? "a server" : "a client", spec.common_name.c_str(), out.c_str(),
              a.Has("encrypt") ? " encrypted" : "", spec.days_valid);
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
  absl::StatusOr<CaFiles> ca = ReadCa(a, ca_dir);
  if (!ca.ok()) return Fail(ca.status());
  absl::StatusOr<std::string> cert = appwire::IssueCertificateForPublicKeyPem(
      request->public_key_der, spec, ca->cert_pem, ca->key_pem);
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

// ca revoke CERT: lists the certificate in the CA's revoked.txt; `ca crl`
// then makes the list servers read.
int RunRevoke(const Arguments& a) {
  if (a.positional.size() < 2) return Usage(kCa, "ca revoke needs the certificate file");
  if (std::string foreign = ForeignFlag(a, "revoke", kRevokeFlags); !foreign.empty()) {
    return Usage(kCa, foreign);
  }
  const std::string ca_dir = a.Get("ca");
  if (ca_dir.empty()) return Usage(kCa, "ca revoke needs --ca DIR");
  const std::string cert_path = a.positional[1];
  absl::StatusOr<std::string> cert = appwire::ReadFile(cert_path);
  if (!cert.ok()) return Fail(cert.status());
  // Revoking only lists the serial; the key is needed when `ca crl` signs.
  absl::StatusOr<std::string> ca_cert = ReadCaCertificate(ca_dir);
  if (!ca_cert.ok()) return Fail(ca_cert.status());
  absl::StatusOr<appwire::CertificateInfo> info =
      DescribeIssuedCertificate(*cert, cert_path, *ca_cert, ca_dir, "revoke");
  if (!info.ok()) return Fail(info.status());
  const std::string revoked_path = appwire::JoinPath(ca_dir, kRevokedFile);
  absl::StatusOr<std::vector<appwire::RevokedCertificate>> revoked = ReadRevoked(revoked_path);
  if (!revoked.ok()) return Fail(revoked.status());
  for (const appwire::RevokedCertificate& entry : *revoked) {
    if (entry.serial == info->serial) {
      std::printf("'%s' (serial %s) was already revoked on %s\n", info->subject.c_str(),
                  info->serial.c_str(), appwire::FormatUtc(entry.revoked_at).c_str());
      return 0;
    }
  }
  const absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  absl::Status status = appwire::AppendLineToFile(
      revoked_path, absl::StrCat(info->serial, " ", appwire::FormatUtc(now), " ", info->subject,
                                 "\n"),
      0644);
  if (!status.ok()) return Fail(status);
  std::printf("revoked '%s' (serial %s); run `appwire ca crl --ca %s --out crl.pem` and copy "
              "crl.pem into each project folder that trusts this CA\n",
              info->subject.c_str(), info->serial.c_str(), ca_dir.c_str());
  return 0;
}

// ca crl: the certificate revocation list of everything revoked.txt lists,
// valid --days (30), for the project folder's crl.pem.
int RunCrl(const Arguments& a) {
  if (a.positional.size() > 1) {
    return Usage(kCa, absl::StrCat("unexpected argument \"", a.positional[1], "\""));
  }
  if (std::string foreign = ForeignFlag(a, "crl", kCrlFlags); !foreign.empty()) {
    return Usage(kCa, foreign);
  }
  const std::string ca_dir = a.Get("ca");
  const std::string out = a.Get("out");
  if (ca_dir.empty() || out.empty()) return Usage(kCa, "ca crl needs --ca DIR and --out FILE");
  absl::StatusOr<int> days = DaysFlag(a, 30);
  if (!days.ok()) return Usage(kCa, std::string(days.status().message()));
  // A list replaces an older list; anything else only with --force.
  if (appwire::FileExists(out) && !a.Has("force")) {
    absl::StatusOr<std::string> existing = appwire::ReadFile(out);
    if (!existing.ok() ||
        existing->find("-----BEGIN X509 CRL-----") == std::string::npos) {
      return Fail(RefuseToReplace(out, a, "it is not a certificate revocation list"));
    }
  }
  absl::StatusOr<CaFiles> ca = ReadCa(a, ca_dir);
  if (!ca.ok()) return Fail(ca.status());
  absl::StatusOr<std::vector<appwire::RevokedCertificate>> revoked =
      ReadRevoked(appwire::JoinPath(ca_dir, kRevokedFile));
  if (!revoked.ok()) return Fail(revoked.status());
  const std::string number_path = appwire::JoinPath(ca_dir, kCrlNumberFile);
  int64_t number = 1;
  if (appwire::FileExists(number_path)) {
    absl::StatusOr<std::string> text = appwire::ReadFile(number_path);
    if (!text.ok()) return Fail(text.status());
    const absl::string_view last = absl::StripAsciiWhitespace(*text);
    if (!absl::SimpleAtoi(last, &number) || number < 0) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          "\"", number_path, "\" holds \"", last,
          "\", not the number of the last revocation list; write that number into it")));
    }
    ++number;
  }
  const absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  absl::StatusOr<std::string> crl = appwire::CreateRevocationListPem(
      *revoked, number, now, *days, ca->cert_pem, ca->key_pem);
  if (!crl.ok()) return Fail(crl.status());
  absl::Status status =
      appwire::WriteFileAtomically(number_path, absl::StrCat(number, "\n"), 0644);
  if (status.ok()) status = appwire::WriteFileAtomically(out, *crl, 0644);
  if (!status.ok()) return Fail(status);
  std::printf("revocation list %lld of %s into %s: %zu revoked, next update by %s\n",
              static_cast<long long>(number), ca_dir.c_str(), out.c_str(), revoked->size(),
              appwire::FormatUtc(now + absl::Hours(24) * *days).c_str());
  return 0;
}

// ca renew CERT: the same subject, names and public key, valid again for
// --days (by default the lifetime it had), with a new serial number; the
// key stays where it is, so nothing else changes. Written over CERT, or to
// --out FILE (an existing one only with --force).
int RunRenew(const Arguments& a) {
  if (a.positional.size() < 2) return Usage(kCa, "ca renew needs the certificate file");
  if (std::string foreign = ForeignFlag(a, "renew", kRenewFlags); !foreign.empty()) {
    return Usage(kCa, foreign);
  }
  const std::string ca_dir = a.Get("ca");
  if (ca_dir.empty()) return Usage(kCa, "ca renew needs --ca DIR");
  const std::string cert_path = a.positional[1];
  const std::string out = a.Get("out", cert_path);
  absl::StatusOr<int> days = DaysFlag(a, 0);
  if (!days.ok()) return Usage(kCa, std::string(days.status().message()));
  if (out != cert_path) {
    if (absl::Status kept = RefuseToReplace(out, a, kCertificateReplaced); !kept.ok()) {
      return Fail(kept);
    }
  }
  absl::StatusOr<std::string> cert = appwire::ReadFile(cert_path);
  if (!cert.ok()) return Fail(cert.status());
  absl::StatusOr<CaFiles> ca = ReadCa(a, ca_dir);
  if (!ca.ok()) return Fail(ca.status());
  absl::StatusOr<appwire::CertificateInfo> info =
      DescribeIssuedCertificate(*cert, cert_path, ca->cert_pem, ca_dir, "renew");
  if (!info.ok()) return Fail(info.status());
  absl::StatusOr<appwire::CertificateRequest> subject =
      appwire::ReadCertificateSubjectPem(*cert, cert_path);
  if (!subject.ok()) return Fail(subject.status());
  CertificateSpec spec = subject->spec;
  if (*days > 0) spec.days_valid = *days;
  absl::StatusOr<std::string> renewed = appwire::IssueCertificateForPublicKeyPem(
      subject->public_key_der, spec, ca->cert_pem, ca->key_pem);
  if (!renewed.ok()) return Fail(renewed.status());
  absl::Status status = out == cert_path
                            ? appwire::WriteFileAtomically(out, *renewed, 0644)
                            : Write(out, *renewed, 0644, a, kCertificateReplaced);
  if (!status.ok()) return Fail(status);
  absl::StatusOr<appwire::CertificateInfo> renewed_info =
      appwire::DescribeCertificatePem(*renewed, out);
  if (!renewed_info.ok()) return Fail(renewed_info.status());
  std::printf("renewed '%s' into %s: valid until %s (was %s), serial %s; the key is unchanged\n",
              info->subject.c_str(), out.c_str(),
              appwire::FormatUtc(renewed_info->not_after).c_str(),
              appwire::FormatUtc(info->not_after).c_str(), renewed_info->serial.c_str());
  return 0;
}

int RunCa(const Arguments& a) {
  if (a.positional.empty()) return Usage(kCa, "init, issue, sign, renew, revoke or crl?");
  if (a.positional[0] == "init") return RunInit(a);
  if (a.positional[0] == "issue") return RunIssue(a);
  if (a.positional[0] == "sign") return RunSign(a);
  if (a.positional[0] == "renew") return RunRenew(a);
  if (a.positional[0] == "revoke") return RunRevoke(a);
  if (a.positional[0] == "crl") return RunCrl(a);
  return Usage(kCa, absl::StrCat("\"", a.positional[0],
                                 "\": use ca init, ca issue, ca sign, ca renew, ca revoke or ca crl"));
}

}  // namespace

const Subcommand kCa = {
    "ca",
    "ca init DIR [--name NAME] [--days N] [--curve P-256|P-384|Ed25519] [--encrypt] | ca issue --ca DIR "
    "(--client NAME | --server HOST) [--curve P-256|P-384|Ed25519] "
    "[--san DNS:x|IP:y|EMAIL:a|URI:u ...] [--days N] [--encrypt] --out DIR [--force] | "
    "ca sign REQUEST.csr --ca DIR --out FILE [--san ...] [--days N] [--force] | "
    "ca renew CERT --ca DIR [--days N] [--out FILE [--force]] | ca revoke CERT --ca DIR | ca crl --ca DIR --out crl.pem [--days N]",
    "A small certificate authority in a folder (ca.pem, ca.key with mode 0600), valid --days\n"
    "(3650). `ca issue --client NAME` writes a ready-to-copy client folder (key.pem, cert.pem,\n"
    "ca.pem) for a desktop user; `ca issue --server HOST` writes key.pem and cert.pem for a\n"
    "project folder, plus ca.pem for clients to trust. --san adds names (a server's HOST is\n"
    "always one); --days sets the validity (825). An existing DIR/key.pem or DIR/cert.pem is\n"
    "replaced only with --force; ca init never replaces a CA.\n"
    "`ca sign REQUEST.csr` signs a request made elsewhere (appwire csr, openssl, a device):\n"
    "its signature is checked, its subject and names are kept (--san adds more), the CA\n"
    "decides the validity (--days, 825) and never makes it a CA.\n"
    "`ca renew CERT` re-issues a certificate of this CA with the same subject, names and key\n"
    "and a new serial, valid --days (by default as long as before), over CERT or to --out.\n"
    "`ca revoke CERT` lists a certificate of this CA in DIR/revoked.txt; `ca crl` writes the\n"
    "revocation list of all of them (valid --days, 30; numbered in DIR/crl-number), the\n"
    "crl.pem a project folder reads (appwire-server re-reads it on SIGHUP). It replaces an\n"
    "older list; any other file only with --force.\n"
    "Keys are ECDSA P-256, or P-384 or Ed25519 with --curve (a CA and the keys it issues may\n"
    "differ; an Ed25519 server certificate needs TLS 1.3 clients).\n"
    "--encrypt (ca init, ca issue) writes the new key encrypted (PKCS#8, AES-256-CBC) with the\n"
    "password of --password-file, --password-env, --password or the terminal. An encrypted\n"
    "ca.key is read with --ca-password-file FILE, --ca-password-env VAR, --ca-password PW or\n"
    "the terminal.",
    &RunCa,
    {{"name"}, {"days"}, {"ca"}, {"out"}, {"client"}, {"server"}, {"san", Kind::kRepeated},
     {"force", Kind::kSwitch}, {"curve"}, {"encrypt", Kind::kSwitch}, {"password"},
     {"password-file"}, {"password-env"}, {"ca-password"}, {"ca-password-file"},
     {"ca-password-env"}},
    /*max_positional=*/2};

}  // namespace appwire::cli
