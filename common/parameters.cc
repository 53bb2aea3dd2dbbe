#include "common/parameters.h"

#include <atomic>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/parameter_table.h"

namespace appwire {
namespace {

struct Registry {
  std::mutex mu;
  // Indexed by ParameterIndex: every selector's process-wide value.
  std::vector<ParameterValue> values;
  std::map<Parameter, std::function<absl::Status(const ParameterValue&, const ParameterLookup&)>>
      validators;
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

absl::Status ValidateWithHooks(Parameter selector, const ParameterValue& value,
                               const ParameterLookup& lookup) {
  absl::Status status = CheckParameterAgainstTable(selector, value, lookup);
  if (!status.ok()) return status;
  std::function<absl::Status(const ParameterValue&, const ParameterLookup&)> hook;
  {
    std::lock_guard<std::mutex> lock(Global().mu);
    auto it = Global().validators.find(selector);
    if (it != Global().validators.end()) hook = it->second;
  }
  return hook ? hook(value, lookup) : absl::OkStatus();
}

ParameterLookup GlobalLookup() {
  return [](Parameter selector) { return GetDatabaseParameter(selector); };
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

absl::Status SetDatabaseParameter(Parameter selector, ParameterValue value) {
  // One change at a time: checks that span selectors (min <= max) must see
  // the values they are stored against.
  static std::mutex set_mu;
  std::lock_guard<std::mutex> set_lock(set_mu);
  absl::Status status = ValidateWithHooks(selector, value, GlobalLookup());
  if (!status.ok()) return status;
  std::lock_guard<std::mutex> lock(Global().mu);
  Global().values[static_cast<size_t>(ParameterIndex(selector))] = std::move(value);
  Global().generation.fetch_add(1, std::memory_order_acq_rel);
  return absl::OkStatus();
}

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

absl::Status ValidateParameter(Parameter selector, const ParameterValue& value) {
  return ValidateWithHooks(selector, value, GlobalLookup());
}

absl::Status ParameterOverrides::Set(Parameter selector, ParameterValue value) {
  absl::Status status = ValidateWithHooks(
      selector, value, [this](Parameter other) { return Get(other); });
  if (!status.ok()) return status;
  values_.insert_or_assign(selector, std::move(value));
  return absl::OkStatus();
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

void SetParameterValidator(
    Parameter selector,
    std::function<absl::Status(const ParameterValue&, const ParameterLookup&)> validator) {
  std::lock_guard<std::mutex> lock(Global().mu);
  Global().validators[selector] = std::move(validator);
}

}  // namespace appwire
