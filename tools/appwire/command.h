// What every `appwire` subcommand shares: its entry in the command table
// (name, usage line, help text, the function that runs it), the parsed
// command line, and the few rules they all follow when they report and write
// files. main.cc dispatches; each subcommand lives in its own file (keygen.cc,
// csr.cc, selfsign.cc, ca.cc, dhparams.cc, convert.cc, probe.cc, check.cc)
// and defines its Subcommand below.
//
// The words printed here are the command's interface (tests/appwire_cli_test.cc
// asserts them): change them only on purpose.
//
// Single-threaded: the command runs one subcommand on the main thread.
#ifndef APPWIRE_TOOLS_APPWIRE_COMMAND_H_
#define APPWIRE_TOOLS_APPWIRE_COMMAND_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "appwire/transport/certificate_generator.h"

namespace appwire::cli {

// The command line after the subcommand's name: `--name value` flags (a
// flag may repeat, as --san does), `--json` and `--force` without a value,
// and everything else positional, in order.
struct Arguments {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> flags;

  // The first value of --name, or `fallback` when it was not given.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // Every value of --name, in order.
  std::vector<std::string> All(const std::string& name) const;
  // Whether --name was given (for the flags without a value).
  bool Has(const std::string& name) const { return flags.count(name) > 0; }
};

// argv[first..argc) as Arguments. A flag that ends the line gets "".
Arguments ParseArguments(int argc, char** argv, int first);

// One subcommand. `run` returns the exit status: 0 done, 1 failed, 2 misused.
struct Subcommand {
  const char* name;
  const char* usage;  // after "appwire ": "keygen [--type ecdsa|rsa] ..."
  const char* help;   // what `appwire help NAME` prints under the usage
  int (*run)(const Arguments&);
};

// The subcommands, in the order `appwire help` lists them (main.cc holds
// the table). Each is defined in its own file.
extern const Subcommand kKeygen;    // keygen.cc
extern const Subcommand kCsr;       // csr.cc
extern const Subcommand kSelfsign;  // selfsign.cc
extern const Subcommand kCa;        // ca.cc: ca init, ca issue
extern const Subcommand kDhparams;  // dhparams.cc
extern const Subcommand kConvert;   // convert.cc
extern const Subcommand kProbe;     // probe.cc
extern const Subcommand kCheck;     // check.cc

// Prints "appwire: MESSAGE" on stderr; returns 1.
int Fail(const absl::Status& status);

// Prints "appwire SUB: PROBLEM" and SUB's usage line on stderr; returns 2.
int Usage(const Subcommand& sub, const std::string& problem);

// `text` as a JSON string literal: quotes and backslashes escaped, control
// characters dropped.
std::string JsonString(const std::string& text);

// Writes a file that is not secret (certificates, requests, parameters):
// atomically, with `mode`, replacing what was there.
absl::Status Write(const std::string& path, const std::string& contents, int mode);

// What replacing a private key costs, for RefuseToReplace.
inline constexpr char kKeyReplaced[] =
    "the private key in it would be lost, and with it every certificate issued for it";

// A private key (or DH parameters, slow to make) is never replaced without
// being asked: AlreadyExists when `path` exists and --force was not given,
// checked before anything is made or written. `why` says what replacing it
// would cost.
absl::Status RefuseToReplace(const std::string& path, const Arguments& a, absl::string_view why);

// Writes a private key (mode 0600). Without --force an existing file is
// kept, also one that appeared after RefuseToReplace looked (while the key
// was being made): the write itself never replaces.
absl::Status WriteKey(const std::string& path, const std::string& pem, const Arguments& a);

// Adds --san values to `spec`: "DNS:name" / "IP:addr" (a bare value is a
// DNS name); InvalidArgument for any other "KIND:value".
absl::Status AddSans(const std::vector<std::string>& sans, CertificateSpec* spec);

}  // namespace appwire::cli

#endif  // APPWIRE_TOOLS_APPWIRE_COMMAND_H_
