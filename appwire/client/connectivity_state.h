// A channel's connectivity: the states an app sees (ChannelState) and the
// transition table that moves between them (gRPC's connectivity_state is
// the model). Public, as channel.h reports ChannelState; the machine itself
// is for the channel's implementation.
//
// The table (ConnectivityStateMachine::Next); "-" is refused:
//
//   state \ event      AttemptStarted  Connected  AttemptFailed      ServerLeft  Shutdown
//   kIdle              kConnecting     -          kTransientFailure  -           kShutdown
//   kConnecting        -               kReady     kTransientFailure  -           kShutdown
//   kReady             kConnecting     -          kTransientFailure  kIdle       kShutdown
//   kTransientFailure  kConnecting     -          (stays)            -           kShutdown
//   kShutdown          (stays)         (stays)    (stays)            (stays)     (stays)
//
//  - kIdle: no connection and none being made; the next call (or
//    WaitForReady) starts an attempt. A channel comes here when the server
//    closed an idle connection or drained it and no call was waiting.
//  - kConnecting: one attempt (resolve, TCP connect, TLS handshake) is
//    under way. Never two at once.
//  - kReady: the handshake completed and our hello went out: calls are sent
//    at once. The server's hello may still be on its way; a server that
//    closes or refuses us before it makes the attempt a failure
//    (kReady --kAttemptFailed--> kTransientFailure). A connection lost after
//    a working session starts the next attempt at once
//    (kReady --kAttemptStarted--> kConnecting).
//  - kTransientFailure: the last attempt failed; the next starts when the
//    backoff (appwire/client/backoff.h) has passed. Fail-fast calls fail at once.
//    Also reached from kIdle when a server that went away had refused us
//    before its hello.
//  - kShutdown: Close() was called (or the channel destroyed); final.
//
// An event the table does not allow in the current state is a bug in the
// channel: it is refused (the state stays), logged, and asserts in debug
// builds. Events after kShutdown are expected (the I/O thread may still be
// finishing an attempt when Close() runs on another thread) and change
// nothing.
#ifndef APPWIRE_CLIENT_CONNECTIVITY_STATE_H_
#define APPWIRE_CLIENT_CONNECTIVITY_STATE_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "appwire/common/export.h"

namespace appwire {

// Where a channel's connection stands.
enum class ChannelState {
  kIdle,              // no connection; the next call opens one
  kConnecting,        // a connection attempt is under way
  kReady,             // connected: calls go out at once
  kTransientFailure,  // the last attempt failed; another follows after a backoff
  kShutdown,          // Close() was called; calls fail
};
// "idle", "connecting", "ready", "transient failure", "shut down".
APPWIRE_EXPORT absl::string_view ChannelStateName(ChannelState state);

// What happens to a channel's connection.
enum class ConnectivityEvent {
  kAttemptStarted,  // a connection attempt begins
  kConnected,       // the attempt's handshake completed, our hello went out
  kAttemptFailed,   // the attempt failed, or the server refused us before its hello
  kServerLeft,      // the server closed or drained the connection, no call waits
  kShutdown,        // Close()
};
APPWIRE_EXPORT absl::string_view ConnectivityEventName(ConnectivityEvent event);

// The state machine: the current state and the table. Not thread-safe: the
// channel changes it under its mutex. Starts in kIdle.
class APPWIRE_EXPORT ConnectivityStateMachine {
 public:
  enum class Outcome {
    kChanged,    // the state changed: report it
    kUnchanged,  // allowed, but the state stays (e.g. any event after kShutdown)
    kRefused,    // the table does not allow it: the state stays (a bug; logged)
  };

  // The table: the state `event` leads to from `from`, or nullopt when it
  // is not allowed there.
  static std::optional<ChannelState> Next(ChannelState from, ConnectivityEvent event);

  // Applies `event` to the current state.
  Outcome Apply(ConnectivityEvent event);

  ChannelState state() const { return state_; }

 private:
  ChannelState state_ = ChannelState::kIdle;
};

}  // namespace appwire

#endif  // APPWIRE_CLIENT_CONNECTIVITY_STATE_H_
