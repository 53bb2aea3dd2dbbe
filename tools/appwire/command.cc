#include "tools/appwire/command.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "appwire/common/pem.h"
#include "appwire/transport/private_key.h"

namespace appwire::cli {

int ParseAndRun(const Subcommand& sub, int argc, char** argv, int first) {
  absl::StatusOr<Arguments> line =
      ::appwire::ParseCommandLine(argc, argv, first, sub.flags, sub.max_positional);
  if (!line.ok()) return Usage(sub, std::string(line.status().message()));
  if (line->help) {
    PrintHelp(sub);
    return kExitOk;
  }
  return sub.run(*line);
}

void PrintHelp(const Subcommand& sub) {
  std::printf("usage: appwire %s\n\n%s\n", sub.usage, sub.help);
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "appwire: %s\n", std::string(status.message()).c_str());
  return kExitFailed;
}

int Usage(const Subcommand& sub, const std::string& problem) {
  std::fprintf(stderr, "appwire %s: %s\nusage: appwire %s\n(appwire help %s says more)\n",
               sub.name, problem.c_str(), sub.usage, sub.name);
  return kExitUsage;
}

absl::Status RefuseToReplace(const std::string& path, const Arguments& a, absl::string_view why) {
  if (!FileExists(path) || a.Has("force")) return absl::OkStatus();
  return absl::AlreadyExistsError(
      absl::StrCat(path, " exists; pass --force to replace it (", why, ")"));
}

absl::Status RefuseToReplaceUnlessSame(const std::string& path, const std::string& contents,
                                       const Arguments& a, absl::string_view why) {
  if (absl::StatusOr<std::string> there = ReadFile(path); there.ok() && *there == contents) {
    return absl::OkStatus();
  }
  return RefuseToReplace(path, a, why);
}

absl::Status Write(const std::string& path, const std::string& contents, int mode,
                   const Arguments& a, absl::string_view why) {
  if (absl::StatusOr<std::string> there = ReadFile(path); there.ok() && *there == contents) {
    return absl::OkStatus();
  }
  absl::Status status = WriteFileAtomically(
      path, contents, mode, a.Has("force") ? ExistingFile::kReplace : ExistingFile::kKeep);
  if (absl::IsAlreadyExists(status)) return RefuseToReplace(path, a, why);
  return status;
}

absl::Status WriteKey(const std::string& path, const std::string& pem, const Arguments& a) {
  absl::Status status = WriteFileAtomically(
      path, pem, 0600, a.Has("force") ? ExistingFile::kReplace : ExistingFile::kKeep);
  if (absl::IsAlreadyExists(status)) return RefuseToReplace(path, a, kKeyReplaced);
  return status;
}

absl::StatusOr<std::string> ReadPassword(const Arguments& a, const std::string& what,
                                         const std::string& prefix) {
  const std::string flag = prefix + "password";
  const std::string file_flag = flag + "-file";
  const std::string env_flag = flag + "-env";
  const int given = a.Has(flag) + a.Has(file_flag) + a.Has(env_flag);
  if (given > 1) {
    return absl::InvalidArgumentError(absl::StrCat("give one of --", file_flag, ", --", env_flag,
                                                   " and --", flag, ", not several"));
  }
  if (a.Has(flag)) return a.Get(flag);
  if (a.Has(file_flag)) {
    absl::StatusOr<std::string> text = ReadFile(a.Get(file_flag));
    if (!text.ok()) return text.status();
    return text->substr(0, text->find_first_of("\r\n"));
  }
  if (a.Has(env_flag)) {
    const char* value = std::getenv(a.Get(env_flag).c_str());
    if (value == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", env_flag, " ", a.Get(env_flag), ": that environment variable is not set"));
    }
    return std::string(value);
  }
  if (::isatty(STDIN_FILENO) == 0) return std::string();
  // Asked on the terminal, without echo.
  std::fprintf(stderr, "%s: ", what.c_str());
  std::fflush(stderr);
  termios before;
  const bool quiet = ::tcgetattr(STDIN_FILENO, &before) == 0;
  if (quiet) {
    termios silent = before;
    silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
  }
  std::string password;
  for (int c = std::getchar(); c != EOF && c != '\n' && c != '\r'; c = std::getchar()) {
    password.push_back(static_cast<char>(c));
  }
  if (quiet) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &before);
  std::fputc('\n', stderr);
  return password;
}

absl::StatusOr<std::string> EncryptIfAsked(const Arguments& a, const std::string& key_pem,
                                           const std::string& path) {
  if (!a.Has("encrypt")) {
    if (a.Has("password") || a.Has("password-file") || a.Has("password-env")) {
      return absl::InvalidArgumentError("a password is used only with --encrypt");
    }
    return key_pem;
  }
  absl::StatusOr<std::string> password = ReadPassword(a, "password for " + path);
  if (!password.ok()) return password.status();
  if (password->empty()) {
    return absl::InvalidArgumentError(
        "--encrypt needs a password: --password-file FILE, --password-env VAR, --password PW, "
        "or a terminal to type it on");
  }
  return EncryptPrivateKeyPem(key_pem, *password);
}

absl::StatusOr<std::string> ReadPrivateKey(const Arguments& a, const std::string& path,
                                           const std::string& password_prefix) {
  absl::StatusOr<std::string> pem = ReadPemFile(path, PemKind::kPrivateKey);
  if (!pem.ok() || !IsEncryptedPrivateKeyPem(*pem)) return pem;
  absl::StatusOr<std::string> password = ReadPassword(a, "password of " + path, password_prefix);
  if (!password.ok()) return password.status();
  if (password->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", path, "\" is encrypted: give its password with --", password_prefix,
        "password-file FILE, --", password_prefix, "password-env VAR or --", password_prefix,
        "password PW, or type it on a terminal"));
  }
  return DecryptPrivateKeyPem(*pem, *password, path);
}

int FailOrUsage(const Subcommand& command, const absl::Status& status) {
  return absl::IsInvalidArgument(status) ? Usage(command, std::string(status.message()))
                                         : Fail(status);
}

absl::StatusOr<int> DaysFlag(const Arguments& a, int fallback) {
  if (!a.Has("days")) return fallback;
  int days = 0;
  if (!absl::SimpleAtoi(a.Get("days"), &days) || days < 1 || days > 36500) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--days ", a.Get("days"), ": give a whole number of days from 1 to 36500"));
  }
  return days;
}

absl::Status AddSans(const std::vector<std::string>& sans, CertificateSpec* spec) {
  for (const std::string& san : sans) {
    if (san.rfind("DNS:", 0) == 0) spec->dns_names.push_back(san.substr(4));
    else if (san.rfind("IP:", 0) == 0) spec->ip_addresses.push_back(san.substr(3));
    else if (san.rfind("EMAIL:", 0) == 0) spec->email_addresses.push_back(san.substr(6));
    else if (san.rfind("URI:", 0) == 0) spec->uris.push_back(san.substr(4));
    else if (san.find(':') == std::string::npos) spec->dns_names.push_back(san);
    else return absl::InvalidArgumentError(absl::StrCat(
        "--san ", san, ": use DNS:name, IP:address, EMAIL:address or URI:uri"));
  }
  return absl::OkStatus();
}

}  // namespace appwire::cli
