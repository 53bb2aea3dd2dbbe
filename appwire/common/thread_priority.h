// Lowering the calling thread's CPU priority, for background work that
// must not slow down serving calls (DH parameter generation takes a core
// for seconds to minutes).
//
//   absl::Status lowered = LowerThisThreadsPriority();
//   if (!lowered.ok()) LogWarning(lowered.message());  // keeps running anyway
//
// Best effort: the work runs either way. Thread-safe; affects only the
// calling thread.
#ifndef APPWIRE_COMMON_THREAD_PRIORITY_H_
#define APPWIRE_COMMON_THREAD_PRIORITY_H_

#include "absl/status/status.h"

namespace appwire {

// Linux: nice 19 for this thread alone (setpriority on its thread id; on
// Linux each thread has its own nice value). macOS: the background band
// (setpriority(PRIO_DARWIN_THREAD, 0, PRIO_DARWIN_BG), which lowers its I/O
// priority too). Windows: THREAD_PRIORITY_LOWEST. Elsewhere nothing is done
// and OK is returned. An error says the priority stays normal, and why.
absl::Status LowerThisThreadsPriority();

}  // namespace appwire

#endif  // APPWIRE_COMMON_THREAD_PRIORITY_H_
