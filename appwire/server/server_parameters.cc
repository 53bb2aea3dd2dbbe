#include "appwire/server/server_parameters.h"

#include <utility>

namespace appwire {

ServerParameters::ServerParameters(ParameterOverrides overrides)
    : overrides_(std::move(overrides)) {}

absl::Status ServerParameters::Set(Parameter selector, ParameterValue value) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status status = overrides_.Set(selector, std::move(value));
  if (status.ok()) generation_.fetch_add(1, std::memory_order_acq_rel);
  return status;
}

ParameterValue ServerParameters::Get(Parameter selector) const {
  std::lock_guard<std::mutex> lock(mu_);
  return overrides_.Get(selector);
}

bool ServerParameters::Current(const ParameterSnapshot* snapshot,
                               uint64_t server_generation) const {
  return snapshot != nullptr && server_generation == generation() &&
         snapshot->generation() == DatabaseParametersGeneration();
}

std::shared_ptr<const ParameterSnapshot> ServerParameters::SnapshotLocked(
    uint64_t* server_generation) const {
  if (!Current(latest_.get(), latest_generation_)) {
    // generation_ only moves under mu_, so it matches overrides_ here.
    latest_generation_ = generation();
    latest_ = ParameterSnapshot::Take(overrides_);
  }
  *server_generation = latest_generation_;
  return latest_;
}

std::shared_ptr<const ParameterSnapshot> ServerParameters::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t ignored;
  return SnapshotLocked(&ignored);
}

const ParameterSnapshot& ServerParameters::Refresh(HeldParameters* held) const {
  if (!Current(held->snapshot.get(), held->server_generation)) {
    std::lock_guard<std::mutex> lock(mu_);
    held->snapshot = SnapshotLocked(&held->server_generation);
  }
  return *held->snapshot;
}

}  // namespace appwire
