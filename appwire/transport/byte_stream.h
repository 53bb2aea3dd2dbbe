// ByteStream: what a Connection needs from the stream under it. TlsStream
// (TLS over a TCP socket) is the one every server and client uses;
// MemoryStream (appwire/transport/memory_stream.h) carries the same bytes in memory,
// so that the session logic above (Connection, the server's dispatch) can
// be fuzzed and unit-tested without sockets or TLS.
//
// The contract is TlsStream's (appwire/transport/tls_stream.h says it in full):
// the handshake and reads run on the stream's executor, one read at a time,
// and their completions run there; Write(), Shutdown(), Close(),
// CloseWithin(), Post() and the accessors are thread-safe; Write() never
// blocks, it queues what the peer has not taken yet (queued_bytes()).
#ifndef APPWIRE_TRANSPORT_BYTE_STREAM_H_
#define APPWIRE_TRANSPORT_BYTE_STREAM_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "appwire/transport/tls_session_info.h"

namespace appwire {

class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // Performs the handshake (TLS, or nothing for a stream in memory).
  virtual void AsyncHandshake(std::function<void(absl::Status)> done) = 0;
  // Waits for data and appends it to `*plaintext` (which must outlive the
  // call), then calls done(OK). Unavailable when the peer closed.
  virtual void AsyncRead(std::string* plaintext, std::function<void(absl::Status)> done) = 0;
  // Sends `plaintext`, or queues it behind earlier writes. Fails once the
  // stream is closed or shut down.
  virtual absl::Status Write(absl::string_view plaintext) = 0;
  // Ends the sending side after what is queued (close_notify); reads go on.
  virtual void Shutdown() = 0;
  // Closes at once, cancelling pending operations.
  virtual void Close() = 0;
  // Closes at the latest `within` from now, whatever the peer does.
  virtual void CloseWithin(absl::Duration within) = 0;
  // Runs `task` on the stream's executor.
  virtual void Post(std::function<void()> task) = 0;

  // Bytes accepted by Write() that the peer has not taken yet.
  virtual size_t queued_bytes() const = 0;
  // Called on the executor each time the queue drained to nothing after the
  // peer had stopped taking bytes. Set before the first Write().
  virtual void SetDrainedCallback(std::function<void()> drained) = 0;

  // What the handshake negotiated. Valid once AsyncHandshake succeeded.
  virtual const TlsSessionInfo& info() const = 0;
  virtual const std::string& peer_address() const = 0;
  // Client: the session to resume on a later connection; null when none.
  virtual std::shared_ptr<void> SavedSession() const = 0;
};

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_BYTE_STREAM_H_
