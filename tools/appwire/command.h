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
#include "appwire/common/command_line.h"
#include "appwire/transport/certificate_generator.h"

namespace appwire::cli {

// The command line after the subcommand's name, parsed against the
// subcommand's own flags (appwire/common/command_line.h): unknown flags and
// stray arguments never reach a subcommand.
using Arguments = ::appwire::CommandLine;
using Kind = ::appwire::FlagSpec::Kind;

// The exit statuses every subcommand uses (tools/README.md).
inline constexpr int kExitOk = 0;      // done; for check and health: usable, serving
inline constexpr int kExitFailed = 1;  // failed, or what was checked is bad
inline constexpr int kExitUsage = 2;   // the command line is wrong

// One subcommand. `run` returns one of the exit statuses above.
struct Subcommand {
  const char* name;
  const char* usage;  // after "appwire ": "keygen [--type ecdsa|rsa] ..."
  const char* help;   // what `appwire help NAME` prints under the usage
  int (*run)(const Arguments&);
  std::vector<::appwire::FlagSpec> flags;  // every flag it takes (--help is implied)
  size_t max_positional = 0;              // words that are not flags
};

// Parses argv[first..argc) for `sub` and runs it: --help prints its help
// (exit 0); an unknown flag, a missing value or a stray argument is a usage
// error (exit 2) before anything runs.
int ParseAndRun(const Subcommand& sub, int argc, char** argv, int first);

// `appwire help SUB` and `appwire SUB --help`.
void PrintHelp(const Subcommand& sub);

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
extern const Subcommand kHealth;    // health.cc
extern const Subcommand kStats;     // stats.cc
extern const Subcommand kInspect;   // inspect.cc
extern const Subcommand kCall;      // call.cc
extern const Subcommand kList;      // call.cc
extern const Subcommand kDescribe;  // call.cc
extern const Subcommand kAcme;      // acme.cc

// Prints "appwire: MESSAGE" on stderr; returns 1.
int Fail(const absl::Status& status);

// Prints "appwire SUB: PROBLEM", SUB's usage line and where its help is on
// stderr; returns kExitUsage.
int Usage(const Subcommand& sub, const std::string& problem);

// What replacing a file costs, for RefuseToReplace and Write.
inline constexpr char kKeyReplaced[] =
    "the private key in it would be lost, and with it every certificate issued for it";
inline constexpr char kCertificateReplaced[] =
    "the certificate in it would be lost; clients may trust or pin it";
inline constexpr char kRequestReplaced[] =
    "a CA may already have been sent that request";

// Nothing is replaced without being asked: AlreadyExists when `path` exists
// and --force was not given, checked before anything is made or written (so
// a refusal writes nothing). `why` says what replacing it would cost.
absl::Status RefuseToReplace(const std::string& path, const Arguments& a, absl::string_view why);
// The same for a file whose new contents are known (a copy of a CA's
// certificate): one that already holds exactly `contents` is no loss.
absl::Status RefuseToReplaceUnlessSame(const std::string& path, const std::string& contents,
                                       const Arguments& a, absl::string_view why);

// Writes a file that is not secret (certificates, requests, parameters):
// atomically, with `mode`. An existing file is replaced only with --force
// (AlreadyExists otherwise, as RefuseToReplace says it); one holding
// exactly `contents` is left as it is.
absl::Status Write(const std::string& path, const std::string& contents, int mode,
                   const Arguments& a, absl::string_view why);

// Writes a private key (mode 0600). Without --force an existing file is
// kept, also one that appeared after RefuseToReplace looked (while the key
// was being made): the write itself never replaces.
absl::Status WriteKey(const std::string& path, const std::string& pem, const Arguments& a);

// --days as a number of days from 1 to 36500, or `fallback` when not given;
// InvalidArgument saying what to give otherwise (a usage error).
absl::StatusOr<int> DaysFlag(const Arguments& a, int fallback);

// The password given by --password-file FILE (its first line),
// --password-env VAR or --password PW (with `prefix`, --PREFIXpassword-file
// and so on: "ca-" for the CA key's); with none, asked on the terminal
// (without echo) when stdin is one, else "". `what` names it in the
// prompt. InvalidArgument when more than one is given or the variable is
// unset; the file's own error when it cannot be read.
absl::StatusOr<std::string> ReadPassword(const Arguments& a, const std::string& what,
                                         const std::string& prefix = "");

// `key_pem` as it is to be written to `path`: encrypted with the password
// (ReadPassword) when --encrypt is given, as it is otherwise.
// InvalidArgument (a usage error) for --encrypt without a password, or a
// password without --encrypt.
absl::StatusOr<std::string> EncryptIfAsked(const Arguments& a, const std::string& key_pem,
                                           const std::string& path);

// The private key in `path`, decrypted when it is encrypted with the
// password of --PREFIXpassword-file, -env or --PREFIXpassword (or the
// terminal); InvalidArgument naming those flags when none is given, or
// when the password does not decrypt it.
absl::StatusOr<std::string> ReadPrivateKey(const Arguments& a, const std::string& path,
                                           const std::string& password_prefix);

// Exit code for `status`: a usage error (2, with the usage) for
// InvalidArgument, a failure (1) for anything else.
int FailOrUsage(const Subcommand& command, const absl::Status& status);

// Adds --san values to `spec`: "DNS:name", "IP:addr", "EMAIL:address",
// "URI:uri" (a bare value is a DNS name); InvalidArgument for any other
// "KIND:value".
absl::Status AddSans(const std::vector<std::string>& sans, CertificateSpec* spec);

}  // namespace appwire::cli

#endif  // APPWIRE_TOOLS_APPWIRE_COMMAND_H_
