#include "appwire/acme/http_client.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace appwire::acme {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(HttpResponseTest, LinksOfARelationFromOneOrManyHeaders) {
  HttpResponse response;
  response.headers.emplace("link", R"(<https://ca/dir>;rel="index", <https://ca/alt/1>; rel="alternate")");
  response.headers.emplace("link", R"(<https://ca/alt/2>;rel=alternate)");
  EXPECT_THAT(response.Links("alternate"), ElementsAre("https://ca/alt/1", "https://ca/alt/2"));
  EXPECT_THAT(response.Links("index"), ElementsAre("https://ca/dir"));
  EXPECT_TRUE(response.Links("up").empty());
}

TEST(HttpResponseTest, HeaderGivesTheFirstValueOrNothing) {
  HttpResponse response;
  response.headers.emplace("replay-nonce", "abc");
  EXPECT_EQ(response.Header("replay-nonce"), "abc");
  EXPECT_EQ(response.Header("location"), "");
}

TEST(HttpClientTest, AnUnreachableServerIsUnavailableAndNamesTheUrl) {
  HttpClient client(HttpClientOptions{"", absl::Seconds(5), 1 << 20, nullptr});
  absl::StatusOr<HttpResponse> response =
      client.Fetch({"GET", "https://127.0.0.1:1/directory", "", "", ""});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(response.status().message(), HasSubstr("GET https://127.0.0.1:1/directory: "));
}

TEST(HttpClientTest, PlainHttpIsRefused) {
  // RFC 8555 section 6.1: ACME is HTTPS only; nothing is sent in clear.
  HttpClient client(HttpClientOptions{"", absl::Seconds(5), 1 << 20, nullptr});
  absl::StatusOr<HttpResponse> response =
      client.Fetch({"GET", "http://127.0.0.1:1/directory", "", "", ""});
  ASSERT_FALSE(response.ok());
  EXPECT_THAT(response.status().message(), HasSubstr("http://127.0.0.1:1/directory"));
  EXPECT_THAT(response.status().message(), HasSubstr("not supported"));
}

}  // namespace
}  // namespace appwire::acme
