#include "appwire/transport/internal/errors.h"

#include <optional>
#include <string>

#include <asio/error.hpp>

#include "absl/strings/str_cat.h"
#include "appwire/transport/internal/wolfssl.h"
#include "appwire/transport/tls_failure.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The library's own words differ between wolfSSL builds; the number and
// the way they are put together do not.
TEST(ErrorsTest, AWolfSslCodeIsWordedWithItsNumberAndWolfSslsText) {
  EXPECT_THAT(WolfSslErrorText(ASN_VERSION_E), StartsWith("wolfSSL error -141: ASN version error"));
}

TEST(ErrorsTest, AWolfCryptCodeIsWordedInEitherStyle) {
  const std::string text = wc_GetErrorString(BAD_FUNC_ARG);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(WolfCryptErrorText(BAD_FUNC_ARG), absl::StrCat("wolfCrypt error -173: ", text));
  EXPECT_EQ(WolfCryptErrorText(BAD_FUNC_ARG, CodeTextStyle::kParenthesized),
            absl::StrCat("wolfCrypt error -173 (", text, ")"));
}

// A handshake that failed after the peer sent `alert`.
absl::Status FailedAfterAlert(TlsRole role, int alert) {
  TlsFailureContext context;
  context.role = role;
  context.peer_address = "192.0.2.1:5000";
  context.operation = "TLS handshake";
  context.alert_received = alert;
  return TlsErrorToStatus(FATAL_ERROR, context);
}

TEST(ErrorsTest, ACertificateAlertFromThePeerCarriesTheRefusalAsAKind) {
  const absl::Status status = FailedAfterAlert(TlsRole::kServer, 42);  // bad_certificate
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("TLS handshake with 192.0.2.1:5000 failed: the client refused this "
                        "server's certificate (alert 'bad_certificate'); check that the client "
                        "trusts our CA and expects our name (wolfSSL error "));
  const std::optional<TlsFailure> failure = GetTlsFailure(status);
  ASSERT_TRUE(failure.has_value()) << status;
  EXPECT_EQ(failure->kind, TlsFailure::Kind::kPeerRefusedCertificate);
  EXPECT_EQ(failure->alert, 42);
}

TEST(ErrorsTest, OtherAlertsCarryNoKind) {
  const absl::Status status = FailedAfterAlert(TlsRole::kClient, 40);  // handshake_failure
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("the server aborted with alert 'handshake_failure'"));
  EXPECT_FALSE(GetTlsFailure(status).has_value());
}

// An OS error reaches the app worded as the OS's, whichever library carried
// it: "system error 111", not "asio.system error 111".
TEST(ErrorsTest, AnOsErrorIsWordedAsASystemError) {
  const std::error_code refused = asio::error::connection_refused;
  const absl::Status status = AsioErrorToStatus(refused, "connecting", "127.0.0.1:9");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(),
            absl::StrCat("connecting with 127.0.0.1:9 failed: connection refused; is "
                         "appwire-server running on that address and port? (",
                         refused.message(), " (system error ", refused.value(), "))"));
}

}  // namespace
}  // namespace appwire::internal
