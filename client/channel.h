// Channel: a desktop app's connection to an appwire server.
//
//   ChannelOptions options;
//   options.target = "localhost:19813";
//   options.ca_file = "client/ca.pem";   // or pinned_sha256, or system store
//   absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Connect(options);
//   if (!channel.ok()) { show(channel.status().message()); return; }
//
//   v1::EchoRequest request;
//   request.set_payload("hi");
//   absl::StatusOr<v1::EchoResponse> reply =
//       (*channel)->Call<v1::EchoResponse>("appwire.v1.Echo/Echo", request);
//
// Connect() performs the TCP connection and the TLS 1.3 handshake, verifying
// the server's certificate chain and name, and fails with a message saying
// what is wrong with the certificate (kUnauthenticated) or the connection.
//
// Many calls may be in flight at once on one channel, from any threads:
// blocking (Call), callback (CallAsync) or future (CallFuture). Every call
// completes exactly once, with its response or a status. Callbacks run on the
// channel's I/O thread: keep them short, or hand work to your UI thread.
//
// Once the connection is lost, calls in flight fail with the reason (the
// server's GoAway code, or kUnavailable), and new calls fail with
// kFailedPrecondition; create a new Channel to reconnect.
#ifndef APPWIRE_CLIENT_CHANNEL_H_
#define APPWIRE_CLIENT_CHANNEL_H_

#include <functional>
#include <future>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/parameters.h"
#include "common/tls_version.h"
#include "common/version.h"
#include "google/protobuf/message_lite.h"
#include "transport/tls_session_info.h"

namespace appwire {

struct ChannelOptions {
  // "host:port", "[::1]:port". The port defaults to 19813 when omitted.
  std::string target;
  // The name the server's certificate must carry. Default: the host of
  // `target`. Also sent as SNI when it is a host name.
  std::string server_name;

  // How the server is trusted; at least one is required. Nothing ever
  // silently skips verification.
  std::string ca_file;                  // PEM file of trusted roots
  bool use_system_trust_store = false;  // /etc/ssl/certs
  std::string pinned_sha256;            // "SHA256:AB:CD:..." as the server prints

  // A client folder (client/client_folder.h): its key.pem + cert.pem are
  // this client's identity, its ca.pem the roots trusted for the server,
  // its known_servers the fingerprints pinned on first use; <folder>/<host>/
  // holds per-server overrides. Explicit fields above and below win.
  std::string client_folder;
  // Trust a server that no CA vouches for on first contact, recording its
  // certificate's fingerprint in the client folder's known_servers (as SSH
  // does); from then on only that certificate is accepted. Needs
  // client_folder. Off by default: nothing is trusted silently.
  bool trust_on_first_use = false;

  // This client's own certificate (chain, leaf first) and private key, PEM
  // files, for servers that ask for one (kClientCertificateMode). Both or
  // neither.
  std::string certificate_file;
  std::string private_key_file;
  // The passphrase of an encrypted private_key_file: a file whose first
  // line it is, or an environment variable.
  std::string key_passphrase_file;
  std::string key_passphrase_env;

  // This channel's values of database parameters: TLS versions offered
  // (kMinTlsVersion, kMaxTlsVersion), suites (kTls13CipherSuites,
  // kSslCipherList), groups, kHandshakeTimeout, kMaxMessageSize. Unset ones
  // follow the process-wide values (SetDatabaseParameter) at Connect().
  ParameterOverrides parameters;

  // Bounds the TCP connect. Default 10 s. (The TLS handshake is bounded by
  // kHandshakeTimeout; name resolution uses the system resolver's timeouts.)
  absl::Duration connect_timeout = absl::Seconds(10);

  // Sent in the hello frame.
  std::string software_name = "appwire-client";
  std::string software_version = kSoftwareVersion;
};

struct CallOptions {
  // The call fails with kDeadlineExceeded when no reply came within this;
  // the server is told too. Default: no deadline.
  absl::Duration timeout = absl::InfiniteDuration();
};

class Channel {
 public:
  static absl::StatusOr<std::unique_ptr<Channel>> Connect(const ChannelOptions& options);
  // Fails calls still in flight with kCancelled and closes the connection.
  ~Channel();

  // Untyped calls: serialized request in, serialized response out.
  absl::StatusOr<std::string> CallRaw(absl::string_view method, std::string request,
                                      const CallOptions& options = {});
  void CallRawAsync(absl::string_view method, std::string request, const CallOptions& options,
                    std::function<void(absl::StatusOr<std::string>)> done);

  template <typename Response>
  absl::StatusOr<Response> Call(absl::string_view method,
                                const google::protobuf::MessageLite& request,
                                const CallOptions& options = {}) {
    absl::StatusOr<std::string> bytes = CallRaw(method, request.SerializeAsString(), options);
    return ParseResponse<Response>(method, std::move(bytes));
  }

  template <typename Response>
  void CallAsync(absl::string_view method, const google::protobuf::MessageLite& request,
                 const CallOptions& options,
                 std::function<void(absl::StatusOr<Response>)> done) {
    CallRawAsync(method, request.SerializeAsString(), options,
                 [method = std::string(method), done = std::move(done)](
                     absl::StatusOr<std::string> bytes) {
                   done(ParseResponse<Response>(method, std::move(bytes)));
                 });
  }

  template <typename Response>
  std::future<absl::StatusOr<Response>> CallFuture(absl::string_view method,
                                                   const google::protobuf::MessageLite& request,
                                                   const CallOptions& options = {}) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<Response>>>();
    std::future<absl::StatusOr<Response>> future = promise->get_future();
    CallAsync<Response>(method, request, options,
                        [promise](absl::StatusOr<Response> response) {
                          promise->set_value(std::move(response));
                        });
    return future;
  }

  // Closes the connection (politely: a GoAway, then TLS close_notify).
  void Close();
  bool is_open() const;

  // What the handshake negotiated, and what the server said in its hello
  // (empty until the hello arrived).
  const TlsSessionInfo& session_info() const;
  std::string server_software() const;

  struct Impl;

 private:
  explicit Channel(std::shared_ptr<Impl> impl);

  template <typename Response>
  static absl::StatusOr<Response> ParseResponse(absl::string_view method,
                                                absl::StatusOr<std::string> bytes) {
    if (!bytes.ok()) return bytes.status();
    Response response;
    if (!response.ParseFromString(*bytes)) {
      return absl::InternalError(absl::StrCat("the reply to ", method, " is not a valid ",
                                              response.GetTypeName()));
    }
    return response;
  }

  std::shared_ptr<Impl> impl_;
};

}  // namespace appwire

#endif  // APPWIRE_CLIENT_CHANNEL_H_
