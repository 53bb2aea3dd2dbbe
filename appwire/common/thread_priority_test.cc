#include "appwire/common/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "gtest/gtest.h"

namespace appwire {
namespace {

int NiceOf(long thread_id) {
  errno = 0;
  return ::getpriority(PRIO_PROCESS, static_cast<id_t>(thread_id));
}

// Linux: the calling thread gets nice 19; the others (here, the test's
// main thread) keep theirs.
TEST(ThreadPriorityTest, LowersOnlyTheCallingThread) {
  const long main_thread = ::syscall(SYS_gettid);
  const int main_before = NiceOf(main_thread);
  int lowered_nice = 0;
  absl::Status status;
  std::thread worker([&] {
    status = LowerThisThreadsPriority();
    lowered_nice = NiceOf(::syscall(SYS_gettid));
  });
  worker.join();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(lowered_nice, 19);
  EXPECT_EQ(NiceOf(main_thread), main_before);
}

}  // namespace
}  // namespace appwire
