#include "appwire/rpc/call_ids.h"

#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(ClientCallIdsTest, IdsAreOddFromOneAndNeverRepeatAcrossThreads) {
  ClientCallIds ids;
  EXPECT_EQ(ids.Next(), 1u);
  EXPECT_EQ(ids.Next(), 3u);
  std::vector<std::vector<uint64_t>> taken(4);
  std::vector<std::thread> threads;
  for (auto& mine : taken) {
    threads.emplace_back([&ids, &mine] {
      for (int i = 0; i < 1000; ++i) mine.push_back(ids.Next());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<uint64_t> all;
  for (const auto& mine : taken) {
    for (uint64_t id : mine) {
      EXPECT_EQ(id % 2, 1u);
      all.insert(id);
    }
  }
  EXPECT_EQ(all.size(), 4000u);
}

TEST(CheckRequestCallIdTest, OnlyNonZeroOddIdsAreRequests) {
  EXPECT_TRUE(CheckRequestCallId(1).ok());
  EXPECT_TRUE(CheckRequestCallId(UINT64_MAX).ok());
  for (uint64_t id : {uint64_t{0}, uint64_t{2}, UINT64_MAX - 1}) {
    absl::Status status = CheckRequestCallId(id);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), "protocol error: request with call id " + std::to_string(id) +
                                    "; clients use odd call ids (docs/protocol.md)");
  }
}

TEST(CallIdReusedErrorTest, SaysWhetherTheCallIsStillRunning) {
  EXPECT_EQ(CallIdReusedError(5, CallIdWindow::Verdict::kUsed, true, 9).message(),
            "protocol error: request with call id 5, which is already in use on this "
            "connection (docs/protocol.md)");
  EXPECT_EQ(CallIdReusedError(5, CallIdWindow::Verdict::kUsed, false, 9).message(),
            "protocol error: request with call id 5, which was already used on this "
            "connection (or is more than 4096 below the highest call id received, 9) "
            "(docs/protocol.md)");
  EXPECT_EQ(CallIdReusedError(1, CallIdWindow::Verdict::kTooOld, false, 9001).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace appwire
