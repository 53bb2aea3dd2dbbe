// `appwire inspect FILE`: what `openssl x509 -text` shows that people need,
// for every certificate in a PEM file (a chain: leaf first), and what a key
// file is without showing it.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "appwire/common/files.h"
#include "appwire/transport/certificate_info.h"
#include "appwire/transport/private_key.h"
#include "tools/appwire/command.h"
#include "tools/appwire/json_output.h"

namespace appwire::cli {
namespace {

// "in 89 days", "expired 3 days ago", "not valid for 2 more days".
std::string Validity(const CertificateInfo& c, absl::Time now) {
  if (now < c.not_before) {
    return absl::StrCat("not valid yet (for ", absl::ToInt64Hours(c.not_before - now) / 24,
                        " more days)");
  }
  if (now > c.not_after) {
    return absl::StrCat("EXPIRED ", absl::ToInt64Hours(now - c.not_after) / 24, " days ago");
  }
  return absl::StrCat("valid, expires in ", absl::ToInt64Hours(c.not_after - now) / 24, " days");
}

// The label of the file's private key block ("EC PRIVATE KEY", ...), "" when none.
std::string PrivateKeyLabel(const std::string& text) {
  const size_t begin = text.find("-----BEGIN ");
  if (begin == std::string::npos) return "";
  const size_t end = text.find("-----", begin + 11);
  if (end == std::string::npos) return "";
  const std::string label = text.substr(begin + 11, end - begin - 11);
  return absl::EndsWith(label, "PRIVATE KEY") ? label : "";
}

int RunInspect(const Arguments& a) {
  if (a.positional.empty()) return Usage(kInspect, "give a PEM file");
  const std::string path = a.positional[0];
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return Fail(text.status());
  const bool json = a.Has("json");
  if (const std::string label = PrivateKeyLabel(*text); !label.empty()) {
    // Never the key itself: what it is, and whether it is encrypted.
    const bool encrypted = IsEncryptedPrivateKeyPem(*text);
    if (json) {
      PrintJson({{"file", path}, {"private_key", label}, {"encrypted", encrypted}});
    } else {
      std::printf("%s: a private key (%s%s); its contents are not shown\n", path.c_str(),
                  label.c_str(), encrypted ? ", encrypted" : "");
    }
    return kExitOk;
  }
  const std::vector<std::string> blocks = SplitPemCertificates(*text);
  if (blocks.empty()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "\"", path, "\" holds no PEM certificate (-----BEGIN CERTIFICATE-----); a DER file "
        "can be turned into PEM with appwire convert")));
  }
  std::vector<CertificateInfo> chain;
  for (size_t i = 0; i < blocks.size(); ++i) {
    absl::StatusOr<CertificateInfo> info =
        DescribeCertificatePem(blocks[i], absl::StrCat(path, ", certificate ", i + 1));
    if (!info.ok()) return Fail(info.status());
    chain.push_back(*std::move(info));
  }
  // Leaf first, each issued by the next (by name: signatures are checked
  // by the TLS handshake, and by appwire check against the key).
  bool in_order = true;
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    in_order = in_order && chain[i].issuer == chain[i + 1].subject;
  }
  const absl::Time now = absl::Now();
  if (json) {
    Json certificates = Json::array();
    for (const CertificateInfo& c : chain) {
      certificates.push_back({{"subject", c.subject},
                              {"issuer", c.issuer},
                              {"names", c.subject_alt_names},
                              {"not_before", FormatUtc(c.not_before)},
                              {"not_after", FormatUtc(c.not_after)},
                              {"expired", now > c.not_after},
                              {"public_key", c.public_key},
                              {"ca", c.is_ca},
                              {"serial", c.serial},
                              {"sha256", c.sha256_fingerprint}});
    }
    PrintJson({{"file", path}, {"certificates", certificates}, {"chain_in_order", in_order}});
    return kExitOk;
  }
  for (size_t i = 0; i < chain.size(); ++i) {
    const CertificateInfo& c = chain[i];
    std::printf("%s certificate %zu of %zu%s\n", path.c_str(), i + 1, chain.size(),
                i == 0 ? " (leaf)" : "");
    std::printf("  subject:     %s\n", c.subject.c_str());
    std::printf("  issuer:      %s%s\n", c.issuer.c_str(),
                c.issuer == c.subject ? " (self-signed)" : "");
    std::printf("  names:       %s\n", c.subject_alt_names.empty()
                                           ? "(none: clients match the common name only, if at all)"
                                           : absl::StrJoin(c.subject_alt_names, ", ").c_str());
    std::printf("  validity:    %s to %s: %s\n", FormatUtc(c.not_before).c_str(),
                FormatUtc(c.not_after).c_str(), Validity(c, now).c_str());
    std::printf("  key:         %s\n", c.public_key.c_str());
    std::printf("  CA:          %s\n", c.is_ca ? "yes (may issue certificates)" : "no");
    std::printf("  serial:      %s\n", c.serial.c_str());
    std::printf("  fingerprint: %s\n", c.sha256_fingerprint.c_str());
  }
  if (chain.size() > 1) {
    std::printf("chain: %s\n", in_order ? "in order (each certificate issued by the next)"
                                        : "NOT in order: put the leaf first, then each issuer");
  }
  return kExitOk;
}

}  // namespace

const Subcommand kInspect = {
    "inspect",
    "inspect FILE [--json]",
    "Shows each certificate of a PEM file (a chain: leaf first) as people need it: subject,\n"
    "issuer, names, validity with the days left, key, CA or not, serial, SHA-256 fingerprint\n"
    "(the value clients pin), and whether the chain is in order. For a private key file, what\n"
    "kind of key it is and whether it is encrypted; never the key.",
    &RunInspect,
    {{"json", Kind::kSwitch}},
    /*max_positional=*/1};

}  // namespace appwire::cli
