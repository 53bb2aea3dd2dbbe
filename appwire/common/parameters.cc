#include "appwire/common/parameters.h"

#include <atomic>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "appwire/common/parameter_table.h"

namespace appwire {
namespace {

struct Registry {
  std::mutex mu;
  // Indexed by ParameterIndex: every selector's process-wide value.
  std::vector<ParameterValue> values;
  std::atomic<uint64_t> generation{1};
};

std::vector<ParameterValue> Defaults() {
  std::vector<ParameterValue> defaults;
  for (const ParameterSpec& spec : ParameterTable()) defaults.push_back(DefaultValue(spec));
  return defaults;
}

Registry& Global() {
  static auto* registry = [] {
    auto* r = new Registry();
    r->values = Defaults();
    return r;
  }();
  return *registry;
}

// mu held.
ParameterValue GlobalValueLocked(Parameter selector) {
  const int index = ParameterIndex(selector);
  return index >= 0 ? Global().values[static_cast<size_t>(index)] : ParameterValue(0);
}

}  // namespace

std::string ParameterName(Parameter selector) {
  const ParameterSpec* spec = FindParameter(selector);
  return absl::StrCat(spec != nullptr ? spec->name : "unknown selector", " (",
                      static_cast<int>(selector), ")");
}

std::string ParameterValue::ToString() const {
  if (is_int()) return absl::StrCat(AsInt());
  return absl::StrCat("\"", AsString(), "\"");
}

namespace internal {

absl::Status SetDatabaseParameterIfAccepted(Parameter selector, ParameterValue value,
                                            ParameterCheckFunction check) {
  // One change at a time: checks that span selectors (min <= max) must see
  // the values they are stored against.
  static std::mutex set_mu;
  std::lock_guard<std::mutex> set_lock(set_mu);
  absl::Status status = check(selector, value, [](Parameter other) {
    return GetDatabaseParameter(other);
  });
  if (!status.ok()) return status;
  const int index = ParameterIndex(selector);
  if (index < 0) return absl::InternalError("a check accepted a selector the table lacks");
  std::lock_guard<std::mutex> lock(Global().mu);
  Global().values[static_cast<size_t>(index)] = std::move(value);
  Global().generation.fetch_add(1, std::memory_order_acq_rel);
  return absl::OkStatus();
}

}  // namespace internal

ParameterValue GetDatabaseParameter(Parameter selector) {
  std::lock_guard<std::mutex> lock(Global().mu);
  return GlobalValueLocked(selector);
}

void ResetDatabaseParameters() {
  std::lock_guard<std::mutex> lock(Global().mu);
  Global().values = Defaults();
  Global().generation.fetch_add(1, std::memory_order_acq_rel);
}

uint64_t DatabaseParametersGeneration() {
  return Global().generation.load(std::memory_order_acquire);
}

ParameterValue ParameterOverrides::Get(Parameter selector) const {
  auto it = values_.find(selector);
  return it != values_.end() ? it->second : GetDatabaseParameter(selector);
}

std::shared_ptr<const ParameterSnapshot> ParameterSnapshot::Take(
    const ParameterOverrides& overrides) {
  std::shared_ptr<ParameterSnapshot> snapshot(new ParameterSnapshot());
  {
    // The generation is read under the same lock as the values, so that a
    // holder comparing it later never misses a change made meanwhile.
    std::lock_guard<std::mutex> lock(Global().mu);
    snapshot->values_ = Global().values;
    snapshot->generation_ = Global().generation.load(std::memory_order_acquire);
  }
  for (const auto& [selector, value] : overrides.values()) {
    const int index = ParameterIndex(selector);
    if (index >= 0) snapshot->values_[static_cast<size_t>(index)] = value;
  }
  return snapshot;
}

const ParameterValue& ParameterSnapshot::Get(Parameter selector) const {
  static const auto* const kNotASelector = new ParameterValue(0);
  const int index = ParameterIndex(selector);
  return index >= 0 ? values_[static_cast<size_t>(index)] : *kNotASelector;
}

}  // namespace appwire
