#include "transport/tls_failure.h"

#include "absl/strings/cord.h"
#include "absl/types/optional.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace appwire {
namespace {

constexpr absl::string_view kTypeUrl = "type.appwire.dev/appwire.TlsFailure";
constexpr absl::string_view kPinMismatch = "pin_mismatch";

}  // namespace

absl::Status WithTlsFailure(absl::Status status, const TlsFailure& failure) {
  // "KIND\nDETAIL": read only by GetTlsFailure below.
  switch (failure.kind) {
    case TlsFailure::Kind::kPinMismatch:
      status.SetPayload(kTypeUrl,
                        absl::Cord(absl::StrCat(kPinMismatch, "\n", failure.presented_fingerprint)));
      break;
  }
  return status;
}

std::optional<TlsFailure> GetTlsFailure(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kTypeUrl);
  if (!payload.has_value()) return std::nullopt;
  const std::string text(*payload);
  const size_t newline = text.find('\n');
  if (newline == std::string::npos) return std::nullopt;
  if (absl::string_view(text).substr(0, newline) == kPinMismatch) {
    return TlsFailure{TlsFailure::Kind::kPinMismatch, text.substr(newline + 1)};
  }
  return std::nullopt;
}

}  // namespace appwire
