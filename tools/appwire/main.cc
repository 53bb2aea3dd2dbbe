// appwire: certificate and key tooling for appwire servers and clients,
// built on wolfSSL (no OpenSSL at run time). `appwire help` lists the
// subcommands; `appwire help SUB` explains one.
//
// This file only dispatches and prints help: each subcommand lives in its
// own file beside it (command.h lists them).
#include <cstdio>
#include <string>

#include "tools/appwire/command.h"

namespace appwire::cli {
namespace {

// In the order `appwire help` lists them.
const Subcommand* const kSubcommands[] = {&kKeygen,   &kCsr,     &kSelfsign, &kCa,
                                          &kDhparams, &kConvert, &kProbe,    &kCheck};

const Subcommand* Find(const std::string& name) {
  for (const Subcommand* s : kSubcommands) {
    if (name == s->name) return s;
  }
  return nullptr;
}

// One subcommand's usage and help, or (for "" or an unknown name) the list;
// exit status 2 for an unknown name.
int Help(const std::string& sub) {
  if (const Subcommand* s = Find(sub); s != nullptr) {
    std::printf("usage: appwire %s\n\n%s\n", s->usage, s->help);
    return 0;
  }
  std::printf("usage: appwire SUBCOMMAND [FLAGS]\n\nsubcommands:\n");
  for (const Subcommand* s : kSubcommands) std::printf("  %s\n", s->usage);
  std::printf("\n`appwire help SUBCOMMAND` explains one.\n");
  return sub.empty() ? 0 : 2;
}

int Main(int argc, char** argv) {
  if (argc < 2) return Help("");
  const std::string sub = argv[1];
  if (sub == "help" || sub == "--help" || sub == "-h") return Help(argc > 2 ? argv[2] : "");
  if (const Subcommand* s = Find(sub); s != nullptr) return s->run(ParseArguments(argc, argv, 2));
  std::fprintf(stderr, "appwire: unknown subcommand \"%s\"\n", sub.c_str());
  Help("unknown");
  return 2;
}

}  // namespace
}  // namespace appwire::cli

int main(int argc, char** argv) { return appwire::cli::Main(argc, argv); }
