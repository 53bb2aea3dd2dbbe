#include "appwire/transport/internal/tls_session.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <asio/ip/address.hpp>

#include "absl/strings/str_cat.h"
#include "appwire/transport/internal/x509_names.h"
#include "appwire/transport/tls_failure.h"

namespace appwire::internal {
namespace {

// What inet_pton(AF_INET or AF_INET6) accepts: Asio parses the same way on
// every platform, and also takes a scope ("fe80::1%eth0"), which inet_pton
// does not (and which is no name to verify a certificate against).
bool IsIpAddress(const std::string& name) {
  std::error_code error;
  asio::ip::make_address(name, error);
  return !error && name.find('%') == std::string::npos;
}

// wolfSSL reports its own suite names ("TLS13-AES128-GCM-SHA256"); users
// and other TLS stacks know the IANA ones ("TLS_AES_128_GCM_SHA256").
std::string IanaCipherName(absl::string_view name) {
  static constexpr std::pair<absl::string_view, absl::string_view> kNames[] = {
      {"TLS13-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"},
      {"TLS13-AES256-GCM-SHA384", "TLS_AES_256_GCM_SHA384"},
      {"TLS13-CHACHA20-POLY1305-SHA256", "TLS_CHACHA20_POLY1305_SHA256"},
      {"TLS13-AES128-CCM-SHA256", "TLS_AES_128_CCM_SHA256"},
      {"ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
      {"ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
      {"ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
      {"ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
      {"ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
      {"ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
      {"DHE-RSA-AES128-GCM-SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
      {"DHE-RSA-AES256-GCM-SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
      {"DHE-RSA-CHACHA20-POLY1305", "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
  };
  for (const auto& [wolf, iana] : kNames) {
    if (name == wolf) return std::string(iana);
  }
  return std::string(name);
}

// wolfSSL's certificate manager verifies `der` on its own: signature
// chain to a trusted CA (or to an intermediate this handshake verified),
// dates, and the CRL when one is loaded. WOLFSSL_SUCCESS, or its error.
int VerifyWithCertificateManager(const TlsContext& context, const WOLFSSL_BUFFER_INFO& der) {
  WOLFSSL_CERT_MANAGER* manager = wolfSSL_CTX_GetCertManager(context.native_handle());
  if (manager == nullptr || der.buffer == nullptr) return VERIFY_CERT_ERROR;
  return wolfSSL_CertManagerVerifyBuffer(manager, der.buffer, static_cast<long>(der.length),
                                         WOLFSSL_FILETYPE_ASN1);
}

}  // namespace

void EnsureWolfSslInitialized() {
  static std::once_flag once;
  std::call_once(once, [] {
#ifdef APPWIRE_WOLFSSL_BUILD_CHECK
    // Referencing the build's own symbol: a libwolfssl.a from another
    // configure run does not define it, and the link fails.
    volatile const char* build = APPWIRE_WOLFSSL_BUILD_SYMBOL;
    (void)build;
#endif
    // Debian's binary package: headers and library come from one package,
    // but a partial upgrade could still mix versions. Refuse to run then.
    if (wolfSSL_lib_version_hex() != LIBWOLFSSL_VERSION_HEX) {
      std::fprintf(stderr,
                   "appwire: wolfSSL library %s does not match the headers appwire was "
                   "built with (%s); rebuild appwire\n",
                   wolfSSL_lib_version(), LIBWOLFSSL_VERSION_STRING);
      std::abort();
    }
    wolfSSL_Init();
  });
}

int VerifyCallback(int preverify_ok, WOLFSSL_X509_STORE_CTX* store) {
  WOLFSSL* ssl = static_cast<WOLFSSL*>(wolfSSL_X509_STORE_CTX_get_ex_data(
      store, wolfSSL_get_ex_data_X509_STORE_CTX_idx()));
  TlsSession* session =
      ssl != nullptr ? static_cast<TlsSession*>(wolfSSL_GetIOReadCtx(ssl)) : nullptr;
  if (session == nullptr) session = static_cast<TlsSession*>(store->userCtx);
  if (preverify_ok) return 1;
  // With a pinned fingerprint (or trust on first use) the chain does not
  // matter: the pin is checked once the handshake is done, before any data
  // is sent. Nothing is recorded as a failure then.
  if (session != nullptr && (!session->context().pinned_sha256_raw().empty() ||
                             session->context().options().trust_on_first_use)) {
    return 1;
  }
  int error = store->error;
  // A wolfSSL server refuses X.509 version 1 and 2 client certificates
  // (RFC 8446 4.4.2.3 asks for version 3), which `openssl x509 -req`
  // without -extfile makes and which OpenSSL and BoringSSL (so gRPC)
  // accept (defect 17). wolfSSL leaves that refusal to this callback, but
  // reports the same ASN_VERSION_E for a version 1 certificate that carries
  // extensions, which it could not parse, let alone verify. So the leaf is
  // verified again by the certificate manager: accepted only when that
  // succeeds, else its own reason is the one reported.
  if (error == ASN_VERSION_E && store->error_depth == 0 && session != nullptr &&
      session->context().options().role == TlsRole::kServer &&
      session->failure_.verify_error == 0 && store->certs != nullptr && store->totalCerts > 0) {
    const int verified = VerifyWithCertificateManager(session->context(), store->certs[0]);
    if (verified == WOLFSSL_SUCCESS) return 1;
    error = verified;
  }
  if (session != nullptr && session->failure_.verify_error == 0) {
    session->failure_.verify_error = error;
    session->failure_.verify_depth = store->error_depth;
    if (store->current_cert != nullptr) {
      session->failure_.failed_certificate =
          std::make_shared<const CertificateInfo>(DescribeX509(store->current_cert));
    } else if (store->certs != nullptr && store->error_depth >= 0 &&
               store->error_depth < store->totalCerts) {
      // Builds without the full OpenSSL layer pass the chain as DER only.
      const WOLFSSL_BUFFER_INFO& der = store->certs[store->error_depth];
      WOLFSSL_X509* x509 = wolfSSL_X509_load_certificate_buffer(
          der.buffer, static_cast<int>(der.length), WOLFSSL_FILETYPE_ASN1);
      if (x509 != nullptr) {
        session->failure_.failed_certificate =
            std::make_shared<const CertificateInfo>(DescribeX509(x509));
        wolfSSL_X509_free(x509);
      }
    }
  }
  return 0;
}

absl::StatusOr<std::unique_ptr<TlsSession>> TlsSession::Create(
    std::shared_ptr<const TlsContext> context, std::string peer_address,
    std::string server_name) {
  std::unique_ptr<TlsSession> session(new TlsSession());
  session->ssl_ = wolfSSL_new(context->native_handle());
  if (session->ssl_ == nullptr) {
    return absl::ResourceExhaustedError("wolfSSL_new failed (out of memory?)");
  }
  const TlsOptions& options = context->options();
  session->context_ = std::move(context);
  session->peer_address_ = std::move(peer_address);
  session->server_name_ = std::move(server_name);
  session->failure_.role = options.role;
  session->failure_.peer_address = session->peer_address_;
  session->failure_.expected_server_name = session->server_name_;
  session->failure_.min_version = options.min_version;
  session->failure_.max_version = options.max_version;

  WOLFSSL* ssl = session->ssl_;
  wolfSSL_SSLSetIORecv(ssl, &TlsSession::Receive);
  wolfSSL_SSLSetIOSend(ssl, &TlsSession::Send);
  wolfSSL_SetIOReadCtx(ssl, session.get());
  wolfSSL_SetIOWriteCtx(ssl, session.get());
  // Reaches VerifyCallback as store->userCtx.
  wolfSSL_SetCertCbCtx(ssl, session.get());

  std::string alpn = options.alpn_protocol;
  if (wolfSSL_UseALPN(ssl, &alpn[0], static_cast<unsigned int>(alpn.size()),
                      options.require_alpn ? WOLFSSL_ALPN_FAILED_ON_MISMATCH
                                           : WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) != WOLFSSL_SUCCESS) {
    return absl::InternalError("wolfSSL_UseALPN failed");
  }
  if (options.role == TlsRole::kClient) {
    const std::string& name = session->server_name_;
    if (name.empty()) {
      return absl::InvalidArgumentError(
          "a TLS client needs the server's expected name (host name or IP)");
    }
    if (IsIpAddress(name)) {
      WOLFSSL_X509_VERIFY_PARAM* param = wolfSSL_get0_param(ssl);
      if (wolfSSL_X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != WOLFSSL_SUCCESS) {
        return absl::InvalidArgumentError(absl::StrCat("bad IP address \"", name, "\""));
      }
    } else {
      if (wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, name.data(),
                         static_cast<unsigned short>(name.size())) != WOLFSSL_SUCCESS ||
          wolfSSL_check_domain_name(ssl, name.c_str()) != WOLFSSL_SUCCESS) {
        return absl::InternalError("setting the server name failed");
      }
    }
  }
  return session;
}

TlsSession::~TlsSession() {
  if (ssl_ != nullptr) wolfSSL_free(ssl_);
}

int TlsSession::Receive(WOLFSSL*, char* buffer, int size, void* self) {
  auto* session = static_cast<TlsSession*>(self);
  size_t available = session->input_end_ - session->input_begin_;
  if (available == 0) return WOLFSSL_CBIO_ERR_WANT_READ;
  size_t n = std::min(available, static_cast<size_t>(size));
  std::memcpy(buffer, session->input_.get() + session->input_begin_, n);
  session->input_begin_ += n;
  if (session->input_begin_ == session->input_end_) {
    // Consumed: free it, so that idle connections cost no buffer.
    session->input_.reset();
    session->input_capacity_ = session->input_begin_ = session->input_end_ = 0;
  }
  return static_cast<int>(n);
}

int TlsSession::Send(WOLFSSL*, char* buffer, int size, void* self) {
  static_cast<TlsSession*>(self)->output_.append(buffer, static_cast<size_t>(size));
  return size;
}

void TlsSession::TrimInput() {
  if (input_end_ > input_begin_) return;  // part of a record: its room stays
  input_.reset();
  input_capacity_ = input_begin_ = input_end_ = 0;
}

char* TlsSession::PrepareInput(size_t size) {
  size_t used = input_end_ - input_begin_;
  if (input_capacity_ - input_end_ < size) {
    size_t capacity = std::max(used + size, 2 * input_capacity_);
    std::unique_ptr<char[]> grown(new char[capacity]);
    if (used > 0) std::memcpy(grown.get(), input_.get() + input_begin_, used);
    input_ = std::move(grown);
    input_capacity_ = capacity;
    input_begin_ = 0;
    input_end_ = used;
  }
  return input_.get() + input_end_;
}

void TlsSession::CommitInput(size_t size) {
  if (!first_bytes_recorded_ && size > 0) {
    failure_.first_bytes.assign(input_.get() + input_end_, std::min<size_t>(size, 16));
    first_bytes_recorded_ = true;
  }
  input_end_ += size;
}

void TlsSession::Feed(const char* data, size_t size) {
  // Nothing to add: an idle session has no input buffer, and memcpy must
  // not be given its null pointer even for no bytes (UBSan).
  if (size == 0) return;
  std::memcpy(PrepareInput(size), data, size);
  CommitInput(size);
}

absl::Status TlsSession::Failure(int ret, absl::string_view operation) {
  int error = wolfSSL_get_error(ssl_, ret);
  WOLFSSL_ALERT_HISTORY history;
  if (wolfSSL_get_alert_history(ssl_, &history) == WOLFSSL_SUCCESS &&
      history.last_rx.code >= 0 && history.last_rx.level >= 0) {
    failure_.alert_received = history.last_rx.code;
  }
  failure_.operation = std::string(operation);
  return TlsErrorToStatus(error, failure_);
}

absl::StatusOr<bool> TlsSession::Handshake() {
  const bool server = context_->options().role == TlsRole::kServer;
  int ret = server ? wolfSSL_accept(ssl_) : wolfSSL_connect(ssl_);
  if (ret == WOLFSSL_SUCCESS) {
    absl::Status status = CheckPeerAfterHandshake();
    if (!status.ok()) return status;
    return true;
  }
  int error = wolfSSL_get_error(ssl_, ret);
  if (error == WOLFSSL_ERROR_WANT_READ || error == WOLFSSL_ERROR_WANT_WRITE) {
    return false;
  }
  return Failure(ret, "TLS handshake");
}

absl::Status TlsSession::CheckPeerAfterHandshake() {
  const bool client = context_->options().role == TlsRole::kClient;
  char* protocol = nullptr;
  unsigned short length = 0;
  const std::string& wanted_alpn = context_->options().alpn_protocol;
  if (context_->options().require_alpn &&
      (wolfSSL_ALPN_GetProtocol(ssl_, &protocol, &length) != WOLFSSL_SUCCESS ||
       absl::string_view(protocol, length) != wanted_alpn)) {
    Shutdown();
    return WithTlsFailure(
        absl::FailedPreconditionError(absl::StrCat(
            "TLS handshake with ", peer_address_, " failed: the ", client ? "server" : "client",
            " did not negotiate ALPN \"", wanted_alpn, "\"; it is not an appwire ",
            client ? "server" : "client", " (or an old one)")),
        TlsFailure{TlsFailure::Kind::kNoApplicationProtocol, "", -1});
  }
  const std::string& pin = context_->pinned_sha256_raw();
  // A resumed session presents no certificate: the pin was checked on the
  // full handshake that made the session (a connection that failed it never
  // got to save one), and the resumption proves the server is that one.
  // Checking again here refused every reconnect of a pinned channel.
  if (client && !pin.empty() && wolfSSL_session_reused(ssl_) == 0) {
    const CertificateInfo* presented = PeerCertificate();
    const CertificateInfo info = presented != nullptr ? *presented : CertificateInfo();
    std::string expected = FormatSha256Fingerprint(pin);
    if (info.sha256_fingerprint != expected) {
      Shutdown();
      return WithTlsFailure(
          absl::UnauthenticatedError(absl::StrCat(
          "TLS handshake with ", peer_address_,
          " failed: the server's certificate does not match the pinned "
          "fingerprint: expected ", expected, ", the server presented ",
          info.sha256_fingerprint.empty() ? "none" : info.sha256_fingerprint,
          " ('", info.subject, "'); if the server's certificate was replaced "
          "on purpose, update the pinned fingerprint")),
          TlsFailure{TlsFailure::Kind::kPinMismatch, info.sha256_fingerprint});
    }
  }
  return absl::OkStatus();
}

absl::Status TlsSession::Read(std::string* plaintext) {
  constexpr size_t kChunk = 16 * 1024 + 256;  // one TLS record, with room
  // Small messages are decrypted into a per-thread scratch buffer and
  // appended, so that a connection's buffer only grows to what it holds
  // (idle connections stay small); a buffer already large enough (bulk
  // transfers) is decrypted into directly.
  thread_local std::unique_ptr<char[]> scratch(new char[kChunk]);
  const size_t size_before = plaintext->size();
  if (!deferred_error_.ok()) return deferred_error_;
  for (;;) {
    const size_t old_size = plaintext->size();
    const bool direct = plaintext->capacity() - old_size >= kChunk;
    char* target = scratch.get();
    if (direct) {
      plaintext->resize(old_size + kChunk);
      target = &(*plaintext)[old_size];
    }
    int ret = wolfSSL_read(ssl_, target, static_cast<int>(kChunk));
    if (direct) plaintext->resize(old_size + static_cast<size_t>(std::max(ret, 0)));
    if (ret > 0) {
      if (!direct) plaintext->append(target, static_cast<size_t>(ret));
      continue;
    }
    int error = wolfSSL_get_error(ssl_, ret);
    if (error == WOLFSSL_ERROR_WANT_READ || error == WOLFSSL_ERROR_WANT_WRITE) {
      return absl::OkStatus();
    }
    deferred_error_ = error == WOLFSSL_ERROR_ZERO_RETURN
                          ? absl::UnavailableError(absl::StrCat(
                                "connection with ", peer_address_, " closed by the peer"))
                          : Failure(ret, "TLS read");
    // What arrived before the end (often a GoAway saying why) goes first.
    return plaintext->size() > size_before ? absl::OkStatus() : deferred_error_;
  }
}

absl::Status TlsSession::Write(absl::string_view data) {
  // Room for the ciphertext up front: records of 16 KiB, each with a
  // header and tag, so the output buffer is not regrown record by record.
  output_.reserve(output_.size() + data.size() + (data.size() / 16384 + 1) * 64);
  size_t offset = 0;
  while (offset < data.size()) {
    int ret = wolfSSL_write(ssl_, data.data() + offset,
                            static_cast<int>(std::min<size_t>(data.size() - offset, 1u << 30)));
    if (ret <= 0) return Failure(ret, "TLS write");
    offset += static_cast<size_t>(ret);
  }
  return absl::OkStatus();
}

void TlsSession::Shutdown() { wolfSSL_shutdown(ssl_); }

TlsSessionInfo TlsSession::Info() const {
  TlsSessionInfo info;
  info.peer_address = peer_address_;
  const char* version = wolfSSL_get_version(ssl_);
  if (version != nullptr) info.version = version;
  const char* cipher = wolfSSL_get_cipher_name(ssl_);
  if (cipher != nullptr) info.cipher = IanaCipherName(cipher);
  if (context_->options().role == TlsRole::kServer) {
    info.server_name = requested_server_name_;
    if (info.server_name.empty()) {
      void* sni = nullptr;
      unsigned short sni_length = wolfSSL_SNI_GetRequest(ssl_, WOLFSSL_SNI_HOST_NAME, &sni);
      if (sni != nullptr) info.server_name.assign(static_cast<const char*>(sni), sni_length);
    }
  } else {
    info.server_name = server_name_;
  }
  char* protocol = nullptr;
  unsigned short length = 0;
  if (wolfSSL_ALPN_GetProtocol(ssl_, &protocol, &length) == WOLFSSL_SUCCESS) {
    info.alpn.assign(protocol, length);
  }
  info.resumed = wolfSSL_session_reused(ssl_) == 1;
  if (const CertificateInfo* peer = PeerCertificate()) info.peer_certificate = *peer;
  return info;
}

const CertificateInfo* TlsSession::PeerCertificate() const {
  if (!peer_described_) {
    peer_described_ = true;
    if (WOLFSSL_X509* peer = wolfSSL_get_peer_certificate(ssl_)) {
      peer_certificate_ = std::make_unique<const CertificateInfo>(DescribeX509(peer));
      wolfSSL_X509_free(peer);
    }
  }
  return peer_certificate_.get();
}

}  // namespace appwire::internal
