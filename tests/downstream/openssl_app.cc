// A desktop app that also uses OpenSSL (most do, through some other
// library): a TLS handshake with OpenSSL, a call with appwire, and another
// OpenSSL handshake, in one process. appwire's wolfSSL must not replace or
// disturb any OpenSSL function (wolfSSL's OpenSSL compatibility layer
// defines some under OpenSSL's names).
//
//   openssl_app --target 127.0.0.1:PORT --ca PROJECT/cert.pem
// Prints "openssl: TLSv1.3 appwire/1 verified", "appwire echo: via appwire"
// and "openssl again: ..." as the first line.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <appwire/client/channel.h>
#include <appwire/v1/builtin.pb.h>

namespace {

// One TLS 1.3 handshake with OpenSSL to HOST:PORT, verifying the server's
// certificate against ca_file for the name "localhost" and offering the
// appwire ALPN; returns "TLSv1.3 appwire/1 verified" or what went wrong.
std::string OpenSslHandshake(const std::string& target, const std::string& ca_file) {
  const size_t colon = target.rfind(':');
  const std::string host = target.substr(0, colon);
  const int port = std::stoi(target.substr(colon + 1));
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    SSL_CTX_free(ctx);
    return "cannot load " + ca_file;
  }
  static const unsigned char kAlpn[] = "\x09" "appwire/1";
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof(kAlpn) - 1);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  std::string result;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    result = "cannot connect";
  } else {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_set1_host(ssl, "localhost");
    if (SSL_connect(ssl) != 1) {
      char error[256];
      ERR_error_string_n(ERR_get_error(), error, sizeof(error));
      result = std::string("handshake failed: ") + error;
    } else {
      const unsigned char* alpn = nullptr;
      unsigned int alpn_length = 0;
      SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
      result = std::string(SSL_get_version(ssl)) + " " +
               std::string(reinterpret_cast<const char*>(alpn), alpn_length) +
               (SSL_get_verify_result(ssl) == X509_V_OK ? " verified" : " NOT verified");
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(ctx);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  std::string target;
  std::string ca_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--target") == 0) target = argv[i + 1];
    else if (std::strcmp(argv[i], "--ca") == 0) ca_file = argv[i + 1];
  }
  std::printf("openssl: %s\n", OpenSslHandshake(target, ca_file).c_str());

  appwire::ChannelOptions options;
  options.target = target;
  options.server_name = "localhost";
  options.ca_file = ca_file;
  auto channel = appwire::Channel::Connect(options);
  if (!channel.ok()) {
    std::fprintf(stderr, "openssl_app: %s\n", channel.status().ToString().c_str());
    return 1;
  }
  appwire::v1::EchoRequest request;
  request.set_payload("via appwire");
  appwire::CallOptions call;
  call.timeout = absl::Seconds(10);
  auto reply = (*channel)->Call<appwire::v1::EchoResponse>("appwire.v1.Echo/Echo", request, call);
  if (!reply.ok()) {
    std::fprintf(stderr, "openssl_app: %s\n", reply.status().ToString().c_str());
    return 1;
  }
  std::printf("appwire echo: %s\n", reply->payload().c_str());

  std::printf("openssl again: %s\n", OpenSslHandshake(target, ca_file).c_str());
  return 0;
}
