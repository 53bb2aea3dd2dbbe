// How the examples read their command line: strictly. Every word is a known
// "--name VALUE" (or "--name=VALUE") or one of the positional words asked
// for; anything else is an error with the usage, never silently ignored.
// An app would use its own flags library (absl::flags, CLI11, ...); this
// keeps the examples free of one. Header only.
#ifndef APPWIRE_EXAMPLES_EXAMPLE_ARGS_H_
#define APPWIRE_EXAMPLES_EXAMPLE_ARGS_H_

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace examples {

// Fills `flags` ("--target" -> where its value goes) and `positional` (at
// most that many words, the first `required` of them needed) from argv.
// On an error prints "PROGRAM: PROBLEM" and "usage: USAGE" and returns false.
inline bool ParseArgs(int argc, char** argv, const char* usage,
                      const std::map<std::string, std::string*>& flags,
                      const std::vector<std::string*>& positional = {}, size_t required = 0) {
  const char* program = argc > 0 ? argv[0] : "example";
  auto fail = [&](const std::string& problem) {
    std::fprintf(stderr, "%s: %s\nusage: %s\n", program, problem.c_str(), usage);
    return false;
  };
  size_t next_positional = 0;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.rfind("--", 0) != 0) {
      if (next_positional == positional.size()) return fail("unexpected argument \"" + word + "\"");
      *positional[next_positional++] = word;
      continue;
    }
    std::string value;
    const size_t equals = word.find('=');
    if (equals != std::string::npos) {
      value = word.substr(equals + 1);
      word = word.substr(0, equals);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return fail(word + " needs a value");
    }
    auto flag = flags.find(word);
    if (flag == flags.end()) return fail("unknown flag " + word);
    *flag->second = value;
  }
  if (next_positional < required) return fail("missing arguments");
  return true;
}

// A whole number in [min, max] from `text`, or false.
inline bool ParseNumber(const std::string& text, long min, long max, long* number) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) return false;
  *number = value;
  return true;
}

// The servers' command line, PROJECT_DIR [PORT] (PORT 0 to 65535, default
// `default_port`); false after printing the problem.
inline bool ParseServerArgs(int argc, char** argv, const char* usage, int default_port,
                            std::string* project_dir, int* port) {
  std::string port_text = std::to_string(default_port);
  if (!ParseArgs(argc, argv, usage, {}, {project_dir, &port_text}, /*required=*/1)) return false;
  long number = 0;
  if (!ParseNumber(port_text, 0, 65535, &number)) {
    std::fprintf(stderr, "%s: port \"%s\" is not a number from 0 to 65535\n",
                 argc > 0 ? argv[0] : "server", port_text.c_str());
    return false;
  }
  *port = static_cast<int>(number);
  return true;
}

}  // namespace examples

#endif  // APPWIRE_EXAMPLES_EXAMPLE_ARGS_H_
