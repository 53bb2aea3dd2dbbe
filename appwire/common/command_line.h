// A strict command-line parser for appwire's programs (the `appwire`
// command's subcommands, appwire-server, the bench and the examples): each
// program declares the flags it takes, and anything else on the line is an
// error instead of being ignored.
//
//   --name VALUE and --name=VALUE   a flag with a value
//   --name                          a switch (no value; --name=x is refused)
//   -x VALUE                        a flag's one-letter spelling, when it has one
//   --                              ends the flags: what follows is positional
//   -h, --help                      recorded in CommandLine::help, always allowed
//
// A value flag refuses a next word that starts with "--" ("keygen --out
// --force" would otherwise write a file named --force); --out=--odd-name
// still says it on purpose. Not part of the installed API.
#ifndef APPWIRE_COMMON_COMMAND_LINE_H_
#define APPWIRE_COMMON_COMMAND_LINE_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace appwire {

// One flag a program takes.
struct FlagSpec {
  enum class Kind {
    kValue,     // --name VALUE, at most once
    kRepeated,  // --name VALUE, any number of times (every value kept, in order)
    kSwitch,    // --name, no value
  };
  std::string name;  // without the leading "--"
  Kind kind = Kind::kValue;
  // A one-letter spelling, "-d VALUE" for --data (not -h: that is help).
  char short_name = 0;
};

// What a command line said.
struct CommandLine {
  std::vector<std::string> positional;
  // (name, value) in the order given: settings that are checked against
  // each other (min_tls, max_tls) are applied in the order the user wrote.
  std::vector<std::pair<std::string, std::string>> flags;
  bool help = false;  // -h or --help was given

  // The value of --name, or `fallback` when it was not given.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // Every value of --name, in order.
  std::vector<std::string> All(const std::string& name) const;
  // Whether --name was given.
  bool Has(const std::string& name) const;
};

// Parses argv[first..argc) against `flags`, allowing at most `max_positional`
// positional words. InvalidArgument, in words meant for the user, for: a
// flag not in `flags` ("unknown flag --bogus"), a value flag with no value,
// a switch given a value, a non-repeated flag given twice, a word after the
// last positional one allowed ("unexpected argument \"x\""). Help given
// with an error is still an error: the caller prints help when the line
// parsed, and the error otherwise.
absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv, int first,
                                             absl::Span<const FlagSpec> flags,
                                             size_t max_positional);

}  // namespace appwire

#endif  // APPWIRE_COMMON_COMMAND_LINE_H_
