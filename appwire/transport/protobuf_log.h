// protobuf writes its own "[libprotobuf ERROR ...]" lines to stderr (for
// example when a peer's frame header holds invalid UTF-8). RouteProtobufLogs
// sends them through appwire's logger instead, so the operator sees one log
// in one format. Idempotent and thread-safe; Connection::Create calls it.
#ifndef APPWIRE_TRANSPORT_PROTOBUF_LOG_H_
#define APPWIRE_TRANSPORT_PROTOBUF_LOG_H_

namespace appwire {

void RouteProtobufLogs();

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_PROTOBUF_LOG_H_
