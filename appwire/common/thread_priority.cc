#include "appwire/common/thread_priority.h"

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#elif defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__APPLE__)
#include <sys/resource.h>
#endif

#include <cerrno>
#include <cstring>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace appwire {

absl::Status LowerThisThreadsPriority() {
#if defined(_WIN32)
  if (!::SetThreadPriority(::GetCurrentThread(), THREAD_PRIORITY_LOWEST)) {
    return absl::InternalError(absl::StrCat(
        "the thread keeps normal priority: SetThreadPriority: ",
        std::error_code(static_cast<int>(::GetLastError()), std::system_category()).message()));
  }
#elif defined(__linux__)
  // PRIO_PROCESS with a thread id: Linux applies it to that thread only.
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 19) != 0) {
    return absl::InternalError(absl::StrCat("the thread keeps normal priority: setpriority: ",
                                            std::strerror(errno)));
  }
#elif defined(__APPLE__)
  if (::setpriority(PRIO_DARWIN_THREAD, 0, PRIO_DARWIN_BG) != 0) {
    return absl::InternalError(absl::StrCat("the thread keeps normal priority: setpriority: ",
                                            std::strerror(errno)));
  }
#endif
  return absl::OkStatus();
}

}  // namespace appwire
