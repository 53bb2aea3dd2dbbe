// RawFrameClient: an appwire client for conformance and abuse tests that
// checks nothing it sends. It speaks real TLS 1.3 (ALPN appwire/1, trusting
// the server's cert.pem) over a loopback TCP connection, and then sends
// whatever bytes the test chooses: well-formed frames, frames the transport
// would refuse to encode (a payload on a hello, an even call id, a header
// over 64 KiB) and bytes that are no frame at all (frame_length 2).
//
//   RawFrameClient client(server->port(), project.File("cert.pem"));
//   ASSERT_TRUE(client.ok()) << client.status();
//   client.SendHello();
//   client.SendBytes(RawFrameClient::Prefix(2, 0));
//   absl::StatusOr<DecodedHeader> frame = client.NextFrame(absl::Seconds(5));
//   EXPECT_TRUE(client.WaitClosed(absl::Seconds(5)));
//
// What the server sends is read on the client's own I/O thread, decoded
// and queued for NextFrame(); StopReading() stops reading entirely (a
// client that never reads its replies), ResumeReading() starts again.
// Every wait is bounded by the caller's duration. Thread-safe.
#ifndef APPWIRE_TESTS_RAW_FRAME_CLIENT_H_
#define APPWIRE_TESTS_RAW_FRAME_CLIENT_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "appwire/common/method_kind.h"
#include "appwire/v1/frame.pb.h"

namespace appwire {

class ByteStream;

namespace testing {

// One frame the server sent.
struct DecodedHeader {
  v1::FrameHeader header;
  std::string payload;
  // The whole frame as it arrived: prefix, header and payload.
  std::string raw;
};

class RawFrameClient {
 public:
  struct Options {
    // SO_RCVBUF set before connecting (0: the system's default). A small
    // buffer makes a client that does not read fill up sooner.
    int receive_buffer_bytes = 0;
    // Read what the server sends from the start (else: ResumeReading()).
    bool start_reading = true;
    // Only count data frames (responses, messages, window updates, hellos,
    // pings); keep go_away frames for NextFrame(). For clients that receive
    // a lot and only care about the end.
    bool discard_data_frames = false;
    absl::Duration handshake_timeout = absl::Seconds(10);
    std::string server_name = "localhost";
  };

  // Connects to 127.0.0.1:`port` and completes the TLS handshake (bounded);
  // status() says whether it worked.
  RawFrameClient(int port, const std::string& ca_file);
  RawFrameClient(int port, const std::string& ca_file, Options options);
  // Over a stream `connect` makes, whose completions run on the client's
  // I/O context (given): for example the client end of an in-memory
  // connection (ServerTestingPeer::ConnectInMemory). Options about the
  // socket and TLS do not apply.
  using StreamFactory = std::function<std::shared_ptr<ByteStream>(asio::io_context& client_io)>;
  explicit RawFrameClient(const StreamFactory& connect);
  RawFrameClient(const StreamFactory& connect, Options options);
  ~RawFrameClient();
  RawFrameClient(const RawFrameClient&) = delete;
  RawFrameClient& operator=(const RawFrameClient&) = delete;

  // The handshake's result.
  const absl::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }
  // This end's address as the server sees it: "127.0.0.1:53412".
  const std::string& local_address() const { return local_address_; }

  // Sends `bytes` as they are (encrypted, in order). Never blocks; fails
  // once the connection is closed.
  absl::Status SendBytes(absl::string_view bytes);
  // Encodes a frame with AppendFrame, without any check of its kind, call
  // id, payload or sizes.
  absl::Status SendFrame(const v1::FrameHeader& header, absl::string_view payload);
  // Sends `bytes` in chunks, never letting more than `max_queued` bytes
  // wait in this client for the socket: when the peer stops reading, this
  // client stops sending instead of buffering. DeadlineExceeded (with the
  // count sent so far in *sent) when the queue did not drain for `stall`.
  absl::Status SendPaced(absl::string_view bytes, size_t max_queued, absl::Duration stall,
                         size_t* sent = nullptr);
  // Waits until at most `max_queued` bytes wait for the socket.
  bool WaitQueueBelow(size_t max_queued, absl::Duration timeout) const;

  // Conveniences built on SendFrame.
  absl::Status SendHello(uint32_t protocol_version = 1, uint64_t max_message_bytes = 0,
                         absl::string_view payload = "");
  absl::Status SendRequest(uint64_t call_id, const std::string& method,
                           absl::string_view payload = "",
                           MethodKind kind = MethodKind::kUnary, uint64_t timeout_micros = 0);
  absl::Status SendMessage(uint64_t call_id, absl::string_view payload);
  absl::Status SendHalfClose(uint64_t call_id, absl::string_view payload = "");
  absl::Status SendCancel(uint64_t call_id, absl::string_view payload = "");
  absl::Status SendWindowUpdate(uint64_t call_id, uint64_t bytes, absl::string_view payload = "");
  absl::Status SendPing(uint64_t opaque, bool ack = false, absl::string_view payload = "");
  absl::Status SendGoAway(bool graceful, int status_code, const std::string& message,
                          absl::string_view payload = "");

  // The next frame from the server, waiting up to `timeout`.
  // DeadlineExceeded when none came; Unavailable (with the reason) when the
  // connection ended and every frame that came before was taken.
  absl::StatusOr<DecodedHeader> NextFrame(absl::Duration timeout);
  // Waits for the server's Hello (the first frame) and checks it; then
  // sends Health/Check with `call_id` and expects SERVING. Returns an error
  // saying what differed.
  absl::Status ExpectHelloAnswered(absl::Duration timeout = absl::Seconds(5));
  absl::Status ExpectServing(uint64_t call_id, absl::Duration timeout = absl::Seconds(5));
  // The next frame for `call_id` that is a response, skipping (and
  // dropping) others for other calls, window updates and pings.
  absl::StatusOr<DecodedHeader> NextResponse(uint64_t call_id, absl::Duration timeout);

  // True when the server ended the connection (close_notify, end of
  // stream, or a reset) within `timeout`. Reads meanwhile (ResumeReading);
  // frames that arrive before the end stay queued for NextFrame.
  bool WaitClosed(absl::Duration timeout);
  // Without waiting: whether the connection has ended, and why.
  bool closed() const;
  absl::Status close_reason() const;

  // Stops reading entirely: nothing more is taken from the socket (the one
  // read already waiting, if any, completes). The server's data piles up
  // in the kernel's buffers, then the server's.
  void StopReading();
  void ResumeReading();
  // SO_RCVBUF on the connected socket.
  void SetReceiveBuffer(int bytes);

  // Counters.
  uint64_t bytes_sent() const { return bytes_sent_.load(); }
  uint64_t bytes_received() const { return bytes_received_.load(); }  // plaintext
  uint64_t frames_received() const { return frames_received_.load(); }
  // Bytes accepted by SendBytes but not yet taken by the socket.
  size_t queued_bytes() const;

  // The 8-byte prefix of a frame: frame_length and header_length,
  // big-endian, whatever their values.
  static std::string Prefix(uint32_t frame_length, uint32_t header_length);
  // One encoded frame (AppendFrame), for tests that send several at once.
  static std::string Frame(const v1::FrameHeader& header, absl::string_view payload = "");
  static std::string HelloFrame(uint32_t protocol_version = 1);
  static std::string RequestFrame(uint64_t call_id, const std::string& method,
                                  absl::string_view payload = "",
                                  MethodKind kind = MethodKind::kUnary);

 private:
  // The handshake (bounded), then the read loop: both constructors.
  void Handshake();
  void Read();  // I/O thread
  void OnRead(const absl::Status& status);

  Options options_;
  asio::io_context io_{1};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<ByteStream> stream_;
  absl::Status status_;
  std::string local_address_;
  int fd_ = -1;  // the socket's descriptor, owned by stream_

  std::atomic<bool> reading_{true};
  bool read_pending_ = false;  // I/O thread only
  std::string read_buffer_;    // I/O thread only

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<DecodedHeader> frames_;  // guarded by mu_
  bool closed_ = false;               // guarded by mu_
  absl::Status close_reason_;         // guarded by mu_

  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> bytes_received_{0};
  std::atomic<uint64_t> frames_received_{0};
};

}  // namespace testing
}  // namespace appwire

#endif  // APPWIRE_TESTS_RAW_FRAME_CLIENT_H_
