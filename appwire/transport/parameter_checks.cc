#include "appwire/transport/parameter_checks.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "appwire/common/parameter_table.h"
#include "appwire/transport/internal/wolfssl.h"
#include "appwire/transport/tls_context.h"

namespace appwire {
namespace {

absl::Status CheckTls12CipherListParameter(const ParameterSpec& spec, const ParameterValue& value,
                                           const ParameterLookup& lookup) {
  internal::EnsureWolfSslInitialized();
  absl::StatusOr<std::string> list = internal::CheckTls12CipherList(
      value.AsString(), lookup(spec.partner).AsInt() != 0);
  if (!list.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ParameterName(spec.selector), ": ", list.status().message()));
  }
  return absl::OkStatus();
}

// The TLS 1.3 list is checked by building a client context with it: the
// one place (TlsContext::Create) that decides which suite names count.
absl::Status CheckTls13CipherSuitesParameter(const ParameterSpec& spec,
                                             const ParameterValue& value) {
  internal::EnsureWolfSslInitialized();
  TlsOptions probe;
  probe.role = TlsRole::kClient;
  probe.use_system_trust_store = false;
  probe.pinned_sha256 = std::string(64, '0');
  probe.tls13_cipher_suites = value.AsString();
  absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::Create(probe);
  if (!context.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ParameterName(spec.selector), ": ", context.status().message()));
  }
  return absl::OkStatus();
}

ParameterLookup ProcessWideLookup() {
  return [](Parameter selector) { return GetDatabaseParameter(selector); };
}

}  // namespace

absl::Status CheckTlsParameter(Parameter selector, const ParameterValue& value,
                               const ParameterLookup& lookup) {
  const ParameterSpec* spec = FindParameter(selector);
  if (spec == nullptr) return absl::OkStatus();
  switch (spec->check) {
    case ParameterCheck::kTls12CipherList:
      return CheckTls12CipherListParameter(*spec, value, lookup);
    case ParameterCheck::kTls13CipherSuites:
      return CheckTls13CipherSuitesParameter(*spec, value);
    case ParameterCheck::kRange:
    case ParameterCheck::kOneOf:
    case ParameterCheck::kNames:
    case ParameterCheck::kLowestTlsVersion:
    case ParameterCheck::kHighestTlsVersion:
      return absl::OkStatus();  // CheckParameterAgainstTable's
  }
  return absl::OkStatus();
}

absl::Status CheckParameter(Parameter selector, const ParameterValue& value,
                            const ParameterLookup& lookup) {
  absl::Status status = CheckParameterAgainstTable(selector, value, lookup);
  if (!status.ok()) return status;
  return CheckTlsParameter(selector, value, lookup);
}

// The validating functions of appwire/common/parameters.h (see parameter_checks.h
// for why they are defined here).

absl::Status SetDatabaseParameter(Parameter selector, ParameterValue value) {
  return internal::SetDatabaseParameterIfAccepted(selector, std::move(value), &CheckParameter);
}

absl::Status ValidateParameter(Parameter selector, const ParameterValue& value) {
  return CheckParameter(selector, value, ProcessWideLookup());
}

absl::Status ParameterOverrides::Set(Parameter selector, ParameterValue value) {
  absl::Status status =
      CheckParameter(selector, value, [this](Parameter other) { return Get(other); });
  if (!status.ok()) return status;
  values_.insert_or_assign(selector, std::move(value));
  return absl::OkStatus();
}

}  // namespace appwire
