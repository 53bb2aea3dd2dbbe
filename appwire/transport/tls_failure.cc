#include "appwire/transport/tls_failure.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace appwire {
namespace {

constexpr absl::string_view kTypeUrl = "type.appwire.dev/appwire.TlsFailure";
constexpr absl::string_view kPinMismatch = "pin_mismatch";
constexpr absl::string_view kPeerRefusedCertificate = "peer_refused_certificate";
constexpr absl::string_view kClosedBeforeHello = "closed_before_hello";
constexpr absl::string_view kNoApplicationProtocol = "no_application_protocol";

}  // namespace

absl::Status WithTlsFailure(absl::Status status, const TlsFailure& failure) {
  // "KIND\nDETAIL": read only by GetTlsFailure below.
  switch (failure.kind) {
    case TlsFailure::Kind::kPinMismatch:
      status.SetPayload(kTypeUrl,
                        absl::Cord(absl::StrCat(kPinMismatch, "\n", failure.presented_fingerprint)));
      break;
    case TlsFailure::Kind::kPeerRefusedCertificate:
      status.SetPayload(kTypeUrl,
                        absl::Cord(absl::StrCat(kPeerRefusedCertificate, "\n", failure.alert)));
      break;
    case TlsFailure::Kind::kClosedBeforeHello:
      status.SetPayload(kTypeUrl, absl::Cord(absl::StrCat(kClosedBeforeHello, "\n")));
      break;
    case TlsFailure::Kind::kNoApplicationProtocol:
      status.SetPayload(kTypeUrl, absl::Cord(absl::StrCat(kNoApplicationProtocol, "\n")));
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
  const absl::string_view kind = absl::string_view(text).substr(0, newline);
  const absl::string_view detail = absl::string_view(text).substr(newline + 1);
  if (kind == kPinMismatch) {
    return TlsFailure{TlsFailure::Kind::kPinMismatch, std::string(detail)};
  }
  if (kind == kClosedBeforeHello) return TlsFailure{TlsFailure::Kind::kClosedBeforeHello, "", -1};
  if (kind == kNoApplicationProtocol) {
    return TlsFailure{TlsFailure::Kind::kNoApplicationProtocol, "", -1};
  }
  int alert = -1;
  if (kind == kPeerRefusedCertificate && absl::SimpleAtoi(detail, &alert)) {
    return TlsFailure{TlsFailure::Kind::kPeerRefusedCertificate, "", alert};
  }
  return std::nullopt;
}

}  // namespace appwire
