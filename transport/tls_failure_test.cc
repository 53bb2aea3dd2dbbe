#include "transport/tls_failure.h"

#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(TlsFailureTest, ThePinMismatchAndThePresentedFingerprintSurviveCopies) {
  const TlsFailure failure{TlsFailure::Kind::kPinMismatch, "SHA256:AB:CD"};
  absl::Status status = WithTlsFailure(absl::UnauthenticatedError("any words"), failure);
  const absl::Status copy = status;
  ASSERT_TRUE(GetTlsFailure(copy).has_value());
  EXPECT_EQ(*GetTlsFailure(copy), failure);
  EXPECT_EQ(copy.message(), "any words");
  EXPECT_EQ(copy.code(), absl::StatusCode::kUnauthenticated);
}

TEST(TlsFailureTest, AStatusWithoutOneHasNone) {
  EXPECT_FALSE(GetTlsFailure(absl::UnauthenticatedError(
                                 "the server's certificate does not match the pinned fingerprint"))
                   .has_value());
  EXPECT_FALSE(GetTlsFailure(absl::OkStatus()).has_value());
}

}  // namespace
}  // namespace appwire
