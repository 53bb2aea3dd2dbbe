// ServerParameters: one server's database parameters — its own overrides
// (ServerOptions::parameters, Server::SetParameter) over the process-wide
// values (SetDatabaseParameter, common/parameters.h).
//
// Owned by Server::Impl and shared (std::shared_ptr) with the units that
// read parameters: the TLS configuration (rebuilt when generation() or
// DatabaseParametersGeneration() moves), connection management (keepalive,
// limits, the idle timeout) and dispatch (per-call limits).
//
// Threads: every method is thread-safe.
#ifndef APPWIRE_SERVER_SERVER_PARAMETERS_H_
#define APPWIRE_SERVER_SERVER_PARAMETERS_H_

#include <atomic>
#include <cstdint>
#include <mutex>

#include "absl/status/status.h"
#include "common/parameters.h"

namespace appwire {

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
  // A copy of the overrides (to build TLS options from).
  ParameterOverrides overrides() const;
  // Moves with every accepted Set; process-wide changes move
  // DatabaseParametersGeneration() instead.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  ParameterOverrides overrides_;  // guarded by mu_
  std::atomic<uint64_t> generation_{1};
};

}  // namespace appwire

#endif  // APPWIRE_SERVER_SERVER_PARAMETERS_H_
