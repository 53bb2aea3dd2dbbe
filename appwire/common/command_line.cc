#include "appwire/common/command_line.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace appwire {

std::string CommandLine::Get(const std::string& name, const std::string& fallback) const {
  for (const auto& [flag, value] : flags) {
    if (flag == name) return value;
  }
  return fallback;
}

std::vector<std::string> CommandLine::All(const std::string& name) const {
  std::vector<std::string> values;
  for (const auto& [flag, value] : flags) {
    if (flag == name) values.push_back(value);
  }
  return values;
}

bool CommandLine::Has(const std::string& name) const {
  for (const auto& [flag, value] : flags) {
    if (flag == name) return true;
  }
  return false;
}

namespace {

const FlagSpec* FindFlag(absl::Span<const FlagSpec> flags, const std::string& name) {
  for (const FlagSpec& flag : flags) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

const FlagSpec* FindShortFlag(absl::Span<const FlagSpec> flags, char short_name) {
  for (const FlagSpec& flag : flags) {
    if (flag.short_name != 0 && flag.short_name == short_name) return &flag;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv, int first,
                                             absl::Span<const FlagSpec> flags,
                                             size_t max_positional) {
  CommandLine line;
  bool flags_ended = false;
  for (int i = first; i < argc; ++i) {
    const std::string word = argv[i];
    if (flags_ended || word.size() < 2 || word[0] != '-') {
      if (line.positional.size() == max_positional) {
        return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", word, "\""));
      }
      line.positional.push_back(word);
      continue;
    }
    if (word == "--") {
      flags_ended = true;
      continue;
    }
    if (word == "-h" || word == "--help") {
      line.help = true;
      continue;
    }
    const FlagSpec* spec = nullptr;
    std::string name;
    size_t equals = std::string::npos;
    if (word.rfind("--", 0) != 0) {
      spec = word.size() == 2 ? FindShortFlag(flags, word[1]) : nullptr;
      if (spec == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag ", word, " (flags are spelled --name)"));
      }
      name = spec->name;
    } else {
      equals = word.find('=');
      name = word.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
      spec = FindFlag(flags, name);
      if (spec == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    std::string value;
    if (spec->kind == FlagSpec::Kind::kSwitch) {
      if (equals != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      }
    } else if (equals != std::string::npos) {
      value = word.substr(equals + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
    }
    if (spec->kind != FlagSpec::Kind::kRepeated && line.Has(name)) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " is given twice"));
    }
    line.flags.emplace_back(name, std::move(value));
  }
  return line;
}

}  // namespace appwire
