#include "appwire/transport/internal/client_hello.h"

#include <cstdint>

namespace appwire::internal {
namespace {

// Reads big-endian integers and length-prefixed fields from a buffer,
// failing (ok() false) rather than reading past its end.
class Reader {
 public:
  explicit Reader(absl::string_view bytes) : bytes_(bytes) {}
  bool ok() const { return ok_; }
  bool empty() const { return bytes_.empty(); }
  uint32_t Number(size_t width) {
    if (!ok_ || bytes_.size() < width) return Fail();
    uint32_t value = 0;
    for (size_t i = 0; i < width; ++i) value = (value << 8) | static_cast<unsigned char>(bytes_[i]);
    bytes_.remove_prefix(width);
    return value;
  }
  absl::string_view Bytes(size_t count) {
    if (!ok_ || bytes_.size() < count) {
      Fail();
      return {};
    }
    absl::string_view out = bytes_.substr(0, count);
    bytes_.remove_prefix(count);
    return out;
  }
  // A field preceded by its length in `width` bytes.
  absl::string_view Prefixed(size_t width) { return Bytes(Number(width)); }

 private:
  uint32_t Fail() {
    ok_ = false;
    bytes_ = {};
    return 0;
  }
  absl::string_view bytes_;
  bool ok_ = true;
};

constexpr uint32_t kHandshakeRecord = 22;
constexpr uint32_t kClientHello = 1;
constexpr uint32_t kAlpnExtension = 16;

}  // namespace

std::vector<std::string> ClientHelloAlpnProtocols(absl::string_view records) {
  Reader record(records);
  if (record.Number(1) != kHandshakeRecord) return {};
  record.Number(2);  // legacy record version
  Reader handshake(record.Prefixed(2));
  if (handshake.Number(1) != kClientHello) return {};
  Reader hello(handshake.Prefixed(3));
  hello.Number(2);    // legacy_version
  hello.Bytes(32);    // random
  hello.Prefixed(1);  // legacy_session_id
  hello.Prefixed(2);  // cipher_suites
  hello.Prefixed(1);  // legacy_compression_methods
  Reader extensions(hello.Prefixed(2));
  while (extensions.ok() && !extensions.empty()) {
    const uint32_t type = extensions.Number(2);
    const absl::string_view data = extensions.Prefixed(2);
    if (type != kAlpnExtension) continue;
    Reader list(data);
    Reader names(list.Prefixed(2));
    std::vector<std::string> protocols;
    while (names.ok() && !names.empty()) {
      const absl::string_view name = names.Prefixed(1);
      if (names.ok() && !name.empty()) protocols.emplace_back(name);
    }
    return names.ok() && list.ok() ? protocols : std::vector<std::string>{};
  }
  return {};
}

}  // namespace appwire::internal
