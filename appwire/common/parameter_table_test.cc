#include "appwire/common/parameter_table.h"

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

std::string ReadSource(const std::string& relative_path) {
  std::ifstream in(std::string(APPWIRE_SOURCE_DIR) + "/" + relative_path);
  EXPECT_TRUE(in.good()) << relative_path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The value as docs and comments write a default: 19813, "P-256:X25519:P-384".
std::string DefaultText(const ParameterSpec& spec) { return DefaultValue(spec).ToString(); }

// Whether `text` contains `word` not followed by a digit ("default 1" must
// not match "default 10000").
bool ContainsNumberOrString(absl::string_view text, absl::string_view word) {
  for (size_t at = text.find(word); at != absl::string_view::npos;
       at = text.find(word, at + 1)) {
    const size_t end = at + word.size();
    if (end == text.size() || !absl::ascii_isdigit(static_cast<unsigned char>(text[end]))) {
      return true;
    }
  }
  return false;
}

struct Enumerator {
  int number = 0;
  std::string comment;
};

// The enum in appwire/common/parameters.h: name -> number and its comment lines.
std::map<std::string, Enumerator> HeaderEnumerators() {
  const std::string header = ReadSource("appwire/common/parameters.h");
  const size_t begin = header.find("enum class Parameter : int {");
  const size_t end = header.find("};", begin);
  EXPECT_NE(begin, std::string::npos);
  std::map<std::string, Enumerator> enumerators;
  const std::regex entry(R"(^\s*(k\w+) = (\d+),\s*//\s*(.*)$)");
  const std::regex continuation(R"(^\s*//\s*(.*)$)");
  std::string current;
  for (absl::string_view line : absl::StrSplit(header.substr(begin, end - begin), '\n')) {
    std::smatch match;
    const std::string text(line);
    if (std::regex_match(text, match, entry)) {
      current = match[1];
      enumerators[current] = {std::stoi(match[2]), match[3]};
    } else if (!current.empty() && std::regex_match(text, match, continuation)) {
      absl::StrAppend(&enumerators[current].comment, " ", std::string(match[1]));
    } else {
      current.clear();
    }
  }
  return enumerators;
}

// The lines of docs/configuration.md that are table rows starting with `start`.
std::vector<std::string> DocRows(const std::string& docs, absl::string_view start) {
  std::vector<std::string> rows;
  for (absl::string_view line : absl::StrSplit(docs, '\n')) {
    if (absl::StartsWith(line, start)) rows.emplace_back(line);
  }
  return rows;
}

TEST(ParameterTableTest, SelectorsAndSettingsKeysAreUniqueAndIndexed) {
  std::set<int> selectors;
  std::set<std::string> keys;
  int position = 0;
  for (const ParameterSpec& spec : ParameterTable()) {
    EXPECT_TRUE(selectors.insert(static_cast<int>(spec.selector)).second) << spec.name;
    EXPECT_TRUE(keys.insert(spec.settings_key).second) << spec.settings_key;
    EXPECT_EQ(ParameterIndex(spec.selector), position++) << spec.name;
    EXPECT_EQ(FindParameter(spec.selector), &spec);
    EXPECT_EQ(FindParameterBySettingsKey(spec.settings_key), &spec);
  }
  EXPECT_EQ(ParameterIndex(static_cast<Parameter>(77)), -1);
  EXPECT_EQ(ParameterIndex(static_cast<Parameter>(-1)), -1);
  EXPECT_EQ(ParameterIndex(static_cast<Parameter>(1 << 20)), -1);
  EXPECT_EQ(FindParameterBySettingsKey("bind"), nullptr);  // a ServerOptions field
}

TEST(ParameterTableTest, EveryDefaultPassesItsOwnCheck) {
  const ParameterLookup defaults = [](Parameter other) {
    return DefaultValue(*FindParameter(other));
  };
  for (const ParameterSpec& spec : ParameterTable()) {
    EXPECT_TRUE(CheckParameterAgainstTable(spec.selector, DefaultValue(spec), defaults).ok())
        << spec.name;
    EXPECT_EQ(DefaultValue(spec).is_int(), !spec.takes_string()) << spec.name;
    if (spec.check == ParameterCheck::kRange) {
      EXPECT_LT(spec.min, spec.max) << spec.name;
    }
  }
}

TEST(ParameterTableTest, HeaderEnumIsTheTableWithTheSameDefaults) {
  const std::map<std::string, Enumerator> enumerators = HeaderEnumerators();
  EXPECT_EQ(enumerators.size(), ParameterTable().size());
  for (const ParameterSpec& spec : ParameterTable()) {
    auto it = enumerators.find(spec.name);
    ASSERT_NE(it, enumerators.end()) << spec.name << " is not in appwire/common/parameters.h's enum";
    EXPECT_EQ(it->second.number, static_cast<int>(spec.selector)) << spec.name;
    EXPECT_TRUE(ContainsNumberOrString(it->second.comment,
                                       absl::StrCat("default ", DefaultText(spec))))
        << spec.name << ": the comment in appwire/common/parameters.h (\"" << it->second.comment
        << "\") must say \"default " << DefaultText(spec) << "\"";
  }
}

TEST(ParameterTableTest, ConfigurationDocsListEverySelectorWithItsDefault) {
  const std::string docs = ReadSource("docs/configuration.md");
  for (const ParameterSpec& spec : ParameterTable()) {
    const std::string start =
        absl::StrCat("| ", static_cast<int>(spec.selector), " | `", spec.name, "` |");
    const std::vector<std::string> rows = DocRows(docs, start);
    ASSERT_EQ(rows.size(), 1u) << "docs/configuration.md section 2.3 needs one row \"" << start
                               << " ...\"";
    // | selector | name | type | default | ...
    const std::vector<std::string> cells = absl::StrSplit(rows[0], " | ");
    ASSERT_GT(cells.size(), 4u) << rows[0];
    const std::string& default_cell = cells[3];
    const std::string value = DefaultText(spec);
    EXPECT_TRUE(absl::StrContains(default_cell, absl::StrCat("`", value, "`")) ||
                absl::StrContains(default_cell, absl::StrCat("(", value, ")")))
        << spec.name << ": the default column (\"" << default_cell << "\") must show " << value;
  }
}

TEST(ParameterTableTest, ConfigurationDocsListEverySettingsKeyWithItsSelector) {
  const std::string docs = ReadSource("docs/configuration.md");
  for (const ParameterSpec& spec : ParameterTable()) {
    const std::string flag = absl::StrReplaceAll(spec.settings_key, {{"_", "-"}});
    const std::string start = absl::StrCat("| `", spec.settings_key, "` | `--", flag, "` |");
    const std::vector<std::string> rows = DocRows(docs, start);
    ASSERT_EQ(rows.size(), 1u) << "docs/configuration.md section 3.1 needs one row \"" << start
                               << " ...\"";
    EXPECT_TRUE(ContainsNumberOrString(rows[0], absl::StrCat(" ", static_cast<int>(spec.selector))))
        << rows[0] << " does not name selector " << static_cast<int>(spec.selector);
  }
}

TEST(ParameterTableTest, ConfigurationDocsQuoteEveryRangeAsTheCheckSaysIt) {
  const std::string docs = ReadSource("docs/configuration.md");
  for (const ParameterSpec& spec : ParameterTable()) {
    if (spec.check != ParameterCheck::kRange) continue;
    const std::string allowed = absl::StrCat("use ", spec.min, " to ", spec.max, " ", spec.unit);
    absl::Status refused = CheckParameterAgainstTable(
        spec.selector, spec.max + 1, [](Parameter other) { return DefaultValue(*FindParameter(other)); });
    EXPECT_TRUE(absl::EndsWith(refused.message(), allowed)) << refused;
    EXPECT_TRUE(absl::StrContains(docs, absl::StrCat(allowed, "`")))
        << "docs/configuration.md section 2.4 should quote \"" << allowed << "\" for "
        << spec.name;
  }
}

}  // namespace
}  // namespace appwire
