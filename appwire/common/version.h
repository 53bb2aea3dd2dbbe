// Version numbers and well-known constants shared by every part of appwire.
#ifndef APPWIRE_COMMON_VERSION_H_
#define APPWIRE_COMMON_VERSION_H_

#include <cstdint>

namespace appwire {

// This software's version, sent in hello frames and shown by ServerInfo.
inline constexpr char kSoftwareVersion[] = "0.1.0";

// The appwire wire protocol version this build speaks (docs/protocol.md).
inline constexpr uint32_t kProtocolVersion = 1;

// The 4D application server's port, which appwire keeps as its default.
inline constexpr int kDefaultPort = 19813;

}  // namespace appwire

#endif  // APPWIRE_COMMON_VERSION_H_
