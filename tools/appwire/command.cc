#include "tools/appwire/command.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"

namespace appwire::cli {

std::string Arguments::Get(const std::string& name, const std::string& fallback) const {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

std::vector<std::string> Arguments::All(const std::string& name) const {
  std::vector<std::string> values;
  for (auto [it, end] = flags.equal_range(name); it != end; ++it) values.push_back(it->second);
  return values;
}

Arguments ParseArguments(int argc, char** argv, int first) {
  Arguments arguments;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--json" || arg == "--force") {  // the flags without a value
      arguments.flags.emplace(arg.substr(2), "");
    } else if (arg.rfind("--", 0) == 0) {
      std::string value = i + 1 < argc ? argv[++i] : "";
      arguments.flags.emplace(arg.substr(2), value);
    } else {
      arguments.positional.push_back(arg);
    }
  }
  return arguments;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "appwire: %s\n", std::string(status.message()).c_str());
  return 1;
}

int Usage(const Subcommand& sub, const std::string& problem) {
  std::fprintf(stderr, "appwire %s: %s\nusage: appwire %s\n", sub.name, problem.c_str(),
               sub.usage);
  return 2;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out + "\"";
}

absl::Status Write(const std::string& path, const std::string& contents, int mode) {
  return WriteFileAtomically(path, contents, mode);
}

absl::Status RefuseToReplace(const std::string& path, const Arguments& a, absl::string_view why) {
  if (!FileExists(path) || a.Has("force")) return absl::OkStatus();
  return absl::AlreadyExistsError(
      absl::StrCat(path, " exists; pass --force to replace it (", why, ")"));
}

absl::Status WriteKey(const std::string& path, const std::string& pem, const Arguments& a) {
  absl::Status status = WriteFileAtomically(
      path, pem, 0600, a.Has("force") ? ExistingFile::kReplace : ExistingFile::kKeep);
  if (absl::IsAlreadyExists(status)) return RefuseToReplace(path, a, kKeyReplaced);
  return status;
}

absl::Status AddSans(const std::vector<std::string>& sans, CertificateSpec* spec) {
  for (const std::string& san : sans) {
    if (san.rfind("DNS:", 0) == 0) spec->dns_names.push_back(san.substr(4));
    else if (san.rfind("IP:", 0) == 0) spec->ip_addresses.push_back(san.substr(3));
    else if (san.find(':') == std::string::npos) spec->dns_names.push_back(san);
    else return absl::InvalidArgumentError(absl::StrCat("--san ", san, ": use DNS:name or IP:address"));
  }
  return absl::OkStatus();
}

}  // namespace appwire::cli
