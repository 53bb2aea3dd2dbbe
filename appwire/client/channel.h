// Channel: a desktop app's connection to an appwire server.
//
//   ChannelOptions options;
//   options.target = "localhost:19813";
//   options.ca_file = "client/ca.pem";   // or pinned_sha256, or system store
//   absl::StatusOr<std::shared_ptr<Channel>> channel = Channel::Connect(options);
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
// blocking (Call), callback (CallAsync), future (CallFuture) and streams
// (OpenStream, or the generated stubs). Every call completes exactly once,
// with its response or a status.
//
// The channel keeps itself connected. When the connection is lost (the
// server restarted, the network dropped, a keepalive ping went unanswered)
// calls in flight fail with kUnavailable and the channel reconnects, with
// exponential backoff and jitter between failed attempts, resuming the TLS
// session so a reconnect costs no certificate exchange. When the server
// closes an idle connection or drains (a go-away), the next call reconnects.
// Calls issued meanwhile wait for the connection up to their deadline, or
// fail at once with CallOptions::fail_fast. on_state_change reports each
// state (ChannelState).
//
// Callbacks (async completions, state changes) run on the channel's I/O
// thread unless ChannelOptions::callback_executor hands them elsewhere, e.g.
// to a UI thread's queue.
//
// Destroying the channel (its last shared_ptr going away):
//  - Calls still in flight end with kCancelled ("M failed: the client closed
//    the channel"), and their completions have run before ~Channel returns.
//    With a callback_executor they have been handed to it by then, and run
//    whenever the executor runs them, possibly later: such a completion must
//    capture what it needs, never the channel or state the app frees with it.
//  - No on_state_change runs once ~Channel has returned: the destructor
//    waits for one running on another thread, and one still queued in the
//    callback_executor is dropped when the executor gets to it.
//  - The I/O thread has been joined, and nothing of the channel is left
//    (connections, sockets, timers). Streams (ClientStream) may outlive
//    the channel: their call ended with kCancelled and they hold nothing of
//    it.
//  - A callback may drop the last reference itself: the destructor then runs
//    inside that callback and delivers the completions as above. On the I/O
//    thread it cannot join that thread: the thread ends by itself, and the
//    channel with it, right after the callback returns, running nothing
//    more of the app's.
// Since ~Channel waits for callbacks running elsewhere, a callback must not
// wait for the thread that destroys the channel. And on_state_change or
// callback_executor must not hold the channel's shared_ptr (the channel
// would keep itself alive): give them a weak_ptr.
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
#include "appwire/client/backoff.h"
#include "appwire/client/cancellation.h"
#include "appwire/client/client_stream.h"
#include "appwire/client/connectivity_state.h"
#include "appwire/common/export.h"
#include "appwire/common/metadata.h"
#include "appwire/common/method_kind.h"
#include "appwire/common/parameters.h"
#include "appwire/common/tls_version.h"
#include "appwire/common/version.h"
#include "google/protobuf/message_lite.h"
#include "appwire/transport/tls_session_info.h"

namespace appwire {

struct APPWIRE_EXPORT ChannelOptions {
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

  // A client folder (appwire/client/client_folder.h): its key.pem + cert.pem are
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
  // kSslCipherList), groups, kHandshakeTimeout, kMaxMessageSize,
  // kKeepaliveInterval, kKeepaliveTimeout (read at Connect()) and
  // kMaxMetadataSize (read at each call). Unset ones follow the
  // process-wide values (SetDatabaseParameter). The channel keeps a
  // snapshot of them (appwire/common/parameters.h), taken again only after a
  // process-wide value changed, so calls take no process-wide lock.
  ParameterOverrides parameters;

  // Reconnection after a lost connection (see above).
  ReconnectBackoff reconnect_backoff;
  // Called on every state change, with the reason for kTransientFailure
  // (OK otherwise). Through callback_executor when set. Never after ~Channel
  // returned (see "Destroying the channel" above).
  std::function<void(ChannelState state, const absl::Status& reason)> on_state_change;
  // Runs callbacks: async call completions and on_state_change. Empty: the
  // channel's I/O thread runs them (keep them short). Give e.g.
  //   [ui](std::function<void()> f) { ui->Post(std::move(f)); }
  // to have them on your UI thread. Blocking calls never go through it.
  // Callbacks handed to it may still be queued there when the channel is
  // destroyed: completions then run later, state changes are dropped.
  std::function<void(std::function<void()>)> callback_executor;

  // Bounds the TCP connect. Default 10 s. (The TLS handshake is bounded by
  // kHandshakeTimeout; name resolution uses the system resolver's timeouts.)
  absl::Duration connect_timeout = absl::Seconds(10);

  // Sent in the hello frame.
  std::string software_name = "appwire-client";
  std::string software_version = kSoftwareVersion;
};

struct APPWIRE_EXPORT CallOptions {
  // The call fails with kDeadlineExceeded when no reply came within this,
  // whether it was sent, still waiting for a connection, or the server
  // never answers; the server is told and cancels its handler. Default: no
  // deadline.
  absl::Duration timeout = absl::InfiniteDuration();
  // When the channel is not connected (kTransientFailure): fail at once
  // with kUnavailable and the reason, instead of waiting for the
  // connection up to the deadline.
  bool fail_fast = false;
  // Request headers (appwire/common/metadata.h).
  Metadata metadata;
  // Cancels the call from any thread (appwire/client/cancellation.h).
  std::shared_ptr<CancellationToken> cancellation;
  // Unary calls: when set, receives the server's response trailers before
  // the call completes; must outlive the call. (Streams have trailers().)
  Metadata* trailers = nullptr;
};

class APPWIRE_EXPORT Channel {
 public:
  // Connects once before returning, so a wrong address, certificate or
  // setting is reported here, with what to fix.
  static absl::StatusOr<std::shared_ptr<Channel>> Connect(const ChannelOptions& options);
  // Fails calls still in flight with kCancelled, delivering their
  // completions, closes the connection, and returns once nothing of the
  // channel is left running (see "Destroying the channel" above).
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

  // A streaming call (appwire/client/client_stream.h). `request` is the request of
  // a server-streaming call; the other kinds send theirs with Write().
  // Waits for a connection like a unary call; a call that cannot start
  // gives a stream whose Finish() says why.
  std::unique_ptr<ClientStream> OpenStream(absl::string_view method, MethodKind kind,
                                           std::string request, const CallOptions& options = {});

  // Closes the connection (politely: a GoAway, then TLS close_notify);
  // state kShutdown. Calls fail with kFailedPrecondition afterwards.
  void Close();
  bool is_open() const;
  ChannelState state() const;
  // Waits until the state is kReady (OK), the channel is shut down, or
  // `timeout` passes (kDeadlineExceeded with the last connection error).
  // Starts connecting when idle.
  absl::Status WaitForReady(absl::Duration timeout);

  // What the handshake of the current (or last) connection negotiated, and
  // what the server said in its hello (empty until the hello arrived).
  TlsSessionInfo session_info() const;
  std::string server_software() const;
  // Connections made since Connect(), the first included.
  int connections_made() const;

  struct APPWIRE_HIDDEN Impl;

 private:
  explicit Channel(std::shared_ptr<Impl> impl);
  void StartUnary(absl::string_view method, std::string request, const CallOptions& options,
                  std::function<void(absl::StatusOr<std::string>)> done);

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
