#include "server/server_parameters.h"

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

ParameterOverrides ServerParameters::overrides() const {
  std::lock_guard<std::mutex> lock(mu_);
  return overrides_;
}

}  // namespace appwire
