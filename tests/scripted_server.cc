#include "tests/scripted_server.h"

#include <asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "appwire/transport/certificate_store.h"
#include "appwire/transport/tls_stream.h"
#include "gtest/gtest.h"

namespace appwire::testing {

ScriptedServer::ScriptedServer(const TempDir& project, Script script)
    : script_(std::move(script)) {
  auto identity = LoadOrMakeServerIdentity(project.path(), IdentityLoadOptions());
  EXPECT_TRUE(identity.ok()) << identity.status();
  if (identity.ok() && identity->generated) {  // clients trust its cert.pem
    EXPECT_TRUE(WriteGeneratedIdentity(*identity).ok());
  }
  TlsOptions tls;
  tls.role = TlsRole::kServer;
  tls.certificate_chain_pem = identity->certificate_chain_pem;
  tls.private_key_pem = identity->private_key_pem;
  auto context = TlsContext::Create(tls);
  EXPECT_TRUE(context.ok()) << context.status();
  context_ = *context;
  acceptor_.open(asio::ip::tcp::v4());
  acceptor_.bind(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  acceptor_.listen();
  Accept();
  thread_ = std::thread([this] { io_.run(); });
}

ScriptedServer::~ScriptedServer() {
  asio::post(io_, [this] {
    acceptor_.close();
    for (auto& connection : connections_) connection->Close(absl::CancelledError("done"));
  });
  work_.reset();
  thread_.join();
}

ChannelOptions ScriptedServer::ClientOptions(const TempDir& project) const {
  ChannelOptions options;
  options.target = absl::StrCat("127.0.0.1:", port());
  options.ca_file = project.File("cert.pem");
  return options;
}

void ScriptedServer::Accept() {
  acceptor_.async_accept([this](const std::error_code& error, asio::ip::tcp::socket socket) {
    if (error) return;
    const int number = ++accepted_;
    auto stream = TlsStream::CreateServer(
        std::move(socket), [this](const TlsStream::ClientHello&) { return context_; }, absl::Seconds(5));
    ASSERT_TRUE(stream.ok());
    Connection::Callbacks callbacks;
    callbacks.on_frame = [this, number](const std::shared_ptr<Connection>& connection,
                                        DecodedFrame& frame) {
      v1::FrameHeader reply;
      reply.set_call_id(frame.header.call_id());
      std::string payload;
      if (frame.header.has_hello()) {
        reply.mutable_hello()->set_protocol_version(1);
      } else if (frame.header.has_request() || frame.header.has_half_close()) {
        *reply.mutable_response() = script_(number, frame.header, &payload);
        if (reply.response().status_code() == -2) return;
        if (reply.response().status_code() == -1) {
          v1::FrameHeader go_away;
          go_away.mutable_go_away()->set_status_code(
              static_cast<int>(absl::StatusCode::kUnavailable));
          go_away.mutable_go_away()->set_status_message("idle");
          go_away.mutable_go_away()->set_last_call_id(
              frame.header.call_id() > 2 ? frame.header.call_id() - 2 : 0);
          connection->Send(go_away, "").IgnoreError();
          connection->Close(absl::OkStatus(), /*send_go_away=*/false);
          return;
        }
      } else {
        return;
      }
      connection->Send(reply, payload).IgnoreError();
    };
    auto connection = Connection::Create(*stream, FrameLimits(), std::move(callbacks));
    connections_.push_back(connection);
    connection->Start();
    Accept();
  });
}


}  // namespace appwire::testing
