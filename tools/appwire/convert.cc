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
  absl::StatusOr<appwire::ConvertedPem> pem = appwire::ConvertToPem(*data, a.Get("password"), in);
  if (!pem.ok()) return Fail(pem.status());
  // The pair goes where a server reads it: key.pem and cert.pem of the
  // project folder --out.
  const appwire::ProjectFolder out = appwire::ProjectFolder::At(a.Get("out"));
  if (!pem->private_key_pem.empty()) {
    absl::Status kept = RefuseToReplace(out.key, a, kKeyReplaced);
    if (!kept.ok()) return Fail(kept);
  }
  absl::Status status = appwire::MakeDirectories(out.dir);
  if (status.ok() && !pem->private_key_pem.empty()) {
    status = WriteKey(out.key, pem->private_key_pem, a);
    if (status.ok()) std::printf("wrote %s (mode 0600)\n", out.key.c_str());
  }
  if (status.ok() && !pem->certificate_chain_pem.empty()) {
    status = Write(out.certificate, pem->certificate_chain_pem, 0644);
    if (status.ok()) std::printf("wrote %s\n", out.certificate.c_str());
  }
  if (!status.ok()) return Fail(status);
  return 0;
}

}  // namespace

const Subcommand kConvert = {
    "convert",
    "convert IN [--password PW] --out DIR [--force]",
    "Turns a PKCS#12 (.p12/.pfx, with its password) or DER (.der/.cer) file into the PEM\n"
    "files appwire reads: DIR/key.pem (mode 0600) and DIR/cert.pem (leaf first, then the\n"
    "issuers the file holds). An existing DIR/key.pem is replaced only with --force.",
    &RunConvert};

}  // namespace appwire::cli
