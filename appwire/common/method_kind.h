// How the messages of a method flow; fixed by the method's definition
// (`stream` keywords in the .proto file) and checked by the server.
#ifndef APPWIRE_COMMON_METHOD_KIND_H_
#define APPWIRE_COMMON_METHOD_KIND_H_

#include "absl/strings/string_view.h"

namespace appwire {

// Same values as appwire.v1.MethodKind on the wire.
enum class MethodKind {
  kUnary = 0,            // one request, one response
  kServerStreaming = 1,  // one request, a stream of responses
  kClientStreaming = 2,  // a stream of requests, one response
  kBidiStreaming = 3,    // streams both ways
};

inline absl::string_view MethodKindName(MethodKind kind) {
  switch (kind) {
    case MethodKind::kUnary: return "unary";
    case MethodKind::kServerStreaming: return "server-streaming";
    case MethodKind::kClientStreaming: return "client-streaming";
    case MethodKind::kBidiStreaming: return "bidirectional-streaming";
  }
  return "unknown";
}

}  // namespace appwire

#endif  // APPWIRE_COMMON_METHOD_KIND_H_
