// For tests only: how many of the objects behind Channels exist in this
// process right now. A destroyed Channel must leave none of its own behind
// (see ~Channel in client/channel.h); tests compare these counts before and
// after. Not for apps: the numbers are process-wide and change under you.
#ifndef APPWIRE_CLIENT_INTERNAL_LIVE_OBJECTS_H_
#define APPWIRE_CLIENT_INTERNAL_LIVE_OBJECTS_H_

namespace appwire::internal {

struct LiveChannelObjects {
  int impls = 0;        // Channel::Impl, a channel's state
  int links = 0;        // connections or attempts a channel keeps track of
  int connections = 0;  // Connection objects (and so TLS streams, sockets) channels made
};

LiveChannelObjects LiveChannelObjectsForTesting();

}  // namespace appwire::internal

#endif  // APPWIRE_CLIENT_INTERNAL_LIVE_OBJECTS_H_
