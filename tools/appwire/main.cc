// appwire: certificate and key tooling for appwire servers and clients,
// built on wolfSSL (no OpenSSL at run time). `appwire help` lists the
// subcommands; `appwire help SUB` explains one.
//
// This file only dispatches and prints help: each subcommand lives in its
// own file beside it (command.h lists them).
#include <cstdio>
#include <string>

#include "appwire/common/version.h"
#include "tools/appwire/command.h"

namespace appwire::cli {
namespace {

// In the order `appwire help` lists them.
const Subcommand* const kSubcommands[] = {&kKeygen,  &kCsr,     &kSelfsign, &kCa,    &kDhparams,
                                          &kConvert, &kInspect, &kProbe,    &kCheck,  &kHealth,
                                          &kStats,   &kCall,    &kList,     &kDescribe, &kAcme};

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
    PrintHelp(*s);
    return kExitOk;
  }
  std::printf("usage: appwire SUBCOMMAND [FLAGS]\n\nsubcommands:\n");
  for (const Subcommand* s : kSubcommands) std::printf("  %s\n", s->usage);
  std::printf(
      "\n`appwire help SUBCOMMAND` or `appwire SUBCOMMAND --help` explains one;\n"
      "`appwire --version` prints the version.\n"
      "Exit status: 0 done (for check: usable), 1 failed (or not usable), 2 wrong command "
      "line.\n");
  return sub.empty() ? kExitOk : kExitUsage;
}

int Main(int argc, char** argv) {
  if (argc < 2) return Help("");
  const std::string sub = argv[1];
  if (sub == "help" || sub == "--help" || sub == "-h") {
    if (argc > 3) {
      std::fprintf(stderr, "appwire help: unexpected argument \"%s\"\n", argv[3]);
      return kExitUsage;
    }
    if (argc == 3 && Find(argv[2]) == nullptr) {
      std::fprintf(stderr, "appwire: unknown subcommand \"%s\"\n", argv[2]);
    }
    return Help(argc > 2 ? argv[2] : "");
  }
  if (sub == "--version" || sub == "version") {
    if (argc > 2) {
      std::fprintf(stderr, "appwire: unexpected argument \"%s\"\n", argv[2]);
      return kExitUsage;
    }
    std::printf("appwire %s\n", ::appwire::kSoftwareVersion);
    return kExitOk;
  }
  if (const Subcommand* s = Find(sub); s != nullptr) return ParseAndRun(*s, argc, argv, 2);
  std::fprintf(stderr, "appwire: unknown subcommand \"%s\"\n", sub.c_str());
  Help("unknown");
  return kExitUsage;
}

}  // namespace
}  // namespace appwire::cli

int main(int argc, char** argv) { return appwire::cli::Main(argc, argv); }
