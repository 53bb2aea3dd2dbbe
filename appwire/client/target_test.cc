#include "appwire/client/target.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

void ExpectRefused(const std::string& target, const std::string& message) {
  absl::StatusOr<Target> parsed = ParseTarget(target);
  ASSERT_FALSE(parsed.ok()) << target;
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << target;
  EXPECT_EQ(parsed.status().message(), message) << target;
}

void ExpectParsed(const std::string& target, const std::string& host, const std::string& port) {
  absl::StatusOr<Target> parsed = ParseTarget(target);
  ASSERT_TRUE(parsed.ok()) << target << ": " << parsed.status();
  EXPECT_EQ(parsed->host, host) << target;
  EXPECT_EQ(parsed->port, port) << target;
}

TEST(ParseTargetTest, HostAndPort) { ExpectParsed("localhost:4000", "localhost", "4000"); }

TEST(ParseTargetTest, Ipv4AndPort) { ExpectParsed("127.0.0.1:1", "127.0.0.1", "1"); }

TEST(ParseTargetTest, HostAloneGetsTheDefaultPort) {
  ExpectParsed("example.com", "example.com", "19813");
}

TEST(ParseTargetTest, BracketedIpv6AndPort) { ExpectParsed("[::1]:65535", "::1", "65535"); }

TEST(ParseTargetTest, BracketedIpv6AloneGetsTheDefaultPort) {
  ExpectParsed("[fe80::1]", "fe80::1", "19813");
}

TEST(ParseTargetTest, WhatFollowsTheBracketWithoutAColonIsIgnored) {
  // Today's rule, kept: only "]:" introduces a port.
  ExpectParsed("[::1]x", "::1", "19813");
}

TEST(ParseTargetTest, HostPortJoinsWithoutBrackets) {
  absl::StatusOr<Target> parsed = ParseTarget("[::1]:80");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->HostPort(), "::1:80");
}

TEST(ParseTargetTest, EmptyTargetIsRefusedWithAnExample) {
  ExpectRefused("", "target is empty; use \"host:port\", e.g. \"localhost:19813\"");
}

TEST(ParseTargetTest, UnclosedBracketIsRefused) {
  ExpectRefused("[::1:19813", "target \"[::1:19813\" lacks a ']'");
}

TEST(ParseTargetTest, BareIpv6IsRefusedWithTheBracketForm) {
  ExpectRefused("::1:19813",
                "target \"::1:19813\": put IPv6 addresses in brackets, \"[::1]:19813\"");
}

TEST(ParseTargetTest, EmptyHostIsRefused) {
  ExpectRefused(":19813", "target \":19813\" is not \"host:port\" with a port from 1 to 65535");
  ExpectRefused("[]:19813",
                "target \"[]:19813\" is not \"host:port\" with a port from 1 to 65535");
}

TEST(ParseTargetTest, EmptyPortIsRefused) {
  ExpectRefused("localhost:",
                "target \"localhost:\" is not \"host:port\" with a port from 1 to 65535");
  ExpectRefused("[::1]:", "target \"[::1]:\" is not \"host:port\" with a port from 1 to 65535");
}

TEST(ParseTargetTest, PortOutOfRangeIsRefused) {
  ExpectRefused("localhost:0",
                "target \"localhost:0\" is not \"host:port\" with a port from 1 to 65535");
  ExpectRefused("localhost:65536",
                "target \"localhost:65536\" is not \"host:port\" with a port from 1 to 65535");
  ExpectRefused("localhost:-1",
                "target \"localhost:-1\" is not \"host:port\" with a port from 1 to 65535");
}

TEST(ParseTargetTest, PortThatIsNoNumberIsRefused) {
  ExpectRefused("localhost:https",
                "target \"localhost:https\" is not \"host:port\" with a port from 1 to 65535");
}

}  // namespace
}  // namespace appwire
