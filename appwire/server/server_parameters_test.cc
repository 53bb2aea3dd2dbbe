#include "appwire/server/server_parameters.h"

#include <memory>

#include "gtest/gtest.h"

namespace appwire {
namespace {

class ServerParametersTest : public ::testing::Test {
 protected:
  void TearDown() override { ResetDatabaseParameters(); }
};

TEST_F(ServerParametersTest, AHeldSnapshotIsKeptWhileNothingChanges) {
  ServerParameters parameters{ParameterOverrides()};
  HeldParameters held;
  const ParameterSnapshot& first = parameters.Refresh(&held);
  const ParameterSnapshot* taken = held.snapshot.get();
  EXPECT_EQ(&first, taken);
  EXPECT_EQ(&parameters.Refresh(&held), taken);
  // Every holder shares the one snapshot.
  HeldParameters other;
  EXPECT_EQ(&parameters.Refresh(&other), taken);
  EXPECT_EQ(parameters.Snapshot().get(), taken);
}

TEST_F(ServerParametersTest, SetParameterReplacesTheHeldSnapshot) {
  ParameterOverrides overrides;
  ASSERT_TRUE(overrides.Set(Parameter::kMaxMetadataSize, 4096).ok());
  ServerParameters parameters(overrides);
  HeldParameters held;
  EXPECT_EQ(parameters.Refresh(&held).Int(Parameter::kMaxMetadataSize), 4096);
  std::shared_ptr<const ParameterSnapshot> before = held.snapshot;
  ASSERT_TRUE(parameters.Set(Parameter::kMaxMetadataSize, 100).ok());
  EXPECT_EQ(parameters.Refresh(&held).Int(Parameter::kMaxMetadataSize), 100);
  EXPECT_NE(held.snapshot, before);
  EXPECT_EQ(before->Int(Parameter::kMaxMetadataSize), 4096);  // snapshots never change
  EXPECT_EQ(parameters.Get(Parameter::kMaxMetadataSize).AsInt(), 100);
}

TEST_F(ServerParametersTest, ARefusedValueChangesNothing) {
  ServerParameters parameters{ParameterOverrides()};
  HeldParameters held;
  parameters.Refresh(&held);
  std::shared_ptr<const ParameterSnapshot> before = held.snapshot;
  const uint64_t generation = parameters.generation();
  EXPECT_EQ(parameters.Set(Parameter::kMaxConcurrentStreams, 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parameters.generation(), generation);
  parameters.Refresh(&held);
  EXPECT_EQ(held.snapshot, before);
}

TEST_F(ServerParametersTest, AProcessWideChangeIsSeenUnlessThisServerOverridesIt) {
  ParameterOverrides overrides;
  ASSERT_TRUE(overrides.Set(Parameter::kMaxConcurrentCalls, 7).ok());
  ServerParameters parameters(overrides);
  HeldParameters held;
  parameters.Refresh(&held);
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kIdleConnectionsTimeout, 42).ok());
  ASSERT_TRUE(SetDatabaseParameter(Parameter::kMaxConcurrentCalls, 9).ok());
  const ParameterSnapshot& now = parameters.Refresh(&held);
  EXPECT_EQ(now.Int(Parameter::kIdleConnectionsTimeout), 42);
  EXPECT_EQ(now.Int(Parameter::kMaxConcurrentCalls), 7);
}

}  // namespace
}  // namespace appwire
