#include "common/parameters.h"

#include <atomic>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/version.h"

namespace appwire {
namespace {

struct Definition {
  Parameter selector;
  const char* name;
  ParameterValue default_value;
};

const std::vector<Definition>& Definitions() {
  static const auto* definitions = new std::vector<Definition>{
      {Parameter::kClientServerPortId, "kClientServerPortId", ParameterValue(kDefaultPort)},
      {Parameter::kIdleConnectionsTimeout, "kIdleConnectionsTimeout", ParameterValue(0)},
      {Parameter::kSslCipherList, "kSslCipherList", ParameterValue("")},
      {Parameter::kMinTlsVersion, "kMinTlsVersion", ParameterValue(kTLSv1_3)},
      {Parameter::kMaxTlsVersion, "kMaxTlsVersion", ParameterValue(kTLSv1_3)},
      {Parameter::kTls13CipherSuites, "kTls13CipherSuites", ParameterValue("")},
      {Parameter::kKeyExchangeGroups, "kKeyExchangeGroups", ParameterValue("P-256:X25519:P-384")},
      {Parameter::kClientCertificateMode, "kClientCertificateMode", ParameterValue(kClientCertNone)},
      {Parameter::kHandshakeTimeout, "kHandshakeTimeout", ParameterValue(10000)},
      {Parameter::kMaxMessageSize, "kMaxMessageSize", ParameterValue(int64_t{16} << 20)},
      {Parameter::kDhParamBits, "kDhParamBits", ParameterValue(2048)},
      {Parameter::kAllowNonForwardSecret, "kAllowNonForwardSecret", ParameterValue(0)},
      {Parameter::kKeepaliveInterval, "kKeepaliveInterval", ParameterValue(30000)},
      {Parameter::kKeepaliveTimeout, "kKeepaliveTimeout", ParameterValue(10000)},
      {Parameter::kMaxConcurrentCalls, "kMaxConcurrentCalls", ParameterValue(1000)},
      {Parameter::kMaxMetadataSize, "kMaxMetadataSize", ParameterValue(8192)},
      {Parameter::kMaxWriteQueue, "kMaxWriteQueue", ParameterValue(int64_t{4} << 20)},
      {Parameter::kWriteStallTimeout, "kWriteStallTimeout", ParameterValue(30000)},
      {Parameter::kMaxConcurrentStreams, "kMaxConcurrentStreams", ParameterValue(256)},
      {Parameter::kHelloTimeout, "kHelloTimeout", ParameterValue(10000)},
      {Parameter::kMaxReceiveMemory, "kMaxReceiveMemory", ParameterValue(int64_t{256} << 20)},
  };
  return *definitions;
}

// The position of `selector` in Definitions(), -1 when it is not one.
int IndexOf(Parameter selector) {
  const std::vector<Definition>& definitions = Definitions();
  for (size_t i = 0; i < definitions.size(); ++i) {
    if (definitions[i].selector == selector) return static_cast<int>(i);
  }
  return -1;
}

const Definition* Find(Parameter selector) {
  int index = IndexOf(selector);
  return index >= 0 ? &Definitions()[static_cast<size_t>(index)] : nullptr;
}

struct Registry {
  std::mutex mu;
  std::map<Parameter, ParameterValue> values;
  std::map<Parameter, std::function<absl::Status(const ParameterValue&, const ParameterLookup&)>>
      validators;
  std::atomic<uint64_t> generation{1};
};

Registry& Global() {
  static auto* registry = new Registry();
  return *registry;
}

ParameterValue DefaultOf(Parameter selector) {
  const Definition* d = Find(selector);
  return d != nullptr ? d->default_value : ParameterValue(0);
}

// mu held.
ParameterValue GlobalValueLocked(Parameter selector) {
  auto it = Global().values.find(selector);
  return it != Global().values.end() ? it->second : DefaultOf(selector);
}

absl::Status Invalid(Parameter selector, const ParameterValue& value, absl::string_view allowed) {
  return absl::InvalidArgumentError(absl::StrCat(
      ParameterName(selector), ": ", value.ToString(), " is not allowed; ", allowed));
}

absl::Status CheckRange(Parameter selector, const ParameterValue& value, int64_t low,
                        int64_t high, absl::string_view unit) {
  if (value.AsInt() < low || value.AsInt() > high) {
    return Invalid(selector, value, absl::StrCat("use ", low, " to ", high, " ", unit));
  }
  return absl::OkStatus();
}

absl::Status CheckTlsVersion(Parameter selector, const ParameterValue& value) {
  if (value.AsInt() == 1 || value.AsInt() == 2) {
    return Invalid(selector, value,
                   absl::StrCat("TLS ", value.AsInt() == 1 ? "1.0" : "1.1",
                                " is obsolete and insecure, and appwire does not offer it; "
                                "use kTLSv1_2 (3) or kTLSv1_3 (4)"));
  }
  if (value.AsInt() != kTLSv1_2 && value.AsInt() != kTLSv1_3) {
    return Invalid(selector, value, "use kTLSv1_2 (3) or kTLSv1_3 (4)");
  }
  return absl::OkStatus();
}

absl::Status Validate(Parameter selector, const ParameterValue& value,
                      const ParameterLookup& lookup) {
  const Definition* d = Find(selector);
  if (d == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "selector ", static_cast<int>(selector), " is not an appwire parameter; see "
        "docs/configuration.md for the list"));
  }
  if (value.is_int() != d->default_value.is_int()) {
    return absl::InvalidArgumentError(absl::StrCat(
        ParameterName(selector), " takes ", d->default_value.is_int() ? "an integer" : "a string",
        ", got ", value.ToString()));
  }
  switch (selector) {
    case Parameter::kClientServerPortId:
      return CheckRange(selector, value, 0, 65535, "(0 picks a free port)");
    case Parameter::kIdleConnectionsTimeout:
      return CheckRange(selector, value, 0, 7 * 24 * 3600, "seconds (0 = never)");
    case Parameter::kMinTlsVersion: {
      absl::Status status = CheckTlsVersion(selector, value);
      if (!status.ok()) return status;
      int64_t max = lookup(Parameter::kMaxTlsVersion).AsInt();
      if (value.AsInt() > max) {
        return Invalid(selector, value,
                       absl::StrCat("it is above kMaxTlsVersion (", max,
                                    "); raise kMaxTlsVersion first"));
      }
      return absl::OkStatus();
    }
    case Parameter::kMaxTlsVersion: {
      absl::Status status = CheckTlsVersion(selector, value);
      if (!status.ok()) return status;
      int64_t min = lookup(Parameter::kMinTlsVersion).AsInt();
      if (value.AsInt() < min) {
        return Invalid(selector, value,
                       absl::StrCat("it is below kMinTlsVersion (", min,
                                    "); lower kMinTlsVersion first"));
      }
      return absl::OkStatus();
    }
    case Parameter::kClientCertificateMode:
      return CheckRange(selector, value, 0, 2,
                        "(kClientCertNone 0, kClientCertRequest 1, kClientCertRequire 2)");
    case Parameter::kHandshakeTimeout:
      return CheckRange(selector, value, 1, 600000, "milliseconds");
    case Parameter::kMaxMessageSize:
      return CheckRange(selector, value, 1, int64_t{1} << 30, "bytes");
    case Parameter::kDhParamBits:
      if (value.AsInt() != 2048 && value.AsInt() != 3072 && value.AsInt() != 4096) {
        return Invalid(selector, value, "use 2048, 3072 or 4096 bits");
      }
      return absl::OkStatus();
    case Parameter::kAllowNonForwardSecret:
      return CheckRange(selector, value, 0, 1, "(0 or 1)");
    case Parameter::kKeepaliveInterval:
      return CheckRange(selector, value, 0, 86400000, "milliseconds (0 turns pings off)");
    case Parameter::kKeepaliveTimeout:
      return CheckRange(selector, value, 1, 3600000, "milliseconds");
    case Parameter::kMaxConcurrentCalls:
      return CheckRange(selector, value, 1, 1000000, "calls");
    case Parameter::kMaxMetadataSize:
      // Metadata travels in a frame header, which is at most 64 KiB.
      return CheckRange(selector, value, 0, 32768, "bytes");
    case Parameter::kMaxWriteQueue:
      return CheckRange(selector, value, int64_t{64} << 10, int64_t{1} << 30, "bytes");
    case Parameter::kWriteStallTimeout:
      return CheckRange(selector, value, 100, 3600000, "milliseconds");
    case Parameter::kMaxConcurrentStreams:
      return CheckRange(selector, value, 1, 100000, "streaming calls");
    case Parameter::kHelloTimeout:
      return CheckRange(selector, value, 1, 600000, "milliseconds");
    case Parameter::kMaxReceiveMemory:
      return CheckRange(selector, value, int64_t{16} << 20, int64_t{64} << 30, "bytes");
    case Parameter::kKeyExchangeGroups: {
      for (absl::string_view group : absl::StrSplit(value.AsString(), ':', absl::SkipEmpty())) {
        if (group != "P-256" && group != "P-384" && group != "P-521" && group != "X25519" &&
            group != "ffdhe2048" && group != "ffdhe3072") {
          return Invalid(selector, value,
                         absl::StrCat("unknown group \"", group,
                                      "\"; use ':'-separated P-256, P-384, P-521, X25519, "
                                      "ffdhe2048, ffdhe3072"));
        }
      }
      return absl::OkStatus();
    }
    case Parameter::kSslCipherList:
    case Parameter::kTls13CipherSuites:
      return absl::OkStatus();  // checked by the TLS layer's validator
  }
  return absl::OkStatus();
}

absl::Status ValidateWithHooks(Parameter selector, const ParameterValue& value,
                               const ParameterLookup& lookup) {
  absl::Status status = Validate(selector, value, lookup);
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
  const Definition* d = Find(selector);
  return absl::StrCat(d != nullptr ? d->name : "unknown selector", " (",
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
  Global().values.insert_or_assign(selector, std::move(value));
  Global().generation.fetch_add(1, std::memory_order_acq_rel);
  return absl::OkStatus();
}

ParameterValue GetDatabaseParameter(Parameter selector) {
  std::lock_guard<std::mutex> lock(Global().mu);
  return GlobalValueLocked(selector);
}

void ResetDatabaseParameters() {
  std::lock_guard<std::mutex> lock(Global().mu);
  Global().values.clear();
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
  const std::vector<Definition>& definitions = Definitions();
  snapshot->values_.reserve(definitions.size());
  {
    // The generation is read under the same lock as the values, so that a
    // holder comparing it later never misses a change made meanwhile.
    std::lock_guard<std::mutex> lock(Global().mu);
    for (const Definition& d : definitions) {
      snapshot->values_.push_back(GlobalValueLocked(d.selector));
    }
    snapshot->generation_ = Global().generation.load(std::memory_order_acquire);
  }
  for (const auto& [selector, value] : overrides.values()) {
    int index = IndexOf(selector);
    if (index >= 0) snapshot->values_[static_cast<size_t>(index)] = value;
  }
  return snapshot;
}

const ParameterValue& ParameterSnapshot::Get(Parameter selector) const {
  static const auto* const kNotASelector = new ParameterValue(0);
  int index = IndexOf(selector);
  return index >= 0 ? values_[static_cast<size_t>(index)] : *kNotASelector;
}

void SetParameterValidator(
    Parameter selector,
    std::function<absl::Status(const ParameterValue&, const ParameterLookup&)> validator) {
  std::lock_guard<std::mutex> lock(Global().mu);
  Global().validators[selector] = std::move(validator);
}

}  // namespace appwire
