#include "appwire/transport/session_ticket_key.h"

#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "appwire/transport/internal/wolfssl.h"

namespace appwire {

absl::StatusOr<SessionTicketKey> LoadOrMakeSessionTicketKey(const std::string& path) {
  if (FileExists(path)) {
    absl::StatusOr<std::string> bytes = ReadFile(path);
    if (!bytes.ok()) return bytes.status();
    if (bytes->size() != kSessionTicketKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", path, "\" holds ", bytes->size(), " bytes, not the ", kSessionTicketKeyBytes,
          " of a session ticket key; delete it and a new one is made at the next start "
          "(clients then do one full handshake)"));
    }
    return SessionTicketKey{*std::move(bytes), false};
  }
  std::string key(kSessionTicketKeyBytes, '\0');
  WC_RNG rng;
  if (wc_InitRng(&rng) != 0) return absl::InternalError("wolfSSL's random generator failed");
  const int ret = wc_RNG_GenerateBlock(&rng, reinterpret_cast<unsigned char*>(key.data()),
                                       static_cast<word32>(key.size()));
  wc_FreeRng(&rng);
  if (ret != 0) return absl::InternalError("wolfSSL's random generator failed");
  return SessionTicketKey{std::move(key), true};
}

absl::Status WriteSessionTicketKey(const std::string& path, const SessionTicketKey& key) {
  return WriteFileAtomically(path, key.bytes, 0600, ExistingFile::kKeep);
}

}  // namespace appwire
