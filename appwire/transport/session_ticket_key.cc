#include "appwire/transport/session_ticket_key.h"

#include "absl/strings/str_cat.h"
#include "appwire/common/files.h"
#include "appwire/transport/internal/wolfssl.h"

namespace appwire {

absl::StatusOr<std::string> LoadOrCreateSessionTicketKey(const std::string& path) {
  if (FileExists(path)) {
    absl::StatusOr<std::string> key = ReadFile(path);
    if (!key.ok()) return key.status();
    if (key->size() != kSessionTicketKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", path, "\" holds ", key->size(), " bytes, not the ", kSessionTicketKeyBytes,
          " of a session ticket key; delete it and a new one is made at the next start "
          "(clients then do one full handshake)"));
    }
    return key;
  }
  std::string key(kSessionTicketKeyBytes, '\0');
  WC_RNG rng;
  if (wc_InitRng(&rng) != 0) return absl::InternalError("wolfSSL's random generator failed");
  const int ret = wc_RNG_GenerateBlock(&rng, reinterpret_cast<unsigned char*>(key.data()),
                                       static_cast<word32>(key.size()));
  wc_FreeRng(&rng);
  if (ret != 0) return absl::InternalError("wolfSSL's random generator failed");
  absl::Status written = WriteFileAtomically(path, key, 0600);
  if (!written.ok()) return written;
  return key;
}

}  // namespace appwire
