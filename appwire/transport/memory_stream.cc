#include "appwire/transport/memory_stream.h"

#include <mutex>
#include <utility>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "absl/strings/str_cat.h"

namespace appwire {
namespace internal {

// One direction. The reader's pending read and the writer's drained
// callback run on their own end's io_context.
struct MemoryPipe {
  std::mutex mu;
  std::string data;               // written, not read yet
  std::atomic<size_t> queued{0};  // data.size(), for the writer's queued_bytes()
  bool writer_done = false;       // Shutdown or Close by the writer: EOF after data
  bool reader_closed = false;     // Close by the reader: writes fail
  bool backlogged = false;        // data waited for a read: drained is due
  std::string* read_into = nullptr;
  std::function<void(absl::Status)> read_done;
  asio::io_context* reader_io = nullptr;
  asio::io_context* writer_io = nullptr;
  std::function<void()> drained;
  std::string reader_name;  // for messages: the reader's peer

  // mu held: completes the pending read when there is something to tell.
  void CompleteReadLocked() {
    if (!read_done) return;
    // The Status is made on the reader's thread: an absl::Status shared
    // across threads is reference-counted partly inside the (uninstrumented)
    // abseil library, which ThreadSanitizer reports as a race.
    absl::StatusCode code = absl::StatusCode::kOk;
    std::string message;
    if (reader_closed) {
      code = absl::StatusCode::kCancelled;
      message = "the stream was closed";
    } else if (!data.empty()) {
      read_into->append(data);
      data.clear();
      queued.store(0, std::memory_order_release);
      if (backlogged && drained) asio::post(*writer_io, drained);
      backlogged = false;
    } else if (writer_done) {
      code = absl::StatusCode::kUnavailable;
      message = absl::StrCat("the connection with ", reader_name, " was closed by the peer");
    } else {
      return;  // a write or a close completes it
    }
    read_into = nullptr;
    asio::post(*reader_io, [done = std::move(read_done), code, message = std::move(message)] {
      done(absl::Status(code, message));
    });
    read_done = nullptr;
  }
};

}  // namespace internal

namespace {

// Shutdown() of the writing side, then the reading side closed: what
// Close() does, also from CloseWithin()'s timer.
// The writer's end of `out` sends nothing more: the reader reads what is
// there, then the end (as a TCP peer reads what the kernel had taken
// before the FIN; the pipe stands for the socket buffers, which a close
// does not drop).
void ShutdownPipe(internal::MemoryPipe& out) {
  std::function<void()> drained;  // destroyed unlocked: it may hold anything
  std::lock_guard<std::mutex> lock(out.mu);
  out.writer_done = true;
  // Nothing more is written, so nothing is posted to this end's
  // io_context for the pipe any more (it may be gone before the peer).
  drained.swap(out.drained);
  out.CompleteReadLocked();
}

}  // namespace

void MemoryStream::CloseEnds(internal::MemoryPipe& in, internal::MemoryPipe& out) {
  ShutdownPipe(out);
  std::lock_guard<std::mutex> lock(in.mu);
  in.reader_closed = true;
  in.data.clear();
  in.queued.store(0, std::memory_order_release);
  in.CompleteReadLocked();
}

MemoryStream::Pair MemoryStream::CreatePair(asio::io_context& first_io, TlsSessionInfo first_info,
                                            asio::io_context& second_io,
                                            TlsSessionInfo second_info) {
  auto to_second = std::make_shared<internal::MemoryPipe>();
  auto to_first = std::make_shared<internal::MemoryPipe>();
  to_second->writer_io = &first_io;
  to_second->reader_io = &second_io;
  to_second->reader_name = second_info.peer_address;
  to_first->writer_io = &second_io;
  to_first->reader_io = &first_io;
  to_first->reader_name = first_info.peer_address;
  Pair pair;
  pair.first.reset(new MemoryStream(first_io, std::move(first_info), to_first, to_second));
  pair.second.reset(new MemoryStream(second_io, std::move(second_info), to_second, to_first));
  return pair;
}

MemoryStream::MemoryStream(asio::io_context& io, TlsSessionInfo info,
                           std::shared_ptr<internal::MemoryPipe> in,
                           std::shared_ptr<internal::MemoryPipe> out)
    : io_(io), info_(std::move(info)), in_(std::move(in)), out_(std::move(out)) {}

MemoryStream::~MemoryStream() { Close(); }

void MemoryStream::AsyncHandshake(std::function<void(absl::Status)> done) {
  bool closed;
  {
    std::lock_guard<std::mutex> lock(in_->mu);
    closed = in_->reader_closed;
  }
  asio::post(io_, [done = std::move(done), closed] {
    done(closed ? absl::CancelledError("the stream was closed") : absl::OkStatus());
  });
}

void MemoryStream::AsyncRead(std::string* plaintext, std::function<void(absl::Status)> done) {
  std::lock_guard<std::mutex> lock(in_->mu);
  in_->read_into = plaintext;
  in_->read_done = std::move(done);
  in_->CompleteReadLocked();
}

absl::Status MemoryStream::Write(absl::string_view plaintext) {
  std::lock_guard<std::mutex> lock(out_->mu);
  if (out_->writer_done || out_->reader_closed) {
    return absl::UnavailableError(
        absl::StrCat("the connection with ", info_.peer_address, " is closed"));
  }
  out_->data.append(plaintext.data(), plaintext.size());
  out_->queued.store(out_->data.size(), std::memory_order_release);
  if (out_->read_done) {
    out_->CompleteReadLocked();
  } else {
    out_->backlogged = true;
  }
  return absl::OkStatus();
}

void MemoryStream::Shutdown() { ShutdownPipe(*out_); }

void MemoryStream::Close() { CloseEnds(*in_, *out_); }

void MemoryStream::CloseWithin(absl::Duration within) {
  // As TlsStream: a close that must wait for what another thread is still
  // writing (the final GoAway after a response, then close_notify) comes
  // from that thread's Shutdown() or the peer's close; this is the bound.
  {
    std::lock_guard<std::mutex> lock(in_->mu);
    if (in_->reader_closed) return;  // closed already
  }
  auto timer = std::make_shared<asio::steady_timer>(io_, absl::ToChronoNanoseconds(within));
  timer->async_wait([timer, in = in_, out = out_](const std::error_code&) {
    CloseEnds(*in, *out);
  });
}

void MemoryStream::Post(std::function<void()> task) { asio::post(io_, std::move(task)); }

size_t MemoryStream::queued_bytes() const {
  return out_->queued.load(std::memory_order_acquire);
}

void MemoryStream::SetDrainedCallback(std::function<void()> drained) {
  std::lock_guard<std::mutex> lock(out_->mu);
  out_->drained = std::move(drained);
}

}  // namespace appwire
