#include "appwire/server/service_manager.h"

#include <time.h>

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

#ifdef APPWIRE_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace appwire {
namespace {

void Notify(const std::string& state) {
#ifdef APPWIRE_HAVE_SYSTEMD
  // unset_environment 0: a process this server starts is not a service.
  sd_notify(0, state.c_str());  // < 0 or 0 (no manager): nothing to do
#else
  (void)state;
#endif
}

// One line: a newline in the text would start another assignment.
std::string OneLine(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\n", " "}});
}

}  // namespace

bool ServiceManagerNotificationsBuiltIn() {
#ifdef APPWIRE_HAVE_SYSTEMD
  return true;
#else
  return false;
#endif
}

void NotifyReady(absl::string_view status) {
  Notify(absl::StrCat("READY=1\nSTATUS=", OneLine(status)));
}

void NotifyReloading() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t micros =
      static_cast<uint64_t>(now.tv_sec) * 1000000u + static_cast<uint64_t>(now.tv_nsec) / 1000u;
  Notify(absl::StrCat("RELOADING=1\nMONOTONIC_USEC=", micros));
}

void NotifyStopping(absl::string_view status) {
  Notify(absl::StrCat("STOPPING=1\nSTATUS=", OneLine(status)));
}

}  // namespace appwire
