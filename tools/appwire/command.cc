#include "tools/appwire/command.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"

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

absl::StatusOr<std::string> ReadPassword(const Arguments& a, const std::string& what) {
  const int given = a.Has("password") + a.Has("password-file") + a.Has("password-env");
  if (given > 1) {
    return absl::InvalidArgumentError(
        "give one of --password-file, --password-env and --password, not several");
  }
  if (a.Has("password")) return a.Get("password");
  if (a.Has("password-file")) {
    absl::StatusOr<std::string> text = ReadFile(a.Get("password-file"));
    if (!text.ok()) return text.status();
    return text->substr(0, text->find_first_of("\r\n"));
  }
  if (a.Has("password-env")) {
    const char* value = std::getenv(a.Get("password-env").c_str());
    if (value == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--password-env ", a.Get("password-env"), ": that environment variable is not set"));
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
