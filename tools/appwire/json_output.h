// What `--json` prints: one JSON document on one line, made with
// nlohmann::json (Debian's nlohmann-json3-dev) instead of by hand, keys in
// the order the subcommand adds them. Only check.cc, probe.cc and acme.cc include
// it, so the rest of the command builds without the library's header.
#ifndef APPWIRE_TOOLS_APPWIRE_JSON_OUTPUT_H_
#define APPWIRE_TOOLS_APPWIRE_JSON_OUTPUT_H_

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace appwire::cli {

using Json = nlohmann::ordered_json;

// Prints `document` and a newline on stdout. Text that is not UTF-8 (a
// certificate's subject can hold anything) is written with U+FFFD in place
// of the bad bytes rather than failing the command.
inline void PrintJson(const Json& document) {
  const std::string text = document.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::printf("%s\n", text.c_str());
}

}  // namespace appwire::cli

#endif  // APPWIRE_TOOLS_APPWIRE_JSON_OUTPUT_H_
