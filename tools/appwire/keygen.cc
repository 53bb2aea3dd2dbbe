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
  } else if (type == "ed25519") {
    if (a.Has("curve") || a.Has("bits")) {
      return Usage(kKeygen, "--type ed25519 takes no --curve or --bits");
    }
    key = appwire::GenerateEd25519KeyPem();
  } else if (type == "rsa") {
    int bits = 0;
    if (!absl::SimpleAtoi(a.Get("bits", "2048"), &bits)) return Usage(kKeygen, "--bits needs a number");
    key = appwire::GenerateRsaKeyPem(bits);
  } else {
    return Usage(kKeygen, absl::StrCat("--type ", type, ": use ecdsa, rsa or ed25519"));
  }
  if (!key.ok()) return Fail(key.status());
  absl::StatusOr<std::string> written = EncryptIfAsked(a, *key, out);
  if (!written.ok()) return FailOrUsage(kKeygen, written.status());
  absl::Status status = WriteKey(out, *written, a);
  if (!status.ok()) return Fail(status);
  std::printf("wrote %s (mode 0600%s)\n", out.c_str(),
              a.Has("encrypt") ? ", encrypted: PKCS#8, AES-256-CBC" : "");
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
    "keygen [--type ecdsa|rsa|ed25519] [--curve P-256|P-384] [--bits N] --out FILE [--pub FILE] "
    "[--encrypt [--password-file FILE | --password-env VAR | --password PW]] [--force]",
    "Makes a private key (default ECDSA P-256; RSA 2048, 3072 or 4096, below 2048 refused;\n"
    "or Ed25519, PKCS#8 as RFC 8410 says, which TLS 1.3 clients take and TLS 1.2 ones may not).\n"
    "The key file is written with mode 0600 and never printed; --pub writes the public key.\n"
    "An existing FILE (or --pub FILE) is replaced only with --force. --encrypt writes it\n"
    "encrypted with a password (PKCS#8, PBES2/AES-256-CBC; appwire-server reads it with\n"
    "key_passphrase_file, openssl with -passin), read from --password-file's first line,\n"
    "from --password-env, from --password (seen by other users), or asked on the terminal.",
    &RunKeygen,
    {{"type"}, {"curve"}, {"bits"}, {"out"}, {"pub"}, {"force", Kind::kSwitch},
     {"encrypt", Kind::kSwitch}, {"password"}, {"password-file"}, {"password-env"}}};

}  // namespace appwire::cli
