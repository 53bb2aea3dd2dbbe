#include "tools/appwire/command.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "appwire/transport/certificate_info.h"
#include "appwire/transport/tls_options.h"
#include "appwire/transport/tls_session_info.h"
#include "tools/appwire/json_output.h"
#include "tools/appwire/tls_probe.h"

namespace appwire::cli {
namespace {

int RunProbe(const Arguments& a) {
  if (a.positional.empty()) return Usage(kProbe, "give HOST:PORT");
  const std::string target = a.positional[0];
  const size_t colon = target.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(target.substr(colon + 1), &port)) {
    return Usage(kProbe, absl::StrCat("\"", target, "\" is not HOST:PORT"));
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
  const bool json = a.Has("json");
  std::vector<std::string> lines;
  Json fields = Json::object();
  // Versions.
  bool tls13 = false;
  bool tls12 = false;
  Json versions_json = Json::object();
  for (appwire::TlsVersion version : {appwire::TlsVersion::k1_3, appwire::TlsVersion::k1_2}) {
    auto result = attempt([&](appwire::ProbeAttempt& p) { p.min_version = p.max_version = version; });
    const std::string name(appwire::TlsVersionName(version));
    (version == appwire::TlsVersion::k1_3 ? tls13 : tls12) = result.ok();
    lines.push_back(absl::StrCat(name, ": ", result.ok() ? "accepted" : "refused",
                                 result.ok() ? "" : absl::StrCat(" (", result.status().message(), ")")));
    versions_json[name] = result.ok();
  }
  fields["versions"] = versions_json;
  if (!tls13 && !tls12) {
    if (json) {
      PrintJson(fields);
    } else {
      for (const std::string& line : lines) std::printf("%s\n", line.c_str());
      std::printf("no TLS version in common with %s\n", target.c_str());
    }
    return kExitFailed;
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
  fields["cipher_suites"] = suites;
  // Groups.
  std::vector<std::string> groups;
  for (const char* group : {"P-256", "P-384", "X25519"}) {
    auto result = attempt([&](appwire::ProbeAttempt& p) { p.key_exchange_groups = group; });
    if (result.ok()) groups.push_back(group);
  }
  lines.push_back(absl::StrCat("key-exchange groups: ", absl::StrJoin(groups, ", ")));
  fields["groups"] = groups;
  // The default handshake: ALPN, certificate, client certificate.
  auto main_result = attempt([](appwire::ProbeAttempt&) {});
  if (main_result.ok()) {
    const appwire::TlsSessionInfo& s = main_result->session;
    lines.push_back(absl::StrCat("negotiated by default: ", s.version, ", ", s.cipher));
    lines.push_back(absl::StrCat("ALPN: ", s.alpn.empty() ? "none (not an appwire server)" : s.alpn));
    fields["alpn"] = s.alpn;
    if (s.peer_certificate) {
      const appwire::CertificateInfo& c = *s.peer_certificate;
      lines.push_back(absl::StrCat("certificate: ", c.subject, ", issued by ", c.issuer));
      lines.push_back(absl::StrCat("  names: ", absl::StrJoin(c.subject_alt_names, ", ")));
      lines.push_back(absl::StrCat("  expires: ", appwire::FormatUtc(c.not_after)));
      lines.push_back(absl::StrCat("  fingerprint: ", c.sha256_fingerprint));
      fields["certificate"] = {{"subject", c.subject},
                               {"issuer", c.issuer},
                               {"not_after", appwire::FormatUtc(c.not_after)},
                               {"sha256", c.sha256_fingerprint}};
    }
    lines.push_back(absl::StrCat("client certificate: ",
                                 main_result->client_certificate_required ? "required"
                                                                          : "not required"));
    fields["client_certificate_required"] = main_result->client_certificate_required;
  } else {
    lines.push_back(absl::StrCat("default handshake failed: ", main_result.status().message()));
  }
  if (main_result.ok() && main_result->session_for_resumption != nullptr) {
    auto resumed = attempt([&](appwire::ProbeAttempt& p) {
      p.resume = main_result->session_for_resumption;
    });
    const bool works = resumed.ok() && resumed->session.resumed;
    lines.push_back(absl::StrCat("session resumption: ", works ? "works" : "not offered"));
    fields["session_resumption"] = works;
  } else {
    lines.push_back("session resumption: not offered");
    fields["session_resumption"] = false;
  }
  if (json) {
    PrintJson(fields);
  } else {
    std::printf("%s\n", target.c_str());
    for (const std::string& line : lines) std::printf("  %s\n", line.c_str());
  }
  return 0;
}

}  // namespace

const Subcommand kProbe = {
    "probe",
    "probe HOST:PORT [--server-name NAME] [--json]",
    "Connects as a client and reports what the server accepts and sends: TLS versions,\n"
    "cipher suites, key-exchange groups, ALPN, its certificate with expiry, and whether it\n"
    "requires a client certificate. One handshake per question; any certificate is accepted\n"
    "(the point is to look, not to trust).",
    &RunProbe,
    {{"server-name"}, {"json", Kind::kSwitch}},
    /*max_positional=*/1};

}  // namespace appwire::cli
