// The server's session logic (appwire/server/dispatch.cc OnFrame, HandleRequest,
// HandleCallFrame; appwire/server/connection_registry.cc; appwire/transport/connection.cc;
// appwire/rpc/call_stream.cc) fed a sequence of frames from one client:
// Hello, calls, streams, window updates, GoAway, pings, in any order, with
// any integers.
//
// One real Server per process (on 127.0.0.1 port 0, started by the first
// input, drained at exit), and one fresh RawFrameClient connection
// (tests/raw_frame_client.h) per input, in memory: the server serves it
// through ServerTestingPeer (appwire/server/internal/testing_peer.h) over a
// MemoryStream pair (appwire/transport/memory_stream.h), exactly as an accepted
// connection after its TLS handshake. APPWIRE_FUZZ_TRANSPORT=tls sends the
// frames over loopback TLS instead (slower, and TlsStream is in the loop);
// the check of a fresh connection every 64 inputs and at exit always goes
// over TLS. The
// server runs small limits so that the fuzzer reaches them: messages of
// 1 KiB (kMaxMessageSize), 6 calls per connection (kMaxConcurrentCalls),
// 4 streams on the server (kMaxConcurrentStreams), 256 bytes of metadata
// (kMaxMetadataSize); the timeouts stay at their defaults (10 s and more),
// so that no outcome depends on timing.
//
// Long on purpose: the input format, its interpreter and the model of
// docs/protocol.md it checks against must be read together.
//
// Input: up to 64 operations, each an opcode byte (taken modulo 16)
// followed by its arguments; an input that runs out reads zeros. Argument
// types:
//   N  a number: one byte b; b < 0xf8 is b itself; 0xf8, 0xf9, 0xfa: a
//      big-endian u16, u32, u64 follows; 0xfb 2^64-1, 0xfc 2^63,
//      0xfd 2^63-1, 0xfe 2^32-1, 0xff 2^64-2.
//   S  a string: a length byte L, then L bytes.
//   P  a payload: a byte k; k < 0x80: the next k bytes of the input;
//      k >= 0x80: N bytes (at most 65,535) of the byte k & 0x7f.
//   M  a method: a byte m; m < 14 names kMethods[m] (the registered
//      methods and the built-in ones), any other value: an S.
//   B  a byte.
// Operations (the frames are encoded with AppendFrame unless said):
//   0 hello          N protocol_version, N max_message_bytes, P
//   1 request        N call_id, M method, B kind (0: the method's
//                    registered kind, else kind = B - 1), N timeout_micros,
//                    B metadata count (taken modulo 4), that many (S key,
//                    S value), P
//   2 message        N call_id, P
//   3 half_close     N call_id, P
//   4 cancel         N call_id, P
//   5 window_update  N call_id, N bytes, P
//   6 ping           N opaque, B ack (bit 0), P
//   7 go_away        B flags (bit 0 graceful, bit 1 last_call_id set),
//                    N status_code, N last_call_id, S status_message, P
//   8 response       N call_id, N status_code, P (a client may not send one)
//   9 no kind        N call_id, P (a header with only call_id)
//  10 any header     S header bytes (not necessarily a FrameHeader), P;
//                    the prefix is right for them
//  11 bad prefix     N frame_length, N header_length (both taken as u32),
//                    S bytes after the prefix (RawFrameClient::Prefix)
//  12 raw bytes      S, sent as they are
//  13 batch          frames are collected and sent in one write from here
//                    to the next batch or wait operation (toggles)
//  14 split          B: the next frame goes out in writes of (B % 16) + 1
//                    bytes
//  15 wait           B: read the server's replies until every call and
//                    ping that should be answered is, or the connection
//                    closes, or (B % 4 + 1) * 10 ms pass; at most 150 ms
//                    of waiting per input
// tests/fuzz/make_seed_corpus.sh writes the seeds in corpus/session/ in
// this format.
//
// While the frames go out, a model of docs/protocol.md follows them: which
// frames the server must answer with a final GoAway (its code) or a close
// (sections 4.2, 5, 6, 7.1, 7.8, 10.2), which calls and pings it must
// answer. It knows the bytes on the wire exactly until a frame it cannot
// follow (raw bytes, a prefix that swallows what comes next); from there
// only the checks that hold whatever was sent apply. Checks:
// - every frame the server sends decodes (RawFrameClient's limits), has a
//   header of at most 64 KiB and a payload within the server's 1 KiB and
//   the limit of the client's accepted Hello; it is a hello, response,
//   message, window_update, ping or go_away (section 7.9); the first one is
//   the server's Hello (protocol version 1, max_message_bytes 1 KiB) or a
//   final GoAway, and there is one Hello at most;
// - responses, messages and window updates name call ids the input sent a
//   request for; at most one response per call, no message after it; a
//   response with a status has no payload, a status in 0 to 16 and a
//   message of at most 4,096 bytes; an unregistered method gets
//   UNIMPLEMENTED, a registered one called as another kind
//   INVALID_ARGUMENT; a ping acknowledgement carries an opaque the input
//   sent;
// - a GoAway is final, carries last_call_id (0 or an id the input sent)
//   and a code; nothing follows it and the server closes;
// - while the model follows the bytes: a GoAway comes exactly when the
//   model expects one, with the code it expects, and the connection closes
//   exactly when the model says so; a connection that stays open serves a
//   Health/Check at the end of the input (after a Hello, when the input
//   sent none);
// - after the connection ends, the handlers of its calls finish and the
//   server closes its side (the calls are cancelled);
// - every 64 inputs, and at exit, a fresh connection is served;
// - the server never crashes (a crash is the process's).
// A violated check aborts (FUZZ_CHECK).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "appwire/common/files.h"
#include "appwire/common/log.h"
#include "appwire/common/method_kind.h"
#include "appwire/server/internal/testing_peer.h"
#include "appwire/server/server.h"
#include "appwire/server/service_registry.h"
#include "appwire/transport/frame_codec.h"
#include "appwire/v1/frame.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/raw_frame_client.h"
#include "tests/test_support.h"

namespace appwire {
namespace {

using ::appwire::testing::DecodedHeader;
using ::appwire::testing::RawFrameClient;

constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kMaxI64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
constexpr size_t kMaxOperations = 64;
constexpr size_t kServerMaxMessage = 1024;
constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr int kMaxConcurrentCalls = 6;
constexpr int kMaxConcurrentStreams = 4;
constexpr int kMaxMetadataBytes = 256;
constexpr int kFreshConnectionEvery = 64;
// What the waits of one input may take in all (wait operations and the
// end of the input, when replies are due).
constexpr absl::Duration kWaitBudget = absl::Milliseconds(150);
// How long a server that is right takes at most: never reached unless a
// check is about to fail.
constexpr absl::Duration kMustHappenWithin = absl::Seconds(3);

struct MethodInfo {
  const char* name;
  MethodKind kind;
};

// The methods the server answers; an M argument below 14 picks one.
constexpr MethodInfo kMethods[] = {
    {"appwire.v1.Health/Check", MethodKind::kUnary},
    {"appwire.v1.ServerInfo/Get", MethodKind::kUnary},
    {"appwire.v1.Echo/Echo", MethodKind::kUnary},
    {"appwire.v1.Echo/EchoStream", MethodKind::kBidiStreaming},
    {"fuzz.Unary/Echo", MethodKind::kUnary},    // the request back
    {"fuzz.Unary/Inline", MethodKind::kUnary},  // the same, on the I/O thread
    {"fuzz.Unary/Status", MethodKind::kUnary},  // byte 0: code; then key=value: a trailer
    {"fuzz.Unary/Sleep", MethodKind::kUnary},   // byte 0 % 32 ms, until cancelled
    {"fuzz.Unary/Big", MethodKind::kUnary},     // a reply of byte 0 * 8 + byte 1 bytes
    {"fuzz.Stream/Count", MethodKind::kServerStreaming},  // byte 0 % 8 messages of byte 1 * 8
    {"fuzz.Stream/Collect", MethodKind::kClientStreaming},  // reads all, says how much
    {"fuzz.Stream/Early", MethodKind::kClientStreaming},    // answers after one message
    {"fuzz.Bidi/Echo", MethodKind::kBidiStreaming},         // each message back
    {"fuzz.Bidi/Half", MethodKind::kBidiStreaming},  // one message back twice, then ends
};
constexpr size_t kMethodCount = sizeof(kMethods) / sizeof(kMethods[0]);
static_assert(kMethodCount == 14, "the input format documents 14 methods");

// APPWIRE_FUZZ_TRACE=1: every frame sent and received on stderr.
const bool g_trace = std::getenv("APPWIRE_FUZZ_TRACE") != nullptr;
const bool g_over_tls = [] {
  const char* transport = std::getenv("APPWIRE_FUZZ_TRANSPORT");
  return transport != nullptr && std::string(transport) == "tls";
}();

// Handlers of this file running now, on any connection.
std::atomic<int> g_running{0};
struct Running {
  Running() { g_running.fetch_add(1); }
  ~Running() { g_running.fetch_sub(1); }
};

unsigned char At(absl::string_view bytes, size_t i) {
  return i < bytes.size() ? static_cast<unsigned char>(bytes[i]) : 0;
}

std::shared_ptr<ServiceRegistry> MakeRegistry() {
  auto registry = std::make_shared<ServiceRegistry>();
  auto check = [](const absl::Status& status) {
    FUZZ_CHECK(status.ok(), "registering a method: %s", status.ToString().c_str());
  };
  check(registry->RegisterRaw(
      "fuzz.Unary/Echo", [](CallContext&, absl::string_view request) -> absl::StatusOr<std::string> {
        Running running;
        return std::string(request);
      }));
  check(registry->RegisterRaw(
      "fuzz.Unary/Inline",
      [](CallContext&, absl::string_view request) -> absl::StatusOr<std::string> {
        return std::string(request);
      },
      HandlerThread::kIoThread));
  check(registry->RegisterRaw(
      "fuzz.Unary/Status",
      [](CallContext& context, absl::string_view request) -> absl::StatusOr<std::string> {
        Running running;
        if (request.size() > 1) {
          absl::string_view trailer = request.substr(1);
          const size_t equals = trailer.find('=');
          context.AddTrailer(std::string(trailer.substr(0, equals)),
                             equals == absl::string_view::npos
                                 ? std::string()
                                 : std::string(trailer.substr(equals + 1)));
        }
        const int code = At(request, 0) % 17;
        if (code == 0) return std::string(request);
        return absl::Status(static_cast<absl::StatusCode>(code), "fuzz.Unary/Status says so");
      }));
  check(registry->RegisterRaw(
      "fuzz.Unary/Sleep",
      [](CallContext& context, absl::string_view request) -> absl::StatusOr<std::string> {
        Running running;
        const absl::Time end = absl::Now() + absl::Milliseconds(At(request, 0) % 32);
        while (!context.cancelled() && absl::Now() < end) absl::SleepFor(absl::Milliseconds(1));
        return std::string("slept");
      }));
  check(registry->RegisterRaw(
      "fuzz.Unary/Big", [](CallContext&, absl::string_view request) -> absl::StatusOr<std::string> {
        Running running;
        return std::string(At(request, 0) * 8 + At(request, 1), 'b');
      }));
  check(registry->RegisterStreamRaw(
      "fuzz.Stream/Count", MethodKind::kServerStreaming,
      [](CallContext&, ServerStream& stream) -> absl::StatusOr<std::string> {
        Running running;
        std::string request;
        if (!stream.Read(&request)) return std::string();
        const int count = At(request, 0) % 8;
        const std::string message(At(request, 1) * 8, 'c');
        for (int i = 0; i < count; ++i) {
          if (!stream.Write(message)) break;
        }
        const int code = At(request, 2) % 17;
        if (code != 0) return absl::Status(static_cast<absl::StatusCode>(code), "counted");
        return std::string();
      }));
  check(registry->RegisterStreamRaw(
      "fuzz.Stream/Collect", MethodKind::kClientStreaming,
      [](CallContext&, ServerStream& stream) -> absl::StatusOr<std::string> {
        Running running;
        size_t count = 0, bytes = 0;
        std::string message;
        while (stream.Read(&message)) {
          ++count;
          bytes += message.size();
        }
        return absl::StrCat(count, " messages, ", bytes, " bytes");
      }));
  check(registry->RegisterStreamRaw(
      "fuzz.Stream/Early", MethodKind::kClientStreaming,
      [](CallContext&, ServerStream& stream) -> absl::StatusOr<std::string> {
        Running running;
        std::string message;
        if (stream.Read(&message) && At(message, 0) % 2 == 1) {
          return absl::InvalidArgumentError("an odd first byte");
        }
        return std::string("early");
      }));
  check(registry->RegisterStreamRaw(
      "fuzz.Bidi/Echo", MethodKind::kBidiStreaming,
      [](CallContext&, ServerStream& stream) -> absl::StatusOr<std::string> {
        Running running;
        std::string message;
        while (stream.Read(&message)) {
          if (!stream.Write(message)) break;
        }
        return std::string();
      }));
  check(registry->RegisterStreamRaw(
      "fuzz.Bidi/Half", MethodKind::kBidiStreaming,
      [](CallContext&, ServerStream& stream) -> absl::StatusOr<std::string> {
        Running running;
        std::string message;
        if (stream.Read(&message) && stream.Write(message)) stream.Write(message);
        return std::string();
      }));
  return registry;
}

// The one server of this process.
struct Fixture {
  std::unique_ptr<Server> server;
  std::string ca_file;
  int port = 0;
  long inputs = 0;
};

Fixture* g_fixture = nullptr;

void ExpectFreshConnectionServes(const char* when) {
  RawFrameClient client(g_fixture->port, g_fixture->ca_file);
  FUZZ_CHECK(client.ok(), "%s: a fresh connection: %s", when, client.status().ToString().c_str());
  absl::Status status = client.SendHello();
  if (status.ok()) status = client.ExpectHelloAnswered(kMustHappenWithin);
  if (status.ok()) status = client.ExpectServing(1, kMustHappenWithin);
  FUZZ_CHECK(status.ok(), "%s: a fresh connection is not served: %s", when,
             status.ToString().c_str());
}

void StopServer() {
  ExpectFreshConnectionServes("at exit");
  g_fixture->server->Drain(absl::Seconds(1));
  g_fixture->server.reset();
}

void StartServer() {
  g_fixture = new Fixture();  // lives until exit: see StopServer
  const std::string project = fuzz::ScratchDir::Get().File("project");
  FUZZ_CHECK(MakeDirectories(project).ok(), "cannot make %s", project.c_str());
  // The RFC 7919 group (tests/data/ffdhe2048.pem), so that the server does
  // not spend a core generating its own parameters at every start.
  fuzz::WriteScratchFile(project + "/dhparams.pem", testing::Ffdhe2048Pem());
  ServerOptions options;
  options.project_dir = project;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  options.certificate_check_interval = absl::ZeroDuration();
  options.worker_threads = 4;
  const std::pair<Parameter, int64_t> parameters[] = {
      {Parameter::kMaxMessageSize, kServerMaxMessage},
      {Parameter::kMaxConcurrentCalls, kMaxConcurrentCalls},
      {Parameter::kMaxConcurrentStreams, kMaxConcurrentStreams},
      {Parameter::kMaxMetadataSize, kMaxMetadataBytes},
  };
  for (const auto& [selector, value] : parameters) {
    absl::Status set = options.parameters.Set(selector, ParameterValue(value));
    FUZZ_CHECK(set.ok(), "%s", set.ToString().c_str());
  }
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(options, MakeRegistry());
  FUZZ_CHECK(server.ok(), "Server::Create: %s", server.status().ToString().c_str());
  absl::Status started = (*server)->Start();
  FUZZ_CHECK(started.ok(), "Server::Start: %s", started.ToString().c_str());
  g_fixture->server = *std::move(server);
  g_fixture->port = g_fixture->server->port();
  g_fixture->ca_file = project + "/cert.pem";
  std::atexit(StopServer);
}

// The bytes of an input, as the arguments of the format above.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  uint8_t Byte() { return at_ < size_ ? data_[at_++] : 0; }
  uint64_t BigEndian(int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value = (value << 8) | Byte();
    return value;
  }
  uint64_t Number() {
    const uint8_t b = Byte();
    switch (b) {
      case 0xf8: return BigEndian(2);
      case 0xf9: return BigEndian(4);
      case 0xfa: return BigEndian(8);
      case 0xfb: return kMaxU64;
      case 0xfc: return uint64_t{1} << 63;
      case 0xfd: return kMaxI64;
      case 0xfe: return 0xffffffffu;
      case 0xff: return kMaxU64 - 1;
      default: return b;
    }
  }
  std::string Bytes(size_t n) {
    n = std::min(n, size_ - std::min(at_, size_));
    std::string out(reinterpret_cast<const char*>(data_) + at_, n);
    at_ += n;
    return out;
  }
  std::string String() { return Bytes(Byte()); }
  std::string Payload() {
    const uint8_t k = Byte();
    if (k < 0x80) return Bytes(k);
    return std::string(static_cast<size_t>(std::min<uint64_t>(Number(), 65535)),
                       static_cast<char>(k & 0x7f));
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

constexpr int kCloseWithoutGoAway = -1;

// One input: its connection, what was sent, the model, what came back.
class Session {
 public:
  explicit Session(RawFrameClient& client) : client_(client) {}

  void Run(Reader& in) {
    for (size_t i = 0; i < kMaxOperations && !in.empty(); ++i) Operate(in);
    Flush();
    Finish();
  }

 private:
  struct Call {
    MethodKind kind = MethodKind::kUnary;
    // A client- or bidirectional-streaming call the server may hold until
    // the client half-closes (or cancels) it.
    bool may_hold = false;
    bool half_closed = false;
    bool cancelled = false;
    bool answered = false;
    int expected_code = -1;  // when known from the request alone
  };

  void Operate(Reader& in) {
    v1::FrameHeader header;
    switch (in.Byte() % 16) {
      case 0: {
        v1::Hello* hello = header.mutable_hello();
        hello->set_protocol_version(static_cast<uint32_t>(in.Number()));
        hello->set_software_name("session-fuzzer");
        hello->set_max_message_bytes(in.Number());
        SendFrame(header, in.Payload());
        return;
      }
      case 1: {
        header.set_call_id(in.Number());
        v1::RequestHeader* request = header.mutable_request();
        const uint8_t m = in.Byte();
        request->set_method(m < kMethodCount ? std::string(kMethods[m].name) : in.String());
        const uint8_t kind = in.Byte();
        const MethodInfo* known = Find(request->method());
        if (kind == 0) {
          request->set_kind(static_cast<v1::MethodKind>(known != nullptr ? known->kind
                                                                         : MethodKind::kUnary));
        } else {
          request->set_kind(static_cast<v1::MethodKind>(kind - 1));
        }
        request->set_timeout_micros(in.Number());
        for (int n = in.Byte() % 4; n > 0; --n) {
          v1::MetadataEntry* entry = request->add_metadata();
          entry->set_key(in.String());
          entry->set_value(in.String());
        }
        SendFrame(header, in.Payload());
        return;
      }
      case 2:
        header.set_call_id(in.Number());
        header.mutable_message();
        SendFrame(header, in.Payload());
        return;
      case 3:
        header.set_call_id(in.Number());
        header.mutable_half_close();
        SendFrame(header, in.Payload());
        return;
      case 4:
        header.set_call_id(in.Number());
        header.mutable_cancel();
        SendFrame(header, in.Payload());
        return;
      case 5:
        header.set_call_id(in.Number());
        header.mutable_window_update()->set_bytes(in.Number());
        SendFrame(header, in.Payload());
        return;
      case 6: {
        header.mutable_ping()->set_opaque(in.Number());
        header.mutable_ping()->set_ack(in.Byte() & 1);
        SendFrame(header, in.Payload());
        return;
      }
      case 7: {
        const uint8_t flags = in.Byte();
        v1::GoAway* go_away = header.mutable_go_away();
        go_away->set_graceful(flags & 1);
        go_away->set_status_code(static_cast<int32_t>(in.Number()));
        const uint64_t last = in.Number();
        if (flags & 2) go_away->set_last_call_id(last);
        go_away->set_status_message(in.String());
        SendFrame(header, in.Payload());
        return;
      }
      case 8:
        header.set_call_id(in.Number());
        header.mutable_response()->set_status_code(static_cast<int32_t>(in.Number()));
        SendFrame(header, in.Payload());
        return;
      case 9:
        header.set_call_id(in.Number());
        SendFrame(header, in.Payload());
        return;
      case 10: {
        const std::string bytes = in.String();
        const std::string payload = in.Payload();
        Record(bytes);
        Model(bytes, payload.size());
        Send(RawFrameClient::Prefix(static_cast<uint32_t>(4 + bytes.size() + payload.size()),
                                    static_cast<uint32_t>(bytes.size())) +
             bytes + payload);
        return;
      }
      case 11: {
        const uint32_t frame_length = static_cast<uint32_t>(in.Number());
        const uint32_t header_length = static_cast<uint32_t>(in.Number());
        const std::string rest = in.String();
        // Rules 1 and 2 of section 4.2 refuse the prefix alone; any other
        // prefix takes the bytes that follow as its header and payload.
        if (frame_length < 4 || header_length > frame_length - 4) {
          ExpectFatal(static_cast<int>(absl::StatusCode::kInvalidArgument));
        } else if (header_length > kMaxHeaderBytes) {
          ExpectFatal(static_cast<int>(absl::StatusCode::kResourceExhausted));
        } else {
          LoseSync();
        }
        Send(RawFrameClient::Prefix(frame_length, header_length) + rest);
        return;
      }
      case 12: {
        const std::string bytes = in.String();
        if (!bytes.empty()) LoseSync();
        Send(bytes);
        return;
      }
      case 13:
        if (batching_) Flush();
        batching_ = !batching_;
        return;
      case 14:
        split_ = in.Byte() % 16 + 1;
        return;
      default:
        Flush();
        Wait(absl::Milliseconds((in.Byte() % 4 + 1) * 10));
        return;
    }
  }

  static const MethodInfo* Find(const std::string& method) {
    for (const MethodInfo& info : kMethods) {
      if (method == info.name) return &info;
    }
    return nullptr;
  }

  void SendFrame(const v1::FrameHeader& header, const std::string& payload) {
    const std::string header_bytes = header.SerializeAsString();
    if (g_trace) {
      std::fprintf(stderr, "-> %s +%zu bytes\n", header.ShortDebugString().c_str(), payload.size());
    }
    Record(header_bytes);
    Model(header_bytes, payload.size());
    std::string bytes;
    AppendFrame(header, payload, &bytes);
    Send(bytes);
  }

  void Send(const std::string& bytes) {
    if (g_trace) {
      std::fprintf(stderr, "   %zu bytes%s%s\n", bytes.size(), batching_ ? " (batched)" : "",
                   in_sync_ ? "" : " (model lost)");
    }
    if (batching_) {
      pending_ += bytes;
      return;
    }
    if (split_ > 0) {
      for (size_t at = 0; at < bytes.size(); at += split_) {
        client_.SendBytes(absl::string_view(bytes).substr(at, split_)).IgnoreError();
      }
      split_ = 0;
      return;
    }
    // Fails once the server has closed: nothing to check there.
    client_.SendBytes(bytes).IgnoreError();
  }

  void Flush() {
    batching_ = false;
    if (pending_.empty()) return;
    std::string bytes;
    bytes.swap(pending_);
    Send(bytes);
  }

  // The ids of requests and the opaque values of pings sent, whatever the
  // model says of them. Requests and pings hidden in raw bytes are not
  // seen: the checks that use these sets stop when the model loses track.
  void Record(const std::string& header_bytes) {
    v1::FrameHeader header;
    if (!header.ParseFromString(header_bytes)) return;
    if (header.has_request()) requested_.insert(header.call_id());
    if (header.has_ping() && !header.ping().ack()) ping_opaques_.insert(header.ping().opaque());
  }

  // Whether `id` is one the input sent a request for (as far as is known).
  bool Requested(uint64_t id) const { return !in_sync_ || requested_.count(id) > 0; }

  // --- the model -----------------------------------------------------------

  void LoseSync() {
    if (!fatal_) in_sync_ = false;
  }
  void ExpectFatal(int go_away_code) {
    if (!in_sync_ || fatal_) return;
    fatal_ = true;
    expected_code_ = go_away_code;
  }

  // A frame whose header is `header_bytes` (any bytes) and whose payload
  // has `payload_size` bytes, as the server reads it.
  void Model(const std::string& header_bytes, size_t payload_size) {
    if (!in_sync_ || fatal_) return;
    constexpr int kInvalid = static_cast<int>(absl::StatusCode::kInvalidArgument);
    constexpr int kPrecondition = static_cast<int>(absl::StatusCode::kFailedPrecondition);
    v1::FrameHeader header;
    if (header_bytes.size() > kMaxHeaderBytes) {
      ExpectFatal(static_cast<int>(absl::StatusCode::kResourceExhausted));
      return;
    }
    if (!header.ParseFromString(header_bytes)) {  // section 4.2, rule 4
      ExpectFatal(kInvalid);
      return;
    }
    const auto kind = header.kind_case();
    if (CarriesNoPayload(kind) && payload_size > 0) {  // section 5, rule 2
      ExpectFatal(kInvalid);
      return;
    }
    if (!hello_ok_) {  // section 6
      if (kind != v1::FrameHeader::kHello || header.call_id() != 0 ||
          header.hello().protocol_version() != 1) {
        ExpectFatal(kPrecondition);
        return;
      }
      hello_ok_ = true;
      client_max_message_ = header.hello().max_message_bytes();
      return;
    }
    switch (kind) {
      case v1::FrameHeader::kPing:
        if (!header.ping().ack()) ++pings_due_;
        return;
      case v1::FrameHeader::kRequest:
        ModelRequest(header, payload_size);
        return;
      case v1::FrameHeader::kHalfClose:
        if (auto it = calls_.find(header.call_id()); it != calls_.end()) {
          it->second.half_closed = true;
        }
        return;
      case v1::FrameHeader::kCancel:
        if (auto it = calls_.find(header.call_id()); it != calls_.end()) {
          it->second.cancelled = true;
        }
        return;
      case v1::FrameHeader::kMessage:
      case v1::FrameHeader::kWindowUpdate:
        return;
      case v1::FrameHeader::kGoAway:  // section 10.2
        if (!header.go_away().graceful()) ExpectFatal(kCloseWithoutGoAway);
        return;
      default:  // a second hello, a response, no kind: section 7.8
        ExpectFatal(kInvalid);
        return;
    }
  }

  // Section 7.1 (call ids), then what the request alone decides (7.3).
  void ModelRequest(const v1::FrameHeader& header, size_t payload_size) {
    constexpr int kInvalid = static_cast<int>(absl::StatusCode::kInvalidArgument);
    const uint64_t id = header.call_id();
    if (id % 2 == 0) {
      ExpectFatal(kInvalid);
      return;
    }
    if (id <= highest_id_ && (highest_id_ - id >= 4096 || used_ids_.count(id) > 0)) {
      ExpectFatal(kInvalid);
      return;
    }
    used_ids_.insert(id);
    highest_id_ = std::max(highest_id_, id);
    Call call;
    call.kind = static_cast<MethodKind>(header.request().kind());
    const MethodInfo* known = Find(header.request().method());
    if (known == nullptr) {
      call.expected_code = static_cast<int>(absl::StatusCode::kUnimplemented);
    } else if (known->kind != call.kind) {
      call.expected_code = kInvalid;
    } else {
      call.may_hold = (call.kind == MethodKind::kClientStreaming ||
                       call.kind == MethodKind::kBidiStreaming) &&
                      payload_size == 0;
    }
    calls_[id] = call;
  }

  // --- what comes back -----------------------------------------------------

  // Whether the model knows of a call or ping the server must still answer.
  bool AnswersDue() const {
    if (!in_sync_ || fatal_) return false;
    if (pings_due_ > 0) return true;
    for (const auto& [id, call] : calls_) {
      if (!call.answered && !call.cancelled && (!call.may_hold || call.half_closed)) return true;
    }
    return false;
  }

  // Reads frames until nothing is due, the connection ended, or `limit`
  // (within the input's budget) passed.
  void Wait(absl::Duration limit) {
    const absl::Time start = absl::Now();
    // Without the model nothing is known to be due: a short look.
    if (!in_sync_) limit = std::min(limit, absl::Milliseconds(5));
    const absl::Time end = start + std::min(limit, kWaitBudget - waited_);
    while (!in_sync_ && !client_.closed() && absl::Now() < end) {
      absl::StatusOr<DecodedHeader> frame = client_.NextFrame(end - absl::Now());
      if (frame.ok()) Absorb(*frame);
    }
    while (!client_.closed() && AnswersDue() && absl::Now() < end) {
      absl::StatusOr<DecodedHeader> frame = client_.NextFrame(end - absl::Now());
      if (frame.ok()) Absorb(*frame);
    }
    Drain();
    waited_ += absl::Now() - start;
  }

  // Takes every frame already received.
  void Drain() {
    for (;;) {
      absl::StatusOr<DecodedHeader> frame = client_.NextFrame(absl::ZeroDuration());
      if (!frame.ok()) break;
      Absorb(*frame);
    }
    if (client_.closed()) {
      const absl::Status reason = client_.close_reason();
      FUZZ_CHECK(reason.code() != absl::StatusCode::kDataLoss, "%s", reason.ToString().c_str());
      FUZZ_CHECK(!in_sync_ || fatal_, "the server closed the connection, and no frame sent "
                 "called for it: %s", reason.ToString().c_str());
    }
  }

  void Absorb(const DecodedHeader& frame) {
    const v1::FrameHeader& header = frame.header;
    const size_t header_bytes = frame.raw.size() - kFramePrefixBytes - frame.payload.size();
    const std::string text = header.ShortDebugString();
    if (g_trace) std::fprintf(stderr, "<- %s +%zu bytes\n", text.c_str(), frame.payload.size());
    FUZZ_CHECK(!final_go_away_, "a frame after the server's final GoAway: %s", text.c_str());
    FUZZ_CHECK(header_bytes <= kMaxHeaderBytes, "a %zu-byte header: %s", header_bytes,
               text.c_str());
    FUZZ_CHECK(frame.payload.size() <= kServerMaxMessage,
               "a %zu-byte payload, over the server's own limit: %s", frame.payload.size(),
               text.c_str());
    FUZZ_CHECK(client_max_message_ == 0 || frame.payload.size() <= client_max_message_,
               "a %zu-byte payload, over the client's limit of %llu: %s", frame.payload.size(),
               static_cast<unsigned long long>(client_max_message_), text.c_str());
    FUZZ_CHECK(server_hello_ || header.has_hello() || header.has_go_away(),
               "the server's first frame is neither a hello nor a GoAway: %s", text.c_str());
    const uint64_t id = header.call_id();
    switch (header.kind_case()) {
      case v1::FrameHeader::kHello:
        FUZZ_CHECK(!server_hello_, "a second hello from the server");
        FUZZ_CHECK(id == 0 && header.hello().protocol_version() == 1 &&
                       header.hello().max_message_bytes() == kServerMaxMessage &&
                       frame.payload.empty(),
                   "the server's hello: %s", text.c_str());
        server_hello_ = true;
        return;
      case v1::FrameHeader::kResponse: {
        const v1::ResponseHeader& response = header.response();
        FUZZ_CHECK(Requested(id), "a response to call %llu, never requested: %s",
                   static_cast<unsigned long long>(id), text.c_str());
        FUZZ_CHECK(responded_.insert(id).second, "a second response to call %llu: %s",
                   static_cast<unsigned long long>(id), text.c_str());
        FUZZ_CHECK(response.status_code() >= 0 && response.status_code() <= 16,
                   "status code %d", response.status_code());
        FUZZ_CHECK(response.status_code() == 0 || frame.payload.empty(),
                   "an error response with a %zu-byte payload: %s", frame.payload.size(),
                   text.c_str());
        FUZZ_CHECK(response.status_message().size() <= 4096, "a %zu-byte status message",
                   response.status_message().size());
        if (auto it = calls_.find(id); it != calls_.end()) {
          it->second.answered = true;
          FUZZ_CHECK(it->second.expected_code < 0 ||
                         it->second.expected_code == response.status_code(),
                     "call %llu: expected status %d, got %s",
                     static_cast<unsigned long long>(id), it->second.expected_code,
                     text.c_str());
        }
        return;
      }
      case v1::FrameHeader::kMessage:
        FUZZ_CHECK(Requested(id), "a message on call %llu, never requested",
                   static_cast<unsigned long long>(id));
        FUZZ_CHECK(responded_.count(id) == 0, "a message on call %llu after its response",
                   static_cast<unsigned long long>(id));
        return;
      case v1::FrameHeader::kWindowUpdate:
        FUZZ_CHECK(Requested(id), "a window update on call %llu, never requested",
                   static_cast<unsigned long long>(id));
        FUZZ_CHECK(frame.payload.empty(), "a window update with a payload");
        return;
      case v1::FrameHeader::kPing:
        FUZZ_CHECK(frame.payload.empty(), "a ping with a payload");
        if (header.ping().ack()) {
          FUZZ_CHECK(!in_sync_ || ping_opaques_.count(header.ping().opaque()) > 0,
                     "a ping acknowledgement for opaque %llu, never sent",
                     static_cast<unsigned long long>(header.ping().opaque()));
          if (pings_due_ > 0) --pings_due_;
        }
        return;
      case v1::FrameHeader::kGoAway: {
        const v1::GoAway& go_away = header.go_away();
        FUZZ_CHECK(id == 0 && !go_away.graceful() && go_away.status_code() != 0 &&
                       go_away.has_last_call_id() && frame.payload.empty(),
                   "the server's GoAway: %s", text.c_str());
        FUZZ_CHECK(go_away.last_call_id() == 0 || Requested(go_away.last_call_id()),
                   "last_call_id %llu was never requested",
                   static_cast<unsigned long long>(go_away.last_call_id()));
        if (in_sync_) {
          FUZZ_CHECK(fatal_ && expected_code_ != kCloseWithoutGoAway,
                     "a GoAway no frame called for: %s", text.c_str());
          FUZZ_CHECK(go_away.status_code() == expected_code_, "expected a GoAway with code %d: %s",
                     expected_code_, text.c_str());
        }
        final_go_away_ = true;
        return;
      }
      default:
        FUZZ_CHECK(false, "the server may not send this frame (section 7.9): %s", text.c_str());
    }
  }

  // --- the end of the input ------------------------------------------------

  void Finish() {
    Wait(kWaitBudget);
    if (final_go_away_ || (in_sync_ && fatal_)) {
      FUZZ_CHECK(client_.WaitClosed(kMustHappenWithin),
                 "the server did not close the connection (%s)",
                 final_go_away_ ? "after its final GoAway" : "the model expected it to");
      Drain();
      FUZZ_CHECK(!in_sync_ || expected_code_ == kCloseWithoutGoAway || final_go_away_,
                 "the server closed without the GoAway (code %d) the model expected: %s",
                 expected_code_, client_.close_reason().ToString().c_str());
      return;
    }
    if (!in_sync_ || client_.closed()) return;  // Drain checked the close
    // The connection must still serve: a Health/Check on a new call id.
    if (!hello_ok_) {
      v1::FrameHeader hello;
      hello.mutable_hello()->set_protocol_version(1);
      SendFrame(hello, "");
    }
    if (highest_id_ > kMaxU64 - 2) return;  // no id left above
    const uint64_t id = highest_id_ + 2 - (highest_id_ == 0 ? 1 : 0);
    v1::FrameHeader request;
    request.set_call_id(id);
    request.mutable_request()->set_method("appwire.v1.Health/Check");
    SendFrame(request, "");
    const absl::Time end = absl::Now() + kMustHappenWithin;
    while (calls_.count(id) > 0 && !calls_[id].answered && !client_.closed() &&
           absl::Now() < end) {
      absl::StatusOr<DecodedHeader> frame = client_.NextFrame(end - absl::Now());
      if (!frame.ok()) continue;
      Absorb(*frame);
      if (frame->header.has_response() && frame->header.call_id() == id) {
        const int code = frame->header.response().status_code();
        FUZZ_CHECK((code == 0 && frame->payload == "\x08\x01") ||
                       code == static_cast<int>(absl::StatusCode::kResourceExhausted),
                   "Health/Check at the end of the input: %s",
                   frame->header.ShortDebugString().c_str());
      }
    }
    Drain();
    FUZZ_CHECK(calls_[id].answered, "the connection does not answer a Health/Check any more");
  }

  RawFrameClient& client_;
  // The model (section numbers of docs/protocol.md in Model).
  bool in_sync_ = true;   // the model knows how the server reads every byte sent
  bool fatal_ = false;    // a frame sent must make the server close
  int expected_code_ = 0;  // the code of its GoAway, or kCloseWithoutGoAway
  bool hello_ok_ = false;
  uint64_t client_max_message_ = 0;
  uint64_t highest_id_ = 0;
  std::set<uint64_t> used_ids_;
  std::map<uint64_t, Call> calls_;
  int pings_due_ = 0;
  // Sent, whatever the model says.
  std::set<uint64_t> requested_;
  std::set<uint64_t> ping_opaques_;
  // Received.
  bool server_hello_ = false;
  bool final_go_away_ = false;
  std::set<uint64_t> responded_;
  // Sending.
  bool batching_ = false;
  std::string pending_;
  size_t split_ = 0;
  absl::Duration waited_;
};

}  // namespace
}  // namespace appwire

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace appwire;
  static const bool started = [] {
    google::protobuf::SetLogHandler(nullptr);  // non-UTF-8 strings are the point
    // The server logs every protocol error; APPWIRE_FUZZ_LOG=1 shows them.
    if (std::getenv("APPWIRE_FUZZ_LOG") != nullptr) {
      SetMinLogLevel(LogLevel::kDebug);
    } else {
      SetLogSink([](LogLevel, absl::string_view) {});
    }
    StartServer();
    return true;
  }();
  (void)started;
  {
    std::unique_ptr<RawFrameClient> connection =
        g_over_tls ? std::make_unique<RawFrameClient>(g_fixture->port, g_fixture->ca_file)
                   : std::make_unique<RawFrameClient>([](asio::io_context& io) {
                       return ServerTestingPeer::ConnectInMemory(
                           *g_fixture->server, io,
                           absl::StrCat("memory:", g_fixture->inputs + 1));
                     });
    RawFrameClient& client = *connection;
    FUZZ_CHECK(client.ok(), "connecting: %s", client.status().ToString().c_str());
    Reader reader(data, size);
    Session session(client);
    session.Run(reader);
  }
  // The connection is gone: its calls are cancelled, their handlers end,
  // and the server lets go of it.
  const absl::Time end = absl::Now() + kMustHappenWithin;
  while ((g_running.load() > 0 || g_fixture->server->stats().open_connections > 0) &&
         absl::Now() < end) {
    absl::SleepFor(absl::Microseconds(200));
  }
  FUZZ_CHECK(g_running.load() == 0, "%d handlers still run after their connection closed",
             g_running.load());
  FUZZ_CHECK(g_fixture->server->stats().open_connections == 0,
             "the server still has %d connections open", g_fixture->server->stats().open_connections);
  if (++g_fixture->inputs % kFreshConnectionEvery == 0) {
    ExpectFreshConnectionServes("every 64 inputs");
  }
  return 0;
}
