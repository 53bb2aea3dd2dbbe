#include "tools/appwire/command.h"

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "appwire/common/files.h"
#include "appwire/common/project_folder.h"
#include "tools/appwire/pem_conversion.h"

namespace appwire::cli {
namespace {

int RunConvert(const Arguments& a) {
  if (a.positional.empty() || a.Get("out").empty()) {
    return Usage(kConvert, "give the input file and --out DIR");
  }
  const std::string in = a.positional[0];
  absl::StatusOr<std::string> data = appwire::ReadFile(in);
  if (!data.ok()) return Fail(data.status());
  // Only a PKCS#12 file has a password: a DER file is never asked for one.
  absl::StatusOr<std::string> password = appwire::LooksLikePkcs12(*data)
                                             ? ReadPassword(a, "password of " + in)
                                             : absl::StatusOr<std::string>("");
  if (!password.ok()) {
    return absl::IsInvalidArgument(password.status())
               ? Usage(kConvert, std::string(password.status().message()))
               : Fail(password.status());
  }
  absl::StatusOr<appwire::ConvertedPem> pem = appwire::ConvertToPem(*data, *password, in);
  if (!pem.ok()) return Fail(pem.status());
  // The pair goes where a server reads it: key.pem and cert.pem of the
  // project folder --out.
  const appwire::ProjectFolder out = appwire::ProjectFolder::At(a.Get("out"));
  if (!pem->private_key_pem.empty()) {
    absl::Status kept = RefuseToReplace(out.key, a, kKeyReplaced);
    if (!kept.ok()) return Fail(kept);
  }
  if (!pem->certificate_chain_pem.empty()) {
    absl::Status kept = RefuseToReplaceUnlessSame(out.certificate, pem->certificate_chain_pem, a,
                                                  kCertificateReplaced);
    if (!kept.ok()) return Fail(kept);
  }
  absl::Status status = appwire::MakeDirectories(out.dir);
  if (status.ok() && !pem->private_key_pem.empty()) {
    status = WriteKey(out.key, pem->private_key_pem, a);
    if (status.ok()) std::printf("wrote %s (mode 0600)\n", out.key.c_str());
  }
  if (status.ok() && !pem->certificate_chain_pem.empty()) {
    status = Write(out.certificate, pem->certificate_chain_pem, 0644, a, kCertificateReplaced);
    if (status.ok()) std::printf("wrote %s\n", out.certificate.c_str());
  }
  if (!status.ok()) return Fail(status);
  return 0;
}

}  // namespace

const Subcommand kConvert = {
    "convert",
    "convert IN [--password-file FILE | --password-env VAR | --password PW] --out DIR [--force]",
    "Turns a PKCS#12 (.p12/.pfx, with its password) or DER (.der/.cer) file into the PEM\n"
    "files appwire reads: DIR/key.pem (mode 0600) and DIR/cert.pem (leaf first, then the\n"
    "issuers the file holds). An existing DIR/key.pem or DIR/cert.pem is replaced only with\n"
    "--force. The password comes from the first line of --password-file, from the\n"
    "environment variable --password-env names, or from --password (seen by other users in\n"
    "the process list); with none of them, it is asked on the terminal when there is one.",
    &RunConvert,
    {{"password"}, {"password-file"}, {"password-env"}, {"out"}, {"force", Kind::kSwitch}},
    /*max_positional=*/1};

}  // namespace appwire::cli
