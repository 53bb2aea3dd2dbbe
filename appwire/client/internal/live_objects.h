// For tests only: how many of the objects behind Channels exist in this
// process right now. A destroyed Channel must leave none of its own behind
// (see ~Channel in appwire/client/channel.h); tests compare these counts before and
// after. Not for apps: the numbers are process-wide and change under you.
// The counting side (LiveCounted, TrackChannelConnection) is for the
// channel's implementation; appwire/client/live_objects.cc keeps the counts.
#ifndef APPWIRE_CLIENT_INTERNAL_LIVE_OBJECTS_H_
#define APPWIRE_CLIENT_INTERNAL_LIVE_OBJECTS_H_

#include <memory>

namespace appwire {
class Connection;
}  // namespace appwire

namespace appwire::internal {

struct LiveChannelObjects {
  int impls = 0;        // Channel::Impl, a channel's state
  int links = 0;        // connections or attempts a channel keeps track of
  int connections = 0;  // Connection objects (and so TLS streams, sockets) channels made
};

LiveChannelObjects LiveChannelObjectsForTesting();

// Counts its owner, a member, from construction to destruction.
class LiveCounted {
 public:
  enum class Kind { kImpl, kLink };
  explicit LiveCounted(Kind kind);
  ~LiveCounted();
  LiveCounted(const LiveCounted&) = delete;
  LiveCounted& operator=(const LiveCounted&) = delete;

 private:
  Kind kind_;
};

// Counts `connection` while it lives: a Connection is shared with the
// transport's handlers, so only a weak reference tells when it is gone.
void TrackChannelConnection(const std::shared_ptr<Connection>& connection);

}  // namespace appwire::internal

#endif  // APPWIRE_CLIENT_INTERNAL_LIVE_OBJECTS_H_
