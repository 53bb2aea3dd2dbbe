#include "appwire/client/connectivity_state.h"

#include <vector>

#include "gtest/gtest.h"

namespace appwire {
namespace {

using E = ConnectivityEvent;
using S = ChannelState;
using Outcome = ConnectivityStateMachine::Outcome;

// Every cell of the table in connectivity_state.h; nullopt is "-".
struct Cell {
  S from;
  E event;
  std::optional<S> to;
};

const std::vector<Cell>& Table() {
  static const std::vector<Cell> table = {
      {S::kIdle, E::kAttemptStarted, S::kConnecting},
      {S::kIdle, E::kConnected, std::nullopt},
      {S::kIdle, E::kAttemptFailed, S::kTransientFailure},
      {S::kIdle, E::kServerLeft, std::nullopt},
      {S::kIdle, E::kShutdown, S::kShutdown},
      {S::kConnecting, E::kAttemptStarted, std::nullopt},
      {S::kConnecting, E::kConnected, S::kReady},
      {S::kConnecting, E::kAttemptFailed, S::kTransientFailure},
      {S::kConnecting, E::kServerLeft, std::nullopt},
      {S::kConnecting, E::kShutdown, S::kShutdown},
      {S::kReady, E::kAttemptStarted, S::kConnecting},
      {S::kReady, E::kConnected, std::nullopt},
      {S::kReady, E::kAttemptFailed, S::kTransientFailure},
      {S::kReady, E::kServerLeft, S::kIdle},
      {S::kReady, E::kShutdown, S::kShutdown},
      {S::kTransientFailure, E::kAttemptStarted, S::kConnecting},
      {S::kTransientFailure, E::kConnected, std::nullopt},
      {S::kTransientFailure, E::kAttemptFailed, S::kTransientFailure},
      {S::kTransientFailure, E::kServerLeft, std::nullopt},
      {S::kTransientFailure, E::kShutdown, S::kShutdown},
      {S::kShutdown, E::kAttemptStarted, S::kShutdown},
      {S::kShutdown, E::kConnected, S::kShutdown},
      {S::kShutdown, E::kAttemptFailed, S::kShutdown},
      {S::kShutdown, E::kServerLeft, S::kShutdown},
      {S::kShutdown, E::kShutdown, S::kShutdown},
  };
  return table;
}

TEST(ConnectivityStateTest, TableMatchesTheHeader) {
  for (const Cell& cell : Table()) {
    EXPECT_EQ(ConnectivityStateMachine::Next(cell.from, cell.event), cell.to)
        << ChannelStateName(cell.from) << " + " << ConnectivityEventName(cell.event);
  }
}

TEST(ConnectivityStateTest, StartsIdle) {
  ConnectivityStateMachine machine;
  EXPECT_EQ(machine.state(), S::kIdle);
}

TEST(ConnectivityStateTest, ConnectFailRetryAndLeave) {
  // What rpc_test's StateChangesAreReported sees, event by event.
  ConnectivityStateMachine machine;
  EXPECT_EQ(machine.Apply(E::kAttemptStarted), Outcome::kChanged);
  EXPECT_EQ(machine.state(), S::kConnecting);
  EXPECT_EQ(machine.Apply(E::kConnected), Outcome::kChanged);
  EXPECT_EQ(machine.state(), S::kReady);
  EXPECT_EQ(machine.Apply(E::kServerLeft), Outcome::kChanged);
  EXPECT_EQ(machine.state(), S::kIdle);
  EXPECT_EQ(machine.Apply(E::kAttemptStarted), Outcome::kChanged);
  EXPECT_EQ(machine.Apply(E::kAttemptFailed), Outcome::kChanged);
  EXPECT_EQ(machine.state(), S::kTransientFailure);
  EXPECT_EQ(machine.Apply(E::kAttemptStarted), Outcome::kChanged);
  EXPECT_EQ(machine.state(), S::kConnecting);
}

TEST(ConnectivityStateTest, RepeatedFailureIsUnchanged) {
  ConnectivityStateMachine machine;
  machine.Apply(E::kAttemptStarted);
  machine.Apply(E::kAttemptFailed);
  EXPECT_EQ(machine.Apply(E::kAttemptFailed), Outcome::kUnchanged);
  EXPECT_EQ(machine.state(), S::kTransientFailure);
}

TEST(ConnectivityStateTest, ShutdownIsFinalAndLaterEventsChangeNothing) {
  ConnectivityStateMachine machine;
  machine.Apply(E::kAttemptStarted);
  EXPECT_EQ(machine.Apply(E::kShutdown), Outcome::kChanged);
  EXPECT_EQ(machine.Apply(E::kShutdown), Outcome::kUnchanged);
  EXPECT_EQ(machine.Apply(E::kConnected), Outcome::kUnchanged);
  EXPECT_EQ(machine.Apply(E::kAttemptStarted), Outcome::kUnchanged);
  EXPECT_EQ(machine.state(), S::kShutdown);
}

TEST(ConnectivityStateTest, DisallowedTransitionIsRefusedNotTaken) {
  ConnectivityStateMachine machine;
  // Idle never becomes ready without an attempt (SetStateLocked took any).
  EXPECT_DEBUG_DEATH(
      {
        EXPECT_EQ(machine.Apply(E::kConnected), Outcome::kRefused);
        EXPECT_EQ(machine.state(), S::kIdle);
      },
      "table does not allow");
}

TEST(ConnectivityStateTest, NamesAreTheWordsMessagesUse) {
  EXPECT_EQ(ChannelStateName(S::kIdle), "idle");
  EXPECT_EQ(ChannelStateName(S::kConnecting), "connecting");
  EXPECT_EQ(ChannelStateName(S::kReady), "ready");
  EXPECT_EQ(ChannelStateName(S::kTransientFailure), "transient failure");
  EXPECT_EQ(ChannelStateName(S::kShutdown), "shut down");
}

}  // namespace
}  // namespace appwire
