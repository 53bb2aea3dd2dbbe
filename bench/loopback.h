// Plain TCP sockets on 127.0.0.1 for the bench's relay and its plain-TCP
// floor: Nagle off on every connection (the bench sends small messages and
// waits for their answers). Exits with a message when the system refuses.
#ifndef APPWIRE_BENCH_LOOPBACK_H_
#define APPWIRE_BENCH_LOOPBACK_H_

#include <cstddef>

namespace appwire_bench {

// A listening socket on 127.0.0.1 with a port the system chose (*port).
int ListenLoopback(int* port);
// A connection to 127.0.0.1:port, or -1.
int ConnectLoopback(int port);
// Accepts one connection on `listener`, or -1.
int AcceptLoopback(int listener);
// Reads exactly n bytes; false when the connection ended first.
bool ReadExactly(int fd, char* buffer, size_t n);

}  // namespace appwire_bench

#endif  // APPWIRE_BENCH_LOOPBACK_H_
