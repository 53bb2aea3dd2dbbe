#include "tests/raw_frame_client.h"

#include <sys/socket.h>

#include <chrono>
#include <future>
#include <limits>

#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "appwire/common/files.h"
#include "appwire/transport/frame_codec.h"
#include "appwire/transport/tls_context.h"
#include "appwire/transport/tls_stream.h"

namespace appwire::testing {
namespace {

// What the client accepts from the server: anything a server may send.
FrameLimits ReceiveLimits() {
  FrameLimits limits;
  limits.max_message_bytes = size_t{1} << 31;
  limits.max_header_bytes = size_t{1} << 20;
  return limits;
}

std::chrono::steady_clock::time_point DeadlineAfter(absl::Duration timeout) {
  return std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
}

}  // namespace

RawFrameClient::RawFrameClient(int port, const std::string& ca_file)
    : RawFrameClient(port, ca_file, Options()) {}

RawFrameClient::RawFrameClient(int port, const std::string& ca_file, Options options)
    : options_(std::move(options)) {
  reading_ = options_.start_reading;
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });

  absl::StatusOr<std::string> ca = ReadFile(ca_file);
  if (!ca.ok()) {
    status_ = ca.status();
    return;
  }
  TlsOptions tls;
  tls.role = TlsRole::kClient;
  tls.trusted_ca_pem = *ca;
  tls.handshake_timeout = options_.handshake_timeout;
  absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::Create(tls);
  if (!context.ok()) {
    status_ = context.status();
    return;
  }
  asio::ip::tcp::socket socket(io_);
  std::error_code error;
  socket.open(asio::ip::tcp::v4(), error);
  if (!error && options_.receive_buffer_bytes > 0) {
    socket.set_option(asio::socket_base::receive_buffer_size(options_.receive_buffer_bytes),
                      error);
  }
  if (!error) {
    socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                           static_cast<unsigned short>(port)),
                   error);
  }
  if (error) {
    status_ = absl::UnavailableError(
        absl::StrCat("cannot connect to 127.0.0.1:", port, ": ", error.message()));
    return;
  }
  fd_ = socket.native_handle();
  asio::ip::tcp::endpoint local = socket.local_endpoint(error);
  local_address_ = absl::StrCat(local.address().to_string(), ":", local.port());
  absl::StatusOr<std::shared_ptr<TlsStream>> stream =
      TlsStream::Create(std::move(socket), *context, options_.server_name);
  if (!stream.ok()) {
    status_ = stream.status();
    return;
  }
  stream_ = *stream;
  Handshake();
}

RawFrameClient::RawFrameClient(const StreamFactory& connect)
    : RawFrameClient(connect, Options()) {}

RawFrameClient::RawFrameClient(const StreamFactory& connect, Options options)
    : options_(std::move(options)) {
  reading_ = options_.start_reading;
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
  stream_ = connect(io_);
  local_address_ = "in memory";
  Handshake();
}

void RawFrameClient::Handshake() {
  auto handshake = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> done = handshake->get_future();
  asio::post(io_, [this, handshake] {
    stream_->AsyncHandshake([handshake](absl::Status s) { handshake->set_value(s); });
  });
  if (done.wait_for(absl::ToChronoNanoseconds(options_.handshake_timeout + absl::Seconds(2))) !=
      std::future_status::ready) {
    status_ = absl::DeadlineExceededError("the TLS handshake did not finish in time");
    return;
  }
  status_ = done.get();
  if (!status_.ok()) return;
  if (stream_->info().alpn != "appwire/1") {
    status_ = absl::FailedPreconditionError(
        absl::StrCat("ALPN \"", stream_->info().alpn, "\" was negotiated, not appwire/1"));
    return;
  }
  asio::post(io_, [this] { Read(); });
}

RawFrameClient::~RawFrameClient() {
  if (stream_ != nullptr) {
    std::promise<void> closed;
    asio::post(io_, [this, &closed] {
      stream_->Close();
      closed.set_value();
    });
    closed.get_future().wait_for(std::chrono::seconds(5));
  }
  work_.reset();
  io_.stop();
  thread_.join();
  stream_.reset();
}

void RawFrameClient::Read() {
  if (!reading_.load() || read_pending_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
  }
  read_pending_ = true;
  stream_->AsyncRead(&read_buffer_, [this](absl::Status status) {
    read_pending_ = false;
    OnRead(status);
  });
}

void RawFrameClient::OnRead(const absl::Status& status) {
  // Decode what came, even with the end of the connection: a server that
  // closes on purpose sends its GoAway right before close_notify.
  size_t offset = 0;
  std::deque<DecodedHeader> decoded;
  absl::Status bad;
  const FrameLimits limits = ReceiveLimits();
  for (;;) {
    DecodedFrame frame;
    size_t consumed = 0;
    absl::string_view input(read_buffer_);
    input.remove_prefix(offset);
    absl::Status s = DecodeFrame(input, limits, &frame, &consumed);
    if (!s.ok()) {
      bad = absl::DataLossError(absl::StrCat("the server sent a bad frame: ", s.message()));
      break;
    }
    if (consumed == 0) break;
    frames_received_.fetch_add(1);
    const bool keep = !options_.discard_data_frames || frame.header.has_go_away();
    if (keep) {
      DecodedHeader out;
      out.header = frame.header;
      out.payload = std::string(frame.payload);
      out.raw = std::string(input.substr(0, consumed));
      decoded.push_back(std::move(out));
    }
    offset += consumed;
  }
  read_buffer_.erase(0, offset);
  bool end = !status.ok() || !bad.ok();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& frame : decoded) frames_.push_back(std::move(frame));
    if (end && !closed_) {
      closed_ = true;
      close_reason_ = !bad.ok() ? bad : status;
    }
  }
  changed_.notify_all();
  if (end) {
    stream_->Close();
    return;
  }
  Read();
}

absl::Status RawFrameClient::SendBytes(absl::string_view bytes) {
  if (stream_ == nullptr) return status_.ok() ? absl::UnavailableError("no stream") : status_;
  absl::Status s = stream_->Write(bytes);
  if (s.ok()) bytes_sent_.fetch_add(bytes.size());
  return s;
}

absl::Status RawFrameClient::SendFrame(const v1::FrameHeader& header, absl::string_view payload) {
  return SendBytes(Frame(header, payload));
}

size_t RawFrameClient::queued_bytes() const {
  return stream_ != nullptr ? stream_->queued_bytes() : 0;
}

bool RawFrameClient::WaitQueueBelow(size_t max_queued, absl::Duration timeout) const {
  const absl::Time end = absl::Now() + timeout;
  while (queued_bytes() > max_queued) {
    if (closed() || absl::Now() >= end) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

absl::Status RawFrameClient::SendPaced(absl::string_view bytes, size_t max_queued,
                                       absl::Duration stall, size_t* sent) {
  constexpr size_t kChunk = 64 * 1024;
  size_t done = 0;
  absl::Status result;
  while (done < bytes.size()) {
    if (!WaitQueueBelow(max_queued, stall)) {
      result = closed() ? close_reason()
                        : absl::DeadlineExceededError(absl::StrCat(
                              "the server took nothing for ", absl::FormatDuration(stall),
                              " after ", done, " bytes"));
      if (result.ok()) result = absl::UnavailableError("closed");
      break;
    }
    const size_t n = std::min(kChunk, bytes.size() - done);
    result = SendBytes(bytes.substr(done, n));
    if (!result.ok()) break;
    done += n;
  }
  if (sent != nullptr) *sent = done;
  return result;
}

absl::Status RawFrameClient::SendHello(uint32_t protocol_version, uint64_t max_message_bytes,
                                       absl::string_view payload) {
  v1::FrameHeader header;
  v1::Hello* hello = header.mutable_hello();
  hello->set_protocol_version(protocol_version);
  hello->set_software_name("raw-frame-client");
  hello->set_max_message_bytes(max_message_bytes);
  return SendFrame(header, payload);
}

absl::Status RawFrameClient::SendRequest(uint64_t call_id, const std::string& method,
                                         absl::string_view payload, MethodKind kind,
                                         uint64_t timeout_micros) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  v1::RequestHeader* request = header.mutable_request();
  request->set_method(method);
  request->set_kind(static_cast<v1::MethodKind>(kind));
  request->set_timeout_micros(timeout_micros);
  return SendFrame(header, payload);
}

absl::Status RawFrameClient::SendMessage(uint64_t call_id, absl::string_view payload) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  header.mutable_message();
  return SendFrame(header, payload);
}

absl::Status RawFrameClient::SendHalfClose(uint64_t call_id, absl::string_view payload) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  header.mutable_half_close();
  return SendFrame(header, payload);
}

absl::Status RawFrameClient::SendCancel(uint64_t call_id, absl::string_view payload) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  header.mutable_cancel();
  return SendFrame(header, payload);
}

absl::Status RawFrameClient::SendWindowUpdate(uint64_t call_id, uint64_t bytes,
                                              absl::string_view payload) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  header.mutable_window_update()->set_bytes(bytes);
  return SendFrame(header, payload);
}

absl::Status RawFrameClient::SendPing(uint64_t opaque, bool ack, absl::string_view payload) {
  v1::FrameHeader header;
  header.mutable_ping()->set_opaque(opaque);
  header.mutable_ping()->set_ack(ack);
  return SendFrame(header, payload);
}

absl::Status RawFrameClient::SendGoAway(bool graceful, int status_code,
                                        const std::string& message, absl::string_view payload) {
  v1::FrameHeader header;
  v1::GoAway* go_away = header.mutable_go_away();
  go_away->set_status_code(status_code);
  go_away->set_status_message(message);
  go_away->set_graceful(graceful);
  return SendFrame(header, payload);
}

absl::StatusOr<DecodedHeader> RawFrameClient::NextFrame(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_until(lock, DeadlineAfter(timeout),
                      [this] { return !frames_.empty() || closed_; });
  if (!frames_.empty()) {
    DecodedHeader frame = std::move(frames_.front());
    frames_.pop_front();
    return frame;
  }
  if (closed_) {
    return absl::UnavailableError(
        absl::StrCat("the connection ended without another frame: ", close_reason_.ToString()));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("no frame from the server within ", absl::FormatDuration(timeout)));
}

absl::StatusOr<DecodedHeader> RawFrameClient::NextResponse(uint64_t call_id,
                                                           absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  for (;;) {
    absl::StatusOr<DecodedHeader> frame = NextFrame(std::max(end - absl::Now(),
                                                             absl::ZeroDuration()));
    if (!frame.ok()) return frame.status();
    if (frame->header.has_go_away()) {
      return absl::AbortedError(absl::StrCat("a GoAway came instead of the response to call ",
                                             call_id, ": ", frame->header.ShortDebugString()));
    }
    if (frame->header.has_response() && frame->header.call_id() == call_id) return frame;
    if (frame->header.has_response()) {
      // A response for another call: not what the test waits for, and
      // tests that pipeline several calls read with NextFrame instead.
      return absl::InternalError(absl::StrCat("expected the response to call ", call_id,
                                              ", got ", frame->header.ShortDebugString()));
    }
  }
}

absl::Status RawFrameClient::ExpectHelloAnswered(absl::Duration timeout) {
  absl::StatusOr<DecodedHeader> hello = NextFrame(timeout);
  if (!hello.ok()) return hello.status();
  if (!hello->header.has_hello() || hello->header.call_id() != 0 ||
      hello->header.hello().protocol_version() != 1) {
    return absl::InternalError(
        absl::StrCat("expected the server's hello, got ", hello->header.ShortDebugString()));
  }
  return absl::OkStatus();
}

absl::Status RawFrameClient::ExpectServing(uint64_t call_id, absl::Duration timeout) {
  absl::Status sent = SendRequest(call_id, "appwire.v1.Health/Check");
  if (!sent.ok()) return sent;
  absl::StatusOr<DecodedHeader> response = NextResponse(call_id, timeout);
  if (!response.ok()) return response.status();
  if (response->header.response().status_code() != 0 || response->payload != "\x08\x01") {
    return absl::InternalError(absl::StrCat("Health/Check was not answered SERVING: ",
                                            response->header.ShortDebugString()));
  }
  return absl::OkStatus();
}

bool RawFrameClient::WaitClosed(absl::Duration timeout) {
  ResumeReading();
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_until(lock, DeadlineAfter(timeout), [this] { return closed_; });
}

bool RawFrameClient::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

absl::Status RawFrameClient::close_reason() const {
  std::lock_guard<std::mutex> lock(mu_);
  return close_reason_;
}

void RawFrameClient::StopReading() { reading_ = false; }

void RawFrameClient::ResumeReading() {
  if (stream_ == nullptr || !status_.ok()) return;
  if (reading_.exchange(true)) return;
  asio::post(io_, [this] { Read(); });
}

void RawFrameClient::SetReceiveBuffer(int bytes) {
  if (stream_ == nullptr) return;
  // The descriptor stays the socket's while the stream lives.
  if (fd_ >= 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

std::string RawFrameClient::Frame(const v1::FrameHeader& header, absl::string_view payload) {
  std::string bytes;
  AppendFrame(header, payload, &bytes);
  return bytes;
}

std::string RawFrameClient::HelloFrame(uint32_t protocol_version) {
  v1::FrameHeader header;
  header.mutable_hello()->set_protocol_version(protocol_version);
  header.mutable_hello()->set_software_name("raw-frame-client");
  return Frame(header);
}

std::string RawFrameClient::RequestFrame(uint64_t call_id, const std::string& method,
                                         absl::string_view payload, MethodKind kind) {
  v1::FrameHeader header;
  header.set_call_id(call_id);
  header.mutable_request()->set_method(method);
  header.mutable_request()->set_kind(static_cast<v1::MethodKind>(kind));
  return Frame(header, payload);
}

std::string RawFrameClient::Prefix(uint32_t frame_length, uint32_t header_length) {
  std::string out(8, '\0');
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<char>(frame_length >> (24 - 8 * i));
    out[4 + i] = static_cast<char>(header_length >> (24 - 8 * i));
  }
  return out;
}

}  // namespace appwire::testing
