#include "tests/include_scanner.h"

#include <fstream>
#include <regex>

namespace appwire::testing {

std::vector<IncludeLine> IncludeLinesOf(const std::filesystem::path& file) {
  std::vector<IncludeLine> includes;
  std::ifstream in(file);
  static const std::regex pattern(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
  std::string text;
  int number = 0;
  while (std::getline(in, text)) {
    ++number;
    std::smatch match;
    if (std::regex_search(text, match, pattern)) {
      includes.push_back({number, match[2].str(), match[1].str() == "<"});
    }
  }
  return includes;
}

}  // namespace appwire::testing
