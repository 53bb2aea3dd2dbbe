#include "appwire/server/worker_pool.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

using ::testing::HasSubstr;

TEST(WorkerPoolTest, RunsEveryQueuedTaskBeforeShutdownReturns) {
  auto pool = WorkerPool::Create(2);
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) (*pool)->Post([&ran] { ran.fetch_add(1); });
  EXPECT_EQ((*pool)->Shutdown(absl::Seconds(10)), 0);
  EXPECT_EQ(ran.load(), 100);
}

TEST(WorkerPoolTest, ShutdownAbandonsATaskThatDoesNotReturnWithinTheGrace) {
  auto pool = WorkerPool::Create(2);
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  std::atomic<bool> started{false};
  (*pool)->Post([released, &started] {
    started = true;
    released.wait();
  });
  for (int i = 0; i < 1000 && !started; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(started);
  EXPECT_EQ((*pool)->Shutdown(absl::Milliseconds(50)), 1);
  pool->reset();  // the pool object goes; its abandoned thread still runs
  release->set_value();
}

TEST(WorkerPoolTest, TasksPostedAfterShutdownAreDropped) {
  auto pool = WorkerPool::Create(1);
  ASSERT_TRUE(pool.ok());
  (*pool)->Shutdown(absl::Seconds(5));
  std::atomic<bool> ran{false};
  (*pool)->Post([&ran] { ran = true; });
  EXPECT_FALSE(ran.load());
}

TEST(StreamExecutorTest, RefusesASlotBeyondTheLimitAndReusesReleasedOnes) {
  StreamExecutor executor;
  int running = -1;
  std::vector<StreamExecutor::Slot> slots;
  for (int i = 0; i < 3; ++i) {
    slots.push_back(executor.TryReserve(3, &running));
    EXPECT_TRUE(slots.back());
    EXPECT_EQ(running, i);
  }
  EXPECT_FALSE(executor.TryReserve(3, &running));
  EXPECT_EQ(running, 3);
  slots.pop_back();  // released unused
  EXPECT_TRUE(executor.TryReserve(3, &running));
}

TEST(StreamExecutorTest, ASlotIsHeldUntilItsTaskReturns) {
  StreamExecutor executor;
  int running = 0;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> done;
  ASSERT_TRUE(executor.Run(executor.TryReserve(1, &running), [released] { released.wait(); }).ok());
  EXPECT_EQ(executor.running(), 1);
  EXPECT_FALSE(executor.TryReserve(1, &running));
  release.set_value();
  for (int i = 0; i < 2000 && executor.running() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(executor.running(), 0);
  StreamExecutor::Slot again = executor.TryReserve(1, &running);
  EXPECT_TRUE(again);
  ASSERT_TRUE(executor.Run(std::move(again), [&done] { done.set_value(); }).ok());
  EXPECT_EQ(done.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(executor.Shutdown(absl::Seconds(10)), 0);
}

TEST(StreamExecutorTest, ManyStreamsRunAtOnceEachOnItsOwnThread) {
  StreamExecutor executor;
  constexpr int kStreams = 32;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> waiting{0};
  for (int i = 0; i < kStreams; ++i) {
    int running = 0;
    ASSERT_TRUE(executor
                    .Run(executor.TryReserve(kStreams, &running),
                         [released, &waiting] {
                           waiting.fetch_add(1);
                           released.wait();
                         })
                    .ok());
  }
  // All of them wait at once: none is queued behind another.
  for (int i = 0; i < 5000 && waiting.load() < kStreams; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(waiting.load(), kStreams);
  release.set_value();
  EXPECT_EQ(executor.Shutdown(absl::Seconds(10)), 0);
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// A thread that cannot be started is a status, never an abort: in a child
// whose address space is nearly used up, thread stacks cannot be mapped.
TEST(StreamExecutorTest, AThreadThatCannotStartIsAStatusNotAnAbort) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    StreamExecutor executor;
    std::promise<void> never;
    std::shared_future<void> blocked = never.get_future().share();
    struct rlimit limit;
    getrlimit(RLIMIT_AS, &limit);
    // Room for what is mapped now plus a few stacks, no more.
    FILE* statm = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (statm == nullptr || fscanf(statm, "%lu", &pages) != 1) _exit(3);
    fclose(statm);
    limit.rlim_cur = pages * static_cast<unsigned long>(sysconf(_SC_PAGESIZE)) + (64ul << 20);
    if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(4);
    bool refused = false;
    for (int i = 0; i < 10000 && !refused; ++i) {
      int running = 0;
      absl::Status status =
          executor.Run(executor.TryReserve(100000, &running), [blocked] { blocked.wait(); });
      if (!status.ok()) {
        refused = status.code() == absl::StatusCode::kResourceExhausted &&
                  std::string(status.message()).find("could not start a thread") !=
                      std::string::npos;
        if (!refused) _exit(5);
      }
    }
    _exit(refused ? 0 : 6);  // abandoned threads die with the process
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}
#endif

}  // namespace
}  // namespace appwire
