// ServerParameters: one server's database parameters — its own overrides
// (ServerOptions::parameters, Server::SetParameter) over the process-wide
// values (SetDatabaseParameter, appwire/common/parameters.h).
//
// Hot paths read snapshots (ParameterSnapshot: immutable, no lock): each
// connection holds one (HeldParameters) and Refresh() replaces it only when
// this server's overrides or the process-wide values changed since it was
// taken, which costs two atomic loads when they did not. So a request
// takes no lock, and still sees a change made by SetParameter or
// SetDatabaseParameter while its connection was open, as before snapshots.
//
// Owned by Server::Impl and shared (std::shared_ptr) with the units that
// read parameters: the TLS configuration (rebuilt when generation() or
// DatabaseParametersGeneration() moves), connection management (keepalive,
// limits, the idle timeout) and dispatch (per-call limits).
//
// Threads: every method is thread-safe; a HeldParameters belongs to one
// thread (a connection's: its I/O thread).
#ifndef APPWIRE_SERVER_SERVER_PARAMETERS_H_
#define APPWIRE_SERVER_SERVER_PARAMETERS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "appwire/common/parameters.h"

namespace appwire {

// A snapshot and the ServerParameters::generation() it was taken at.
struct HeldParameters {
  std::shared_ptr<const ParameterSnapshot> snapshot;
  uint64_t server_generation = 0;
};

class ServerParameters {
 public:
  explicit ServerParameters(ParameterOverrides overrides);
  ServerParameters(const ServerParameters&) = delete;
  ServerParameters& operator=(const ServerParameters&) = delete;

  // As ParameterOverrides::Set: InvalidArgument and no change when refused.
  absl::Status Set(Parameter selector, ParameterValue value);
  // The override when set, else the process-wide value.
  ParameterValue Get(Parameter selector) const;
  int64_t Int(Parameter selector) const { return Get(selector).AsInt(); }
  // Moves with every accepted Set; process-wide changes move
  // DatabaseParametersGeneration() instead.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Every value in force now. Takes the lock; the snapshot is shared with
  // every caller until a parameter changes.
  std::shared_ptr<const ParameterSnapshot> Snapshot() const;
  // `*held`, first replaced by Snapshot() when a parameter changed since it
  // was taken (or it is empty). No lock when nothing changed.
  const ParameterSnapshot& Refresh(HeldParameters* held) const;

 private:
  // True when `snapshot` taken at `server_generation` is still current.
  bool Current(const ParameterSnapshot* snapshot, uint64_t server_generation) const;
  std::shared_ptr<const ParameterSnapshot> SnapshotLocked(uint64_t* server_generation) const;

  mutable std::mutex mu_;
  ParameterOverrides overrides_;  // guarded by mu_
  std::atomic<uint64_t> generation_{1};
  // The last snapshot taken, and the generation it was taken at (guarded by
  // mu_).
  mutable std::shared_ptr<const ParameterSnapshot> latest_;
  mutable uint64_t latest_generation_ = 0;
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_SERVER_PARAMETERS_H_
