#include "tools/appwire/command.h"

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "appwire/transport/certificate_generator.h"

namespace appwire::cli {
namespace {

int RunKeygen(const Arguments& a) {
  const std::string out = a.Get("out");
  if (out.empty()) return Usage(kKeygen, "--out FILE is required");
  if (absl::Status kept = RefuseToReplace(out, a, kKeyReplaced); !kept.ok()) return Fail(kept);
  const std::string pub_out = a.Get("pub");
  if (!pub_out.empty()) {
    absl::Status kept = RefuseToReplace(pub_out, a, "the public key in it would be lost");
    if (!kept.ok()) return Fail(kept);
  }
  const std::string type = a.Get("type", "ecdsa");
  absl::StatusOr<std::string> key;
  if (type == "ecdsa") {
    key = appwire::GenerateEcdsaKeyPem(a.Get("curve", "P-256"));
  } else if (type == "rsa") {
    int bits = 0;
    if (!absl::SimpleAtoi(a.Get("bits", "2048"), &bits)) return Usage(kKeygen, "--bits needs a number");
    key = appwire::GenerateRsaKeyPem(bits);
  } else {
    return Usage(kKeygen, absl::StrCat("--type ", type, ": use ecdsa or rsa"));
  }
  if (!key.ok()) return Fail(key.status());
  absl::Status status = WriteKey(out, *key, a);
  if (!status.ok()) return Fail(status);
  std::printf("wrote %s (mode 0600)\n", out.c_str());
  if (!pub_out.empty()) {
    absl::StatusOr<std::string> pub = appwire::PublicKeyPem(*key);
    if (!pub.ok()) return Fail(pub.status());
    status = Write(pub_out, *pub, 0644, a, "the public key in it would be lost");
    if (!status.ok()) return Fail(status);
    std::printf("wrote %s\n", pub_out.c_str());
  }
  return 0;
}

}  // namespace

const Subcommand kKeygen = {
    "keygen",
    "keygen [--type ecdsa|rsa] [--curve P-256|P-384] [--bits N] --out FILE [--pub FILE] [--force]",
    "Makes a private key (default ECDSA P-256; RSA 2048, 3072 or 4096; below 2048 is refused).\n"
    "The key file is written with mode 0600 and never printed; --pub writes the public key.\n"
    "An existing FILE (or --pub FILE) is replaced only with --force.",
    &RunKeygen,
    {{"type"}, {"curve"}, {"bits"}, {"out"}, {"pub"}, {"force", Kind::kSwitch}}};

}  // namespace appwire::cli
