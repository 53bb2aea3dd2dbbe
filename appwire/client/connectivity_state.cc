#include "appwire/client/connectivity_state.h"

#include <cassert>

#include "absl/strings/str_cat.h"
#include "appwire/common/log.h"

namespace appwire {

absl::string_view ChannelStateName(ChannelState state) {
  switch (state) {
    case ChannelState::kIdle: return "idle";
    case ChannelState::kConnecting: return "connecting";
    case ChannelState::kReady: return "ready";
    case ChannelState::kTransientFailure: return "transient failure";
    case ChannelState::kShutdown: return "shut down";
  }
  return "unknown";
}

absl::string_view ConnectivityEventName(ConnectivityEvent event) {
  switch (event) {
    case ConnectivityEvent::kAttemptStarted: return "attempt started";
    case ConnectivityEvent::kConnected: return "connected";
    case ConnectivityEvent::kAttemptFailed: return "attempt failed";
    case ConnectivityEvent::kServerLeft: return "server left";
    case ConnectivityEvent::kShutdown: return "shutdown";
  }
  return "unknown";
}

std::optional<ChannelState> ConnectivityStateMachine::Next(ChannelState from,
                                                           ConnectivityEvent event) {
  using S = ChannelState;
  using E = ConnectivityEvent;
  if (event == E::kShutdown || from == S::kShutdown) return S::kShutdown;
  switch (from) {
    case S::kIdle:
      if (event == E::kAttemptStarted) return S::kConnecting;
      // A server that went away (leaving us idle) had refused us before its hello.
      if (event == E::kAttemptFailed) return S::kTransientFailure;
      return std::nullopt;
    case S::kConnecting:
      if (event == E::kConnected) return S::kReady;
      if (event == E::kAttemptFailed) return S::kTransientFailure;
      return std::nullopt;
    case S::kReady:
      if (event == E::kAttemptStarted) return S::kConnecting;
      if (event == E::kAttemptFailed) return S::kTransientFailure;
      if (event == E::kServerLeft) return S::kIdle;
      return std::nullopt;
    case S::kTransientFailure:
      if (event == E::kAttemptStarted) return S::kConnecting;
      // A second report of the same failure (a connection refused twice).
      if (event == E::kAttemptFailed) return S::kTransientFailure;
      return std::nullopt;
    case S::kShutdown:
      break;
  }
  return std::nullopt;
}

ConnectivityStateMachine::Outcome ConnectivityStateMachine::Apply(ConnectivityEvent event) {
  const std::optional<ChannelState> next = Next(state_, event);
  if (!next.has_value()) {
    LogError(absl::StrCat("channel state machine: refused the event \"",
                          ConnectivityEventName(event), "\" in state \"",
                          ChannelStateName(state_), "\""));
    assert(false && "a channel state transition the table does not allow");
    return Outcome::kRefused;
  }
  if (*next == state_) return Outcome::kUnchanged;
  state_ = *next;
  return Outcome::kChanged;
}

}  // namespace appwire
