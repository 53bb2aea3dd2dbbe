// MemoryStream: two connected ByteStreams in memory, like the two ends of a
// socket pair, with no TLS: each handshake succeeds at once with the
// TlsSessionInfo given. Used to run the session logic above the transport
// (Connection, the server's dispatch) without sockets or TLS: the session
// fuzzer (tests/fuzz/session_fuzzer.cc), RawFrameClient in memory, unit
// tests.
//
// Each direction is a pipe without a size limit: what one end writes waits
// there until the other end reads it, and counts as the writer's
// queued_bytes() meanwhile, so a peer that stops reading shows as a growing
// queue, as with a socket whose peer does not read. The writer's drained
// callback runs when a read empties a pipe that had filled while no read
// was waiting.
//
// Completions run on each end's io_context (pass the owner's I/O context,
// so that the threading is the one of production). Everything else is
// thread-safe, as ByteStream says.
#ifndef APPWIRE_TRANSPORT_MEMORY_STREAM_H_
#define APPWIRE_TRANSPORT_MEMORY_STREAM_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <asio/io_context.hpp>

#include "appwire/transport/byte_stream.h"

namespace appwire {

namespace internal {
struct MemoryPipe;
}

class MemoryStream final : public ByteStream {
 public:
  struct Pair {
    std::shared_ptr<MemoryStream> first;
    std::shared_ptr<MemoryStream> second;
  };
  // `first_info` is what the first end's info() says (its peer_address is
  // the second end's name), and likewise for the second.
  static Pair CreatePair(asio::io_context& first_io, TlsSessionInfo first_info,
                         asio::io_context& second_io, TlsSessionInfo second_info);
  ~MemoryStream() override;

  void AsyncHandshake(std::function<void(absl::Status)> done) override;
  void AsyncRead(std::string* plaintext, std::function<void(absl::Status)> done) override;
  absl::Status Write(absl::string_view plaintext) override;
  // The peer reads what was written, then the end of the stream.
  void Shutdown() override;
  // Both directions end: pending and later reads of this end fail, the
  // peer's writes fail, and the peer reads what was written, then the end
  // of the stream (the pipe stands for the socket buffers, which a TCP
  // close does not drop).
  void Close() override;
  // Close() after `within`: meanwhile writes already queued by another
  // thread and that thread's Shutdown() still go out (as over TLS, where
  // the close_notify exchange usually ends the stream first).
  void CloseWithin(absl::Duration within) override;
  void Post(std::function<void()> task) override;
  size_t queued_bytes() const override;
  void SetDrainedCallback(std::function<void()> drained) override;
  const TlsSessionInfo& info() const override { return info_; }
  const std::string& peer_address() const override { return info_.peer_address; }
  std::shared_ptr<void> SavedSession() const override { return nullptr; }

 private:
  static void CloseEnds(internal::MemoryPipe& in, internal::MemoryPipe& out);
  MemoryStream(asio::io_context& io, TlsSessionInfo info,
               std::shared_ptr<internal::MemoryPipe> in, std::shared_ptr<internal::MemoryPipe> out);

  asio::io_context& io_;
  const TlsSessionInfo info_;
  const std::shared_ptr<internal::MemoryPipe> in_;   // the peer writes, this end reads
  const std::shared_ptr<internal::MemoryPipe> out_;  // this end writes, the peer reads
};

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_MEMORY_STREAM_H_
