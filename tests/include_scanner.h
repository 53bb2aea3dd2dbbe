// The #include lines of a source file, read as text (no preprocessor):
// what tests/layering_test.cc checks of the tree and
// tests/generated_includes_test.cc of the generated stubs.
#ifndef APPWIRE_TESTS_INCLUDE_SCANNER_H_
#define APPWIRE_TESTS_INCLUDE_SCANNER_H_

#include <filesystem>
#include <string>
#include <vector>

namespace appwire::testing {

struct IncludeLine {
  int line;          // 1-based
  std::string path;  // what is between the quotes or brackets
  bool angled;       // <...> rather than "..."
};

// Every `#include` of `file`, in order; none when it cannot be read.
std::vector<IncludeLine> IncludeLinesOf(const std::filesystem::path& file);

}  // namespace appwire::testing

#endif  // APPWIRE_TESTS_INCLUDE_SCANNER_H_
