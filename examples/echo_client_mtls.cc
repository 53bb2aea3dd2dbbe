// echo_client.cc with mutual TLS: the client's identity and the server's CA
// come from a client folder (key.pem, cert.pem, ca.pem), as 4D keeps them in
// the client database folder.
//
//   echo_client_mtls --target HOST:PORT --client-folder DIR [--message TEXT]
#include <cstdio>
#include <string>

#include "appwire/client/channel.h"
#include "appwire/v1/builtin.appwire.h"
#include "example_args.h"

int main(int argc, char** argv) {
  appwire::ChannelOptions options;
  options.target = "localhost:19813";
  std::string message = "hello from a desktop app, with a certificate";
  if (!examples::ParseArgs(argc, argv,
                           "echo_client_mtls --target HOST:PORT --client-folder DIR [--message TEXT]",
                           {{"--target", &options.target},
                            {"--client-folder", &options.client_folder},
                            {"--message", &message}})) {
    return 2;
  }
  auto channel = appwire::Channel::Connect(options);
  if (!channel.ok()) {
    std::fprintf(stderr, "echo_client_mtls: cannot connect: %s\n",
                 channel.status().ToString().c_str());
    return 1;
  }
  appwire::v1::EchoRequest request;
  request.set_payload(message);
  appwire::v1::Echo::Stub stub(*channel);
  auto echo = stub.Echo(request);
  if (!echo.ok()) {
    std::fprintf(stderr, "echo_client_mtls: echo failed: %s\n", echo.status().ToString().c_str());
    return 1;
  }
  std::printf("echo (as the certificate in %s): \"%s\"\n", options.client_folder.c_str(),
              echo->payload().c_str());
  return 0;
}
