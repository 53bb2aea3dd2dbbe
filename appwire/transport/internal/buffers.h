// How long-lived connection buffers give memory back.
#ifndef APPWIRE_TRANSPORT_INTERNAL_BUFFERS_H_
#define APPWIRE_TRANSPORT_INTERNAL_BUFFERS_H_

#include <cstddef>
#include <string>

namespace appwire::internal {

// A buffer that grew past this for one message is freed once emptied; a
// smaller one is kept for the next message. Keeping megabyte buffers makes
// bulk transfers avoid a fresh mmap and page faults per message; freeing
// larger ones bounds what a connection keeps after one huge message. Idle
// connections that only saw small messages keep small buffers.
inline constexpr size_t kKeptBufferBytes = 4u << 20;

inline void ClearBuffer(std::string* buffer) {
  buffer->clear();
  if (buffer->capacity() > kKeptBufferBytes) std::string().swap(*buffer);
}

}  // namespace appwire::internal

#endif  // APPWIRE_TRANSPORT_INTERNAL_BUFFERS_H_
