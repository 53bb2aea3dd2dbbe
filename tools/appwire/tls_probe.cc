#include "tools/appwire/tls_probe.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "appwire/transport/internal/tls_session.h"
#include "appwire/transport/tls_context.h"
#include "appwire/transport/tls_failure.h"

namespace appwire {
namespace {

int ConnectBlocking(const std::string& host, int port, std::string* error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int ret = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (ret != 0) {
    *error = absl::StrCat("cannot resolve ", host, ": ", gai_strerror(ret));
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      *error = absl::StrCat("cannot connect to ", host, ":", port, ": ", std::strerror(errno));
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

}  // namespace

absl::StatusOr<ProbeResult> ProbeHandshake(const std::string& host, int port,
                                           const ProbeAttempt& attempt) {
  TlsOptions options;
  options.role = TlsRole::kClient;
  options.min_version = attempt.min_version;
  options.max_version = attempt.max_version;
  options.tls13_cipher_suites = attempt.tls13_cipher_suites;
  options.tls12_cipher_list = attempt.tls12_cipher_list;
  options.allow_non_forward_secret = true;  // we ask, we do not serve
  options.key_exchange_groups = attempt.key_exchange_groups;
  options.trust_on_first_use = true;        // any certificate: we only look
  options.require_alpn = false;             // report it instead
  absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::Create(options);
  if (!context.ok()) return context.status();
  std::string error;
  int fd = ConnectBlocking(host, port, &error);
  if (fd < 0) return absl::UnavailableError(error);
  const std::string peer = absl::StrCat(host, ":", port);
  absl::StatusOr<std::unique_ptr<internal::TlsSession>> session = internal::TlsSession::Create(
      *context, peer, attempt.server_name.empty() ? host : attempt.server_name);
  if (!session.ok()) {
    ::close(fd);
    return session.status();
  }
  if (attempt.resume != nullptr) {
    (*session)->Resume(static_cast<WOLFSSL_SESSION*>(attempt.resume.get()));
  }
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(attempt.timeout));
  absl::StatusOr<ProbeResult> result = absl::DeadlineExceededError(
      absl::StrCat("TLS handshake with ", peer, " did not finish within ",
                   absl::FormatDuration(attempt.timeout)));
  for (int round = 0; round < 64; ++round) {
    absl::StatusOr<bool> done = (*session)->Handshake();
    std::string& output = (*session)->output();
    if (!output.empty()) {
      ssize_t sent = ::send(fd, output.data(), output.size(), MSG_NOSIGNAL);
      (void)sent;
      output.clear();
    }
    if (!done.ok()) {
      result = done.status();
      break;
    }
    if (*done) {
      ProbeResult probe;
      probe.session = (*session)->Info();
      // A TLS 1.3 server judges our (absent) certificate after the
      // handshake: listen briefly for its verdict.
      pollfd verdict{fd, POLLIN, 0};
      if (::poll(&verdict, 1, 300) > 0) {
        char* room = (*session)->PrepareInput(16 * 1024);
        ssize_t n = ::recv(fd, room, 16 * 1024, 0);
        if (n > 0) {
          (*session)->CommitInput(static_cast<size_t>(n));
          std::string ignored;
          absl::Status read = (*session)->Read(&ignored);
          if (read.ok()) read = (*session)->end_reason();
          // We presented no certificate, so any certificate alert
          // (certificate_required from TLS 1.3 servers) means one is needed.
          const std::optional<TlsFailure> failure = GetTlsFailure(read);
          probe.client_certificate_required =
              failure.has_value() && failure->kind == TlsFailure::Kind::kPeerRefusedCertificate;
        }
      }
      // Taken after the post-handshake read, which carries TLS 1.3 tickets.
      WOLFSSL_SESSION* saved = (*session)->SavedSession();
      if (saved != nullptr) {
        probe.session_for_resumption = std::shared_ptr<void>(
            saved, [](void* s) { wolfSSL_SESSION_free(static_cast<WOLFSSL_SESSION*>(s)); });
      }
      result = probe;
      break;
    }
    pollfd wait{fd, POLLIN, 0};
    if (::poll(&wait, 1, timeout_ms) <= 0) break;
    char* room = (*session)->PrepareInput(16 * 1024);
    ssize_t n = ::recv(fd, room, 16 * 1024, 0);
    if (n <= 0) {
      result = absl::UnavailableError(
          absl::StrCat("TLS handshake with ", peer, " failed: the server closed the connection"));
      break;
    }
    (*session)->CommitInput(static_cast<size_t>(n));
  }
  ::close(fd);
  return result;
}

}  // namespace appwire
