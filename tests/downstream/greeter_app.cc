// An app server and a desktop client of its own in one process, outside
// appwire's tree: serves downstream.Greeter (greeter.proto) on the base
// class protoc-gen-appwire made, and calls it through the generated stub.
// With shared libraries the process loads both libappwire_server and
// libappwire_client: the messages and the database parameters must exist
// once (protobuf aborts on a .proto registered twice; a parameter set by
// the app must reach the server).
//
//   greeter_app PROJECT_DIR
// Prints "greeting: hello, downstream" and "max message bytes: 65536".
#include <cstdio>
#include <memory>
#include <string>

#include <appwire/client/channel.h>
#include <appwire/common/parameters.h>
#include <appwire/server/server.h>

#include "greeter.appwire.h"
#include "greeter.appwire_service.h"

namespace {

class Greeter final : public downstream::Greeter::Service {
 public:
  absl::StatusOr<downstream::GreetReply> Greet(appwire::CallContext&,
                                               const downstream::GreetRequest& request) override {
    downstream::GreetReply reply;
    reply.set_greeting("hello, " + request.name());
    return reply;
  }
};

int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "greeter_app: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: greeter_app PROJECT_DIR\n");
    return 2;
  }
  // Set through the app, read by the server library.
  if (absl::Status set = appwire::SetDatabaseParameter(appwire::Parameter::kMaxMessageSize, 65536);
      !set.ok()) {
    return Fail("SetDatabaseParameter", set);
  }
  auto registry = std::make_shared<appwire::ServiceRegistry>();
  Greeter greeter;
  if (absl::Status registered = greeter.RegisterWith(*registry); !registered.ok()) {
    return Fail("RegisterWith", registered);
  }
  appwire::ServerOptions server_options;
  server_options.project_dir = argv[1];
  server_options.port = 0;
  auto server = appwire::Server::Create(server_options, registry);
  if (!server.ok()) return Fail("Server::Create", server.status());
  if (absl::Status started = (*server)->Start(); !started.ok()) return Fail("Start", started);

  appwire::ChannelOptions options;
  options.target = "127.0.0.1:" + std::to_string((*server)->port());
  options.server_name = "localhost";
  options.ca_file = std::string(argv[1]) + "/cert.pem";
  auto channel = appwire::Channel::Connect(options);
  if (!channel.ok()) return Fail("Connect", channel.status());
  downstream::Greeter::Stub stub(*channel);
  downstream::GreetRequest request;
  request.set_name("downstream");
  appwire::CallOptions call;
  call.timeout = absl::Seconds(10);
  absl::StatusOr<downstream::GreetReply> reply = stub.Greet(request, call);
  if (!reply.ok()) return Fail("Greet", reply.status());
  std::printf("greeting: %s\n", reply->greeting().c_str());
  std::printf("max message bytes: %zu\n", (*server)->tls_settings().max_message_bytes);
  (*channel)->Close();
  (*server)->Drain(absl::Seconds(5));
  return 0;
}
