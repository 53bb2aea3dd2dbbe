// appwire: certificate and key tooling for appwire servers and clients,
// built on wolfSSL (no OpenSSL at run time). `appwire help` lists the
// subcommands; `appwire help SUB` explains one.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "common/pem.h"
#include "transport/certificate_generator.h"
#include "transport/certificate_info.h"
#include "transport/certificate_store.h"
#include "transport/dh_params.h"
#include "transport/pem_conversion.h"
#include "transport/tls_context.h"
#include "transport/tls_probe.h"

namespace {

using appwire::CertificateSpec;

struct Subcommand {
  const char* name;
  const char* usage;
  const char* help;
};

const Subcommand kSubcommands[] = {
    {"keygen",
     "keygen [--type ecdsa|rsa] [--curve P-256|P-384] [--bits N] --out FILE [--pub FILE] [--force]",
     "Makes a private key (default ECDSA P-256; RSA 2048, 3072 or 4096; below 2048 is refused).\n"
     "The key file is written with mode 0600 and never printed; --pub writes the public key.\n"
     "An existing FILE is replaced only with --force."},
    {"csr",
     "csr --key FILE --cn NAME [--country CC --locality .. --state .. --org .. --unit ..] "
     "[--san DNS:x|IP:y ...] --out FILE",
     "Makes a PKCS#10 certificate request (PEM) to send to a certificate authority, with the\n"
     "fields 4D's GENERATE CERTIFICATE REQUEST takes and subject alternative names."},
    {"selfsign", "selfsign --key FILE --cn NAME [--san DNS:x|IP:y ...] [--days N] --out FILE",
     "Makes a self-signed certificate for development and .local or single-label host names,\n"
     "with the subject alternative names given (default: DNS:NAME). Clients trust it with the\n"
     "file itself as their CA file, or by pinning its fingerprint."},
    {"ca",
     "ca init DIR [--name NAME] | ca issue --ca DIR (--client NAME | --server HOST) --out DIR "
     "[--force]",
     "A small certificate authority in a folder (ca.pem, ca.key with mode 0600).\n"
     "`ca issue --client NAME` writes a ready-to-copy client folder (key.pem, cert.pem, ca.pem)\n"
     "for a desktop user; `ca issue --server HOST` writes key.pem and cert.pem for a project\n"
     "folder, plus ca.pem for clients to trust. An existing DIR/key.pem is replaced only\n"
     "with --force; ca init never replaces a CA."},
    {"dhparams", "dhparams [--bits 2048|3072|4096] --out FILE [--force]",
     "Generates Diffie-Hellman parameters for TLS 1.2 DHE suites: a safe prime and generator\n"
     "2, as `openssl dhparam` makes (its -check accepts them). Takes seconds to minutes; a dot\n"
     "a second on stderr. An existing FILE is replaced only with --force."},
    {"convert", "convert IN [--password PW] --out DIR [--force]",
     "Turns a PKCS#12 (.p12/.pfx, with its password) or DER (.der/.cer) file into the PEM\n"
     "files appwire reads: DIR/key.pem (mode 0600) and DIR/cert.pem (leaf first, then the\n"
     "issuers the file holds). An existing DIR/key.pem is replaced only with --force."},
    {"probe", "probe HOST:PORT [--server-name NAME] [--json]",
     "Connects as a client and reports what the server accepts and sends: TLS versions,\n"
     "cipher suites, key-exchange groups, ALPN, its certificate with expiry, and whether it\n"
     "requires a client certificate. One handshake per question; any certificate is accepted\n"
     "(the point is to look, not to trust)."},
    {"check", "check (--project DIR | --client DIR) [--json]",
     "Reports everything the server (or a client) would check at start: files present and PEM,\n"
     "line endings, key permissions, key/certificate match, chain order, expiry (warning under\n"
     "30 days), dhparams size. Exit status 0 when usable, 1 otherwise; --json for machines."},
};

struct Arguments {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> flags;
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = flags.find(name);
    return it == flags.end() ? fallback : it->second;
  }
  std::vector<std::string> All(const std::string& name) const {
    std::vector<std::string> values;
    for (auto [it, end] = flags.equal_range(name); it != end; ++it) values.push_back(it->second);
    return values;
  }
};

Arguments Parse(int argc, char** argv, int first) {
  Arguments arguments;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--json" || arg == "--force") {  // the flags without a value
      arguments.flags.emplace(arg.substr(2), "");
    } else if (arg.rfind("--", 0) == 0) {
      std::string value = i + 1 < argc ? argv[++i] : "";
      arguments.flags.emplace(arg.substr(2), value);
    } else {
      arguments.positional.push_back(arg);
    }
  }
  return arguments;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out + "\"";
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "appwire: %s\n", std::string(status.message()).c_str());
  return 1;
}

int Usage(const std::string& sub, const std::string& problem) {
  for (const Subcommand& s : kSubcommands) {
    if (sub == s.name) {
      std::fprintf(stderr, "appwire %s: %s\nusage: appwire %s\n", sub.c_str(), problem.c_str(),
                   s.usage);
      return 2;
    }
  }
  std::fprintf(stderr, "appwire: %s\n", problem.c_str());
  return 2;
}

absl::Status Write(const std::string& path, const std::string& contents, int mode) {
  return appwire::WriteFileAtomically(path, contents, mode);
}

// A private key (or DH parameters, slow to make) is never replaced without
// being asked: AlreadyExists when `path` exists and --force was not given,
// checked before anything is made or written. `why` says what replacing it
// would cost.
absl::Status RefuseToReplace(const std::string& path, const Arguments& a, absl::string_view why) {
  if (!appwire::FileExists(path) || a.flags.count("force") > 0) return absl::OkStatus();
  return absl::AlreadyExistsError(
      absl::StrCat(path, " exists; pass --force to replace it (", why, ")"));
}

constexpr char kKeyReplaced[] =
    "the private key in it would be lost, and with it every certificate issued for it";

// Writes a private key (mode 0600). Without --force an existing file is
// kept, also one that appeared after RefuseToReplace looked (while the key
// was being made): the write itself never replaces.
absl::Status WriteKey(const std::string& path, const std::string& pem, const Arguments& a) {
  absl::Status status = appwire::WriteFileAtomically(
      path, pem, 0600,
      a.flags.count("force") > 0 ? appwire::ExistingFile::kReplace : appwire::ExistingFile::kKeep);
  if (absl::IsAlreadyExists(status)) return RefuseToReplace(path, a, kKeyReplaced);
  return status;
}

// "DNS:name" / "IP:addr" (a bare value is a DNS name).
absl::Status AddSans(const std::vector<std::string>& sans, CertificateSpec* spec) {
  for (const std::string& san : sans) {
    if (san.rfind("DNS:", 0) == 0) spec->dns_names.push_back(san.substr(4));
    else if (san.rfind("IP:", 0) == 0) spec->ip_addresses.push_back(san.substr(3));
    else if (san.find(':') == std::string::npos) spec->dns_names.push_back(san);
    else return absl::InvalidArgumentError(absl::StrCat("--san ", san, ": use DNS:name or IP:address"));
  }
  return absl::OkStatus();
}

int Keygen(const Arguments& a) {
  const std::string out = a.Get("out");
  if (out.empty()) return Usage("keygen", "--out FILE is required");
  if (absl::Status kept = RefuseToReplace(out, a, kKeyReplaced); !kept.ok()) return Fail(kept);
  const std::string type = a.Get("type", "ecdsa");
  absl::StatusOr<std::string> key;
  if (type == "ecdsa") {
    key = appwire::GenerateEcdsaKeyPem(a.Get("curve", "P-256"));
  } else if (type == "rsa") {
    int bits = 0;
    if (!absl::SimpleAtoi(a.Get("bits", "2048"), &bits)) return Usage("keygen", "--bits needs a number");
    key = appwire::GenerateRsaKeyPem(bits);
  } else {
    return Usage("keygen", absl::StrCat("--type ", type, ": use ecdsa or rsa"));
  }
  if (!key.ok()) return Fail(key.status());
  absl::Status status = WriteKey(out, *key, a);
  if (!status.ok()) return Fail(status);
  std::printf("wrote %s (mode 0600)\n", out.c_str());
  if (!a.Get("pub").empty()) {
    absl::StatusOr<std::string> pub = appwire::PublicKeyPem(*key);
    if (!pub.ok()) return Fail(pub.status());
    status = Write(a.Get("pub"), *pub, 0644);
    if (!status.ok()) return Fail(status);
    std::printf("wrote %s\n", a.Get("pub").c_str());
  }
  return 0;
}

int Csr(const Arguments& a) {
  if (a.Get("key").empty() || a.Get("cn").empty() || a.Get("out").empty()) {
    return Usage("csr", "--key, --cn and --out are required");
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
  status = Write(a.Get("out"), *request, 0644);
  if (!status.ok()) return Fail(status);
  std::printf("wrote %s\n", a.Get("out").c_str());
  return 0;
}

int Selfsign(const Arguments& a) {
  if (a.Get("key").empty() || a.Get("cn").empty() || a.Get("out").empty()) {
    return Usage("selfsign", "--key, --cn and --out are required");
  }
  absl::StatusOr<std::string> key = appwire::ReadPemFile(a.Get("key"), appwire::PemKind::kPrivateKey);
  if (!key.ok()) return Fail(key.status());
  CertificateSpec spec;
  spec.common_name = a.Get("cn");
  if (!absl::SimpleAtoi(a.Get("days", "825"), &spec.days_valid) || spec.days_valid < 1) {
    return Usage("selfsign", "--days needs a positive number");
  }
  absl::Status status = AddSans(a.All("san"), &spec);
  if (!status.ok()) return Fail(status);
  if (spec.dns_names.empty() && spec.ip_addresses.empty()) spec.dns_names.push_back(spec.common_name);
  absl::StatusOr<std::string> cert = appwire::CreateSelfSignedCertificatePem(*key, spec);
  if (!cert.ok()) return Fail(cert.status());
  status = Write(a.Get("out"), *cert, 0644);
  if (!status.ok()) return Fail(status);
  auto info = appwire::DescribeCertificatePem(*cert, a.Get("out"));
  std::printf("wrote %s (%s, %s)\n", a.Get("out").c_str(), info->subject.c_str(),
              info->sha256_fingerprint.c_str());
  return 0;
}

int Ca(const Arguments& a) {
  if (a.positional.empty()) return Usage("ca", "init or issue?");
  if (a.positional[0] == "init") {
    if (a.positional.size() < 2) return Usage("ca", "ca init needs a folder");
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
  if (a.positional[0] != "issue") return Usage("ca", "use ca init or ca issue");
  const std::string ca_dir = a.Get("ca");
  const std::string out = a.Get("out");
  const std::string client = a.Get("client");
  const std::string server = a.Get("server");
  if (ca_dir.empty() || out.empty() || client.empty() == server.empty()) {
    return Usage("ca", "ca issue needs --ca DIR, --out DIR and one of --client NAME, --server HOST");
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

int Dhparams(const Arguments& a) {
  const std::string out = a.Get("out");
  if (out.empty()) return Usage("dhparams", "--out FILE is required");
  int bits = 0;
  if (!absl::SimpleAtoi(a.Get("bits", "2048"), &bits)) return Usage("dhparams", "--bits needs a number");
  if (bits != 2048 && bits != 3072 && bits != 4096) {
    return Usage("dhparams", absl::StrCat("--bits ", bits, ": use 2048, 3072 or 4096"));
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
  absl::Status status = Write(out, *pem, 0644);
  if (!status.ok()) return Fail(status);
  std::printf("wrote %s (%d bits)\n", out.c_str(), bits);
  return 0;
}

// One line per check: "ok", "warning" or "error".
struct Report {
  int errors = 0;
  std::vector<std::pair<std::string, std::string>> lines;
  void Line(const char* level, const std::string& text) {
    if (std::string(level) == "error") ++errors;
    lines.emplace_back(level, text);
  }
};

// The server's own rule and words (KeyPermissionWarning).
void CheckPermissions(const std::string& key_path, Report* report) {
  struct stat st;
  if (::stat(key_path.c_str(), &st) != 0) return;
  const std::string warning = appwire::KeyPermissionWarning(key_path);
  if (!warning.empty()) {
    report->Line("warning", warning);
  } else {
    report->Line("ok", absl::StrCat(key_path, " is readable only by its owner (mode ",
                                    absl::StrFormat("%04o", st.st_mode & 0777), ")"));
  }
}

void CheckLineEndings(const std::string& path, Report* report) {
  absl::StatusOr<std::string> text = appwire::ReadFile(path);
  if (!text.ok()) return;
  if (text->find('\r') != std::string::npos) {
    report->Line("ok", absl::StrCat(path, " uses CR or CRLF line endings (accepted)"));
  }
}

void CheckIdentity(const std::string& cert_path, const std::string& key_path, Report* report) {
  CheckLineEndings(cert_path, report);
  CheckLineEndings(key_path, report);
  CheckPermissions(key_path, report);
  appwire::IdentityLoadOptions load;
  load.warn_readable_key = false;  // reported above
  absl::StatusOr<appwire::ServerIdentity> identity =
      appwire::LoadIdentityFiles(cert_path, key_path, load);
  if (!identity.ok()) {
    report->Line("error", std::string(identity.status().message()));
    return;
  }
  report->Line("ok", absl::StrCat(cert_path, ": ", identity->leaf.subject, ", ",
                                  identity->leaf.sha256_fingerprint));
  const size_t chain = appwire::SplitPemCertificates(identity->certificate_chain_pem).size();
  report->Line("ok", absl::StrCat(cert_path, " holds ", chain, " certificate",
                                  chain == 1 ? "" : "s", ", in order"));
  appwire::TlsOptions tls;
  tls.role = appwire::TlsRole::kServer;
  tls.certificate_chain_pem = identity->certificate_chain_pem;
  tls.private_key_pem = identity->private_key_pem;
  tls.certificate_source = cert_path;
  tls.private_key_source = key_path;
  absl::StatusOr<std::shared_ptr<appwire::TlsContext>> context = appwire::TlsContext::Create(tls);
  if (!context.ok()) {
    report->Line("error", std::string(context.status().message()));
    return;
  }
  report->Line("ok", absl::StrCat(key_path, " is the key of ", cert_path));
  const absl::Duration left = identity->leaf.not_after - absl::Now();
  report->Line(left < absl::Hours(24 * 30) ? "warning" : "ok",
               absl::StrCat(cert_path, " expires on ", appwire::FormatUtc(identity->leaf.not_after),
                            " (in ", absl::ToInt64Hours(left) / 24, " days)"));
  report->Line("ok", absl::StrCat(cert_path, " names: ",
                                  absl::StrJoin(identity->leaf.subject_alt_names, ", ")));
  // Completeness: the last certificate should be a root, or clients need
  // its issuer in their CA file.
  std::vector<std::string> blocks = appwire::SplitPemCertificates(identity->certificate_chain_pem);
  auto last = appwire::DescribeCertificatePem(blocks.back(), cert_path);
  if (last.ok() && last->issuer != last->subject) {
    report->Line("ok", absl::StrCat(cert_path, " ends at '", last->subject, "', issued by '",
                                    last->issuer, "': peers need that CA in their CA file"));
  }
}

// A server's certificate should name this machine for clients on it and
// on the network.
void CheckServerNames(const std::string& cert_path, Report* report) {
  auto text = appwire::ReadFile(cert_path);
  if (!text.ok()) return;
  auto leaf = appwire::DescribeCertificatePem(*text, cert_path);
  if (!leaf.ok()) return;
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  std::vector<std::string> wanted = {"localhost", host};
  for (const std::string& name : wanted) {
    if (name.empty()) continue;
    bool listed = name == leaf->common_name;
    for (const std::string& san : leaf->subject_alt_names) listed = listed || san == name;
    report->Line(listed ? "ok" : "warning",
                 absl::StrCat(cert_path, listed ? " covers " : " does not cover ", "'", name, "'",
                              listed ? "" : ": clients connecting with that name will refuse it"));
  }
}

int Check(const Arguments& a) {
  Report report;
  if (!a.Get("project").empty()) {
    const std::string dir = a.Get("project");
    CheckIdentity(appwire::JoinPath(dir, "cert.pem"), appwire::JoinPath(dir, "key.pem"), &report);
    CheckServerNames(appwire::JoinPath(dir, "cert.pem"), &report);
    const std::string dh = appwire::JoinPath(dir, "dhparams.pem");
    if (appwire::FileExists(dh)) {
      absl::StatusOr<std::string> text = appwire::ReadFile(dh);
      absl::StatusOr<int> bits = text.ok() ? appwire::CheckDhParamsPem(*text, dh)
                                           : absl::StatusOr<int>(text.status());
      if (bits.ok()) report.Line("ok", absl::StrCat(dh, ": ", *bits, "-bit DH parameters"));
      else report.Line("error", std::string(bits.status().message()));
    } else {
      report.Line("ok", absl::StrCat(dh, " absent: the server generates it on first start"));
    }
  } else if (!a.Get("client").empty()) {
    const std::string dir = a.Get("client");
    if (appwire::FileExists(appwire::JoinPath(dir, "cert.pem")) ||
        appwire::FileExists(appwire::JoinPath(dir, "key.pem"))) {
      CheckIdentity(appwire::JoinPath(dir, "cert.pem"), appwire::JoinPath(dir, "key.pem"), &report);
    } else {
      report.Line("ok", "no client certificate (only servers that do not require one)");
    }
    const std::string ca = appwire::JoinPath(dir, "ca.pem");
    if (appwire::FileExists(ca)) {
      absl::StatusOr<std::string> pem = appwire::ReadPemFile(ca, appwire::PemKind::kCertificate);
      if (pem.ok()) report.Line("ok", absl::StrCat(ca, ": trusted roots for servers"));
      else report.Line("error", std::string(pem.status().message()));
    } else if (!appwire::FileExists(appwire::JoinPath(dir, "known_servers"))) {
      report.Line("warning", absl::StrCat("no ", ca, " or known_servers: servers must be "
                                          "trusted another way (system store, pin, TOFU)"));
    }
  } else {
    return Usage("check", "give --project DIR or --client DIR");
  }
  if (a.flags.count("json") > 0) {
    std::vector<std::string> checks;
    for (const auto& [level, text] : report.lines) {
      checks.push_back(absl::StrCat("{\"level\": \"", level, "\", \"message\": ", JsonString(text), "}"));
    }
    std::printf("{\"usable\": %s, \"checks\": [%s]}\n", report.errors == 0 ? "true" : "false",
                absl::StrJoin(checks, ", ").c_str());
  } else {
    for (const auto& [level, text] : report.lines) std::printf("%-7s %s\n", level.c_str(), text.c_str());
    std::printf("%s\n", report.errors == 0 ? "usable" : "NOT usable: fix the errors above");
  }
  return report.errors == 0 ? 0 : 1;
}

int Convert(const Arguments& a) {
  if (a.positional.empty() || a.Get("out").empty()) {
    return Usage("convert", "give the input file and --out DIR");
  }
  const std::string in = a.positional[0];
  absl::StatusOr<std::string> data = appwire::ReadFile(in);
  if (!data.ok()) return Fail(data.status());
  absl::StatusOr<appwire::ConvertedPem> pem = appwire::ConvertToPem(*data, a.Get("password"), in);
  if (!pem.ok()) return Fail(pem.status());
  const std::string out = a.Get("out");
  if (!pem->private_key_pem.empty()) {
    absl::Status kept = RefuseToReplace(appwire::JoinPath(out, "key.pem"), a, kKeyReplaced);
    if (!kept.ok()) return Fail(kept);
  }
  absl::Status status = appwire::MakeDirectories(out);
  if (status.ok() && !pem->private_key_pem.empty()) {
    status = WriteKey(appwire::JoinPath(out, "key.pem"), pem->private_key_pem, a);
    if (status.ok()) std::printf("wrote %s (mode 0600)\n", appwire::JoinPath(out, "key.pem").c_str());
  }
  if (status.ok() && !pem->certificate_chain_pem.empty()) {
    status = Write(appwire::JoinPath(out, "cert.pem"), pem->certificate_chain_pem, 0644);
    if (status.ok()) std::printf("wrote %s\n", appwire::JoinPath(out, "cert.pem").c_str());
  }
  if (!status.ok()) return Fail(status);
  return 0;
}


int Probe(const Arguments& a) {
  if (a.positional.empty()) return Usage("probe", "give HOST:PORT");
  const std::string target = a.positional[0];
  const size_t colon = target.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(target.substr(colon + 1), &port)) {
    return Usage("probe", absl::StrCat("\"", target, "\" is not HOST:PORT"));
  }
  std::string host = target.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  appwire::ProbeAttempt base;
  base.server_name = a.Get("server-name");
  auto attempt = [&](auto adjust) {
    appwire::ProbeAttempt one = base;
    adjust(one);
    return appwire::ProbeHandshake(host, port, one);
  };
  const bool json = a.flags.count("json") > 0;
  std::vector<std::string> lines;
  std::vector<std::string> fields;
  // Versions.
  bool tls13 = false;
  bool tls12 = false;
  std::string versions_json;
  for (appwire::TlsVersion version : {appwire::TlsVersion::k1_3, appwire::TlsVersion::k1_2}) {
    auto result = attempt([&](appwire::ProbeAttempt& p) { p.min_version = p.max_version = version; });
    const std::string name(appwire::TlsVersionName(version));
    (version == appwire::TlsVersion::k1_3 ? tls13 : tls12) = result.ok();
    lines.push_back(absl::StrCat(name, ": ", result.ok() ? "accepted" : "refused",
                                 result.ok() ? "" : absl::StrCat(" (", result.status().message(), ")")));
    absl::StrAppend(&versions_json, versions_json.empty() ? "" : ", ", JsonString(name), ": ",
                    result.ok() ? "true" : "false");
  }
  fields.push_back(absl::StrCat("\"versions\": {", versions_json, "}"));
  if (!tls13 && !tls12) {
    if (json) std::printf("{%s}\n", absl::StrJoin(fields, ", ").c_str());
    for (const std::string& line : lines) std::printf("%s\n", line.c_str());
    std::printf("no TLS version in common with %s\n", target.c_str());
    return 1;
  }
  // Suites, one at a time.
  std::vector<std::string> suites;
  if (tls13) {
    for (const char* suite : {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                              "TLS_CHACHA20_POLY1305_SHA256"}) {
      auto result = attempt([&](appwire::ProbeAttempt& p) {
        p.min_version = p.max_version = appwire::TlsVersion::k1_3;
        p.tls13_cipher_suites = suite;
      });
      if (result.ok()) suites.push_back(suite);
    }
  }
  if (tls12) {
    for (const char* suite :
         {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
          "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-AES128-GCM-SHA256",
          "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305",
          "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "AES128-GCM-SHA256",
          "AES256-GCM-SHA384"}) {
      auto result = attempt([&](appwire::ProbeAttempt& p) {
        p.min_version = p.max_version = appwire::TlsVersion::k1_2;
        p.tls12_cipher_list = suite;
      });
      if (result.ok()) suites.push_back(result->session.cipher);
    }
  }
  lines.push_back(absl::StrCat("cipher suites: ", absl::StrJoin(suites, ", ")));
  std::vector<std::string> suites_json;
  for (const std::string& s : suites) suites_json.push_back(JsonString(s));
  fields.push_back(absl::StrCat("\"cipher_suites\": [", absl::StrJoin(suites_json, ", "), "]"));
  // Groups.
  std::vector<std::string> groups;
  for (const char* group : {"P-256", "P-384", "X25519"}) {
    auto result = attempt([&](appwire::ProbeAttempt& p) { p.key_exchange_groups = group; });
    if (result.ok()) groups.push_back(group);
  }
  lines.push_back(absl::StrCat("key-exchange groups: ", absl::StrJoin(groups, ", ")));
  std::vector<std::string> groups_json;
  for (const std::string& g : groups) groups_json.push_back(JsonString(g));
  fields.push_back(absl::StrCat("\"groups\": [", absl::StrJoin(groups_json, ", "), "]"));
  // The default handshake: ALPN, certificate, client certificate.
  auto main_result = attempt([](appwire::ProbeAttempt&) {});
  if (main_result.ok()) {
    const appwire::TlsSessionInfo& s = main_result->session;
    lines.push_back(absl::StrCat("negotiated by default: ", s.version, ", ", s.cipher));
    lines.push_back(absl::StrCat("ALPN: ", s.alpn.empty() ? "none (not an appwire server)" : s.alpn));
    fields.push_back(absl::StrCat("\"alpn\": ", JsonString(s.alpn)));
    if (s.peer_certificate) {
      const appwire::CertificateInfo& c = *s.peer_certificate;
      lines.push_back(absl::StrCat("certificate: ", c.subject, ", issued by ", c.issuer));
      lines.push_back(absl::StrCat("  names: ", absl::StrJoin(c.subject_alt_names, ", ")));
      lines.push_back(absl::StrCat("  expires: ", appwire::FormatUtc(c.not_after)));
      lines.push_back(absl::StrCat("  fingerprint: ", c.sha256_fingerprint));
      fields.push_back(absl::StrCat(
          "\"certificate\": {\"subject\": ", JsonString(c.subject), ", \"issuer\": ",
          JsonString(c.issuer), ", \"not_after\": ", JsonString(appwire::FormatUtc(c.not_after)),
          ", \"sha256\": ", JsonString(c.sha256_fingerprint), "}"));
    }
    lines.push_back(absl::StrCat("client certificate: ",
                                 main_result->client_certificate_required ? "required"
                                                                          : "not required"));
    fields.push_back(absl::StrCat("\"client_certificate_required\": ",
                                  main_result->client_certificate_required ? "true" : "false"));
  } else {
    lines.push_back(absl::StrCat("default handshake failed: ", main_result.status().message()));
  }
  if (main_result.ok() && main_result->session_for_resumption != nullptr) {
    auto resumed = attempt([&](appwire::ProbeAttempt& p) {
      p.resume = main_result->session_for_resumption;
    });
    const bool works = resumed.ok() && resumed->session.resumed;
    lines.push_back(absl::StrCat("session resumption: ", works ? "works" : "not offered"));
    fields.push_back(absl::StrCat("\"session_resumption\": ", works ? "true" : "false"));
  } else {
    lines.push_back("session resumption: not offered");
    fields.push_back("\"session_resumption\": false");
  }
  if (json) {
    std::printf("{%s}\n", absl::StrJoin(fields, ", ").c_str());
  } else {
    std::printf("%s\n", target.c_str());
    for (const std::string& line : lines) std::printf("  %s\n", line.c_str());
  }
  return 0;
}

int Help(const std::string& sub) {
  for (const Subcommand& s : kSubcommands) {
    if (sub == s.name) {
      std::printf("usage: appwire %s\n\n%s\n", s.usage, s.help);
      return 0;
    }
  }
  std::printf("usage: appwire SUBCOMMAND [FLAGS]\n\nsubcommands:\n");
  for (const Subcommand& s : kSubcommands) std::printf("  %s\n", s.usage);
  std::printf("\n`appwire help SUBCOMMAND` explains one.\n");
  return sub.empty() ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Help("");
  const std::string sub = argv[1];
  if (sub == "help" || sub == "--help" || sub == "-h") return Help(argc > 2 ? argv[2] : "");
  Arguments arguments = Parse(argc, argv, 2);
  if (sub == "keygen") return Keygen(arguments);
  if (sub == "selfsign") return Selfsign(arguments);
  if (sub == "csr") return Csr(arguments);
  if (sub == "ca") return Ca(arguments);
  if (sub == "dhparams") return Dhparams(arguments);
  if (sub == "check") return Check(arguments);
  if (sub == "convert") return Convert(arguments);
  if (sub == "probe") return Probe(arguments);
  std::fprintf(stderr, "appwire: unknown subcommand \"%s\"\n", sub.c_str());
  return Help("unknown") == 0 ? 2 : 2;
}
