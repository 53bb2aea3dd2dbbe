// The frame decoder (appwire/transport/frame_codec.h) on bytes from the peer.
//
// The input is a decrypted byte stream. It is decoded the way
// Connection::DeliverFrames decodes its read buffer (repeated DecodeFrame,
// skipping the payload of oversized frames), once as a whole and again
// split into chunks, with the default limits and with small ones. Checks:
// - DecodeFrame never consumes more than its input, and a frame it returns
//   lies inside that input;
// - only InvalidArgument and ResourceExhausted are errors;
// - the frames (and the error that ends the stream) do not depend on how the
//   stream was split into reads;
// - a decoded frame re-encodes (AppendFrame, and PatchFrameLength for a
//   separately sent payload) to bytes DecodeFrame accepts as the same frame;
// - the metadata of a request or response validates without crashing.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "appwire/common/metadata.h"
#include "appwire/transport/frame_codec.h"
#include "appwire/transport/metadata_wire.h"
#include "appwire/v1/frame.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "tests/fuzz/fuzz_support.h"

namespace appwire {
namespace {

struct Event {
  enum Kind { kFrame, kOversized, kError } kind;
  std::string header;                             // serialized FrameHeader
  std::string payload;                            // kFrame
  uint64_t skipped = 0;                           // kOversized: payload bytes to discard
  absl::StatusCode code = absl::StatusCode::kOk;  // kError

  bool operator==(const Event& other) const {
    return kind == other.kind && header == other.header && payload == other.payload &&
           skipped == other.skipped && code == other.code;
  }
  std::string Describe() const {
    return absl::StrCat(kind, "/", header.size(), "/", payload.size(), "/", skipped, "/",
                        static_cast<int>(code));
  }
};

void CheckReencodes(const DecodedFrame& frame, const FrameLimits& limits) {
  std::string encoded;
  AppendFrame(frame.header, frame.payload, &encoded);
  std::string prefix;
  AppendFrame(frame.header, "", &prefix);
  PatchFrameLength(frame.payload.size(), &prefix);
  FUZZ_CHECK(prefix + std::string(frame.payload) == encoded,
             "PatchFrameLength disagrees with AppendFrame");
  // The header may grow when re-serialized (a negative int32 written in 5
  // bytes becomes 10); Connection::Send refuses such a header, so only a
  // frame within the limits must decode.
  const size_t header_size = frame.header.ByteSizeLong();
  if (header_size > limits.max_header_bytes || frame.payload.size() > limits.max_message_bytes) {
    return;
  }
  DecodedFrame again;
  size_t consumed = 0;
  absl::Status status = DecodeFrame(encoded, limits, &again, &consumed);
  FUZZ_CHECK(status.ok(), "a re-encoded frame is refused: %s", status.ToString().c_str());
  FUZZ_CHECK(consumed == encoded.size(), "re-encoded frame: consumed %zu of %zu", consumed,
             encoded.size());
  FUZZ_CHECK(again.oversized_payload_bytes == 0, "re-encoded frame counted as oversized");
  FUZZ_CHECK(again.payload == frame.payload, "re-encoded frame has another payload");
  FUZZ_CHECK(again.header.SerializeAsString() == frame.header.SerializeAsString(),
             "re-encoded frame has another header");
}

void CheckMetadata(const v1::FrameHeader& header) {
  const WireMetadata* wire = nullptr;
  if (header.has_request()) wire = &header.request().metadata();
  if (header.has_response()) wire = &header.response().trailers();
  if (wire == nullptr) return;
  const Metadata metadata = MetadataFromWire(*wire);
  absl::Status status = ValidateMetadata(metadata, 8192, "fuzz");
  FUZZ_CHECK(status.ok() || status.code() == absl::StatusCode::kInvalidArgument ||
                 status.code() == absl::StatusCode::kResourceExhausted,
             "ValidateMetadata: %s", status.ToString().c_str());
  FUZZ_CHECK(status.code() != absl::StatusCode::kResourceExhausted || MetadataSize(metadata) > 8192,
             "ResourceExhausted for %zu bytes of metadata", MetadataSize(metadata));
}

// Connection::DeliverFrames without the connection: a read buffer that
// grows with each read and shrinks by what was decoded.
class StreamDecoder {
 public:
  explicit StreamDecoder(const FrameLimits& limits) : limits_(limits) {}

  // False once an error has ended the stream (the connection closes).
  bool Feed(absl::string_view chunk) {
    if (failed_) return false;
    buffer_.append(chunk.data(), chunk.size());
    DecodedFrame frame;
    for (;;) {
      if (skip_bytes_ > 0) {
        const uint64_t skipped = std::min<uint64_t>(skip_bytes_, buffer_.size() - offset_);
        skip_bytes_ -= skipped;
        offset_ += skipped;
        if (skip_bytes_ > 0) break;
      }
      absl::string_view input(buffer_);
      input.remove_prefix(offset_);
      size_t consumed = 12345;  // DecodeFrame must set it, whatever happens
      absl::Status status = DecodeFrame(input, limits_, &frame, &consumed);
      if (!status.ok()) {
        FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument ||
                       status.code() == absl::StatusCode::kResourceExhausted,
                   "DecodeFrame: %s", status.ToString().c_str());
        FUZZ_CHECK(input.size() >= kFramePrefixBytes, "an error before the prefix is in");
        events_.push_back(Event{Event::kError, "", "", 0, status.code()});
        failed_ = true;
        return false;
      }
      FUZZ_CHECK(consumed <= input.size(), "consumed %zu of %zu bytes", consumed, input.size());
      if (consumed == 0) break;
      FUZZ_CHECK(consumed >= kFramePrefixBytes, "consumed %zu bytes: less than a prefix", consumed);
      const size_t header_length = consumed - kFramePrefixBytes - frame.payload.size();
      FUZZ_CHECK(header_length <= limits_.max_header_bytes, "a %zu-byte header was accepted",
                 header_length);
      if (frame.oversized_payload_bytes > 0) {
        FUZZ_CHECK(frame.payload.empty(), "an oversized frame has a payload");
        FUZZ_CHECK(frame.oversized_payload_bytes > limits_.max_message_bytes,
                   "oversized_payload_bytes %llu is within the limit",
                   static_cast<unsigned long long>(frame.oversized_payload_bytes));
        events_.push_back(Event{Event::kOversized, frame.header.SerializeAsString(), "",
                                frame.oversized_payload_bytes});
      } else {
        FUZZ_CHECK(frame.payload.size() <= limits_.max_message_bytes,
                   "a %zu-byte payload was accepted", frame.payload.size());
        FUZZ_CHECK(frame.payload.empty() ||
                       (frame.payload.data() >= input.data() &&
                        frame.payload.data() + frame.payload.size() == input.data() + consumed),
                   "the payload is not the end of the consumed bytes");
        CheckReencodes(frame, limits_);
        events_.push_back(
            Event{Event::kFrame, frame.header.SerializeAsString(), std::string(frame.payload)});
      }
      CheckMetadata(frame.header);
      offset_ += consumed;
      skip_bytes_ = frame.oversized_payload_bytes;
    }
    if (offset_ == buffer_.size()) {
      buffer_.clear();
      offset_ = 0;
    } else if (offset_ > 0) {
      buffer_.erase(0, offset_);
      offset_ = 0;
    }
    return true;
  }

  const std::vector<Event>& events() const { return events_; }
  // Bytes received but not decoded or skipped yet.
  size_t pending() const { return buffer_.size() - offset_; }
  uint64_t skip_bytes() const { return skip_bytes_; }

 private:
  FrameLimits limits_;
  std::string buffer_;
  size_t offset_ = 0;
  uint64_t skip_bytes_ = 0;
  bool failed_ = false;
  std::vector<Event> events_;
};

uint64_t Hash(absl::string_view data) {  // FNV-1a: the chunking depends on the input only
  uint64_t h = 1469598103934665603ull;
  for (char c : data) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

void CheckSplitsAgree(absl::string_view data, const FrameLimits& limits) {
  StreamDecoder whole(limits);
  whole.Feed(data);

  std::vector<std::vector<size_t>> splits;
  if (data.size() <= 2048) splits.push_back(std::vector<size_t>(data.size(), 1));  // byte by byte
  std::vector<size_t> random;
  uint64_t state = Hash(data) | 1;
  for (size_t left = data.size(); left > 0;) {
    state ^= state << 13;  // xorshift64
    state ^= state >> 7;
    state ^= state << 17;
    const size_t n = std::min<size_t>(left, 1 + state % 61);
    random.push_back(n);
    left -= n;
  }
  splits.push_back(std::move(random));

  for (const std::vector<size_t>& split : splits) {
    StreamDecoder chunked(limits);
    size_t at = 0;
    for (size_t n : split) {
      if (!chunked.Feed(data.substr(at, n))) break;
      at += n;
    }
    const std::vector<Event>& a = whole.events();
    const std::vector<Event>& b = chunked.events();
    FUZZ_CHECK(a.size() == b.size(), "%zu events read at once, %zu read in %zu chunks", a.size(),
               b.size(), split.size());
    for (size_t i = 0; i < a.size(); ++i) {
      FUZZ_CHECK(a[i] == b[i], "event %zu: %s read at once, %s in chunks", i,
                 a[i].Describe().c_str(), b[i].Describe().c_str());
    }
    if (a.empty() || a.back().kind != Event::kError) {
      FUZZ_CHECK(whole.pending() == chunked.pending() && whole.skip_bytes() == chunked.skip_bytes(),
                 "left over: %zu pending, %llu to skip at once; %zu, %llu in chunks",
                 whole.pending(), static_cast<unsigned long long>(whole.skip_bytes()),
                 chunked.pending(), static_cast<unsigned long long>(chunked.skip_bytes()));
    }
  }
}

}  // namespace
}  // namespace appwire

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every string field that is not UTF-8: quiet.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  const absl::string_view input = appwire::fuzz::AsText(data, size);
  // A single DecodeFrame on the raw input, with the peer's own buffer as
  // input (ASan sees reads past its end).
  {
    appwire::DecodedFrame frame;
    size_t consumed = 0;
    absl::Status status = appwire::DecodeFrame(input, appwire::FrameLimits(), &frame, &consumed);
    FUZZ_CHECK(consumed <= size, "consumed %zu of %zu bytes", consumed, size);
    FUZZ_CHECK(status.ok() || consumed == 0, "consumed %zu bytes with an error", consumed);
  }
  appwire::CheckSplitsAgree(input, appwire::FrameLimits());
  // Small limits, so that the oversized-payload and header-limit paths run
  // on the seed frames: the Echo request's 4-byte payload is oversized, the
  // GoAway's 33-byte header is over the header limit.
  appwire::FrameLimits small;
  small.max_message_bytes = 3;
  small.max_header_bytes = 32;
  appwire::CheckSplitsAgree(input, small);
  return 0;
}
