#include "appwire/rpc/hello.h"

#include "appwire/common/version.h"
#include "gtest/gtest.h"

namespace appwire {
namespace {

HelloInfo Server() {
  HelloInfo server;
  server.software_name = "appwire-server";
  server.software_version = "1.2.3";
  server.max_message_bytes = 1024;
  return server;
}

TEST(HelloTest, HelloFrameCarriesTheVersionTheSoftwareAndTheLimitOnCallIdZero) {
  const v1::FrameHeader frame = HelloFrame(Server());
  EXPECT_EQ(frame.call_id(), 0u);
  ASSERT_TRUE(frame.has_hello());
  EXPECT_EQ(frame.hello().protocol_version(), kProtocolVersion);
  EXPECT_EQ(frame.hello().software_name(), "appwire-server");
  EXPECT_EQ(frame.hello().software_version(), "1.2.3");
  EXPECT_EQ(frame.hello().max_message_bytes(), 1024u);
}

TEST(HelloTest, EachEndAcceptsTheOthersHelloOfTheSameVersion) {
  const v1::FrameHeader frame = HelloFrame(Server());
  EXPECT_TRUE(CheckServerHello(frame.hello()).ok());
  EXPECT_TRUE(CheckClientHello(frame, Server()).ok());
}

TEST(HelloTest, TheClientRefusesAServerOfAnotherVersion) {
  v1::FrameHeader frame = HelloFrame(Server());
  frame.mutable_hello()->set_protocol_version(kProtocolVersion + 1);
  absl::Status status = CheckServerHello(frame.hello());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "the server speaks appwire protocol version 2; this client speaks version 1; use "
            "a client and server of the same protocol version");
}

TEST(HelloTest, TheServerRefusesAClientOfAnotherVersionNamingBothSoftwares) {
  HelloInfo client;
  client.software_name = "notes";
  client.software_version = "0.9";
  v1::FrameHeader frame = HelloFrame(client);
  frame.mutable_hello()->set_protocol_version(7);
  absl::Status status = CheckClientHello(frame, Server());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "the client speaks appwire protocol version 7 (notes 0.9); this server "
            "(appwire-server 1.2.3) speaks version 1; use a client and server of the same "
            "protocol version");
  client.software_version.clear();
  frame = HelloFrame(client);
  frame.mutable_hello()->set_protocol_version(0);
  EXPECT_EQ(CheckClientHello(frame, Server()).message(),
            "the client speaks appwire protocol version 0 (notes); this server "
            "(appwire-server 1.2.3) speaks version 1; use a client and server of the same "
            "protocol version");
}

TEST(HelloTest, TheFirstFrameMustBeAHelloOnCallIdZero) {
  const std::string expected =
      "protocol error: the first frame on a connection must be a hello with call id 0 "
      "(docs/protocol.md)";
  v1::FrameHeader request;
  request.set_call_id(1);
  request.mutable_request()->set_method("/a.B/C");
  EXPECT_EQ(CheckClientHello(request, Server()).message(), expected);
  EXPECT_EQ(CheckClientHello(request, Server()).code(), absl::StatusCode::kFailedPrecondition);
  v1::FrameHeader hello_on_one = HelloFrame(Server());
  hello_on_one.set_call_id(1);
  EXPECT_EQ(CheckClientHello(hello_on_one, Server()).message(), expected);
  EXPECT_EQ(CheckClientHello(v1::FrameHeader(), Server()).message(), expected);
}

}  // namespace
}  // namespace appwire
