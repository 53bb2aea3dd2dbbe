// Metadata to and from its wire form (repeated appwire.v1.MetadataEntry).
#ifndef APPWIRE_TRANSPORT_METADATA_WIRE_H_
#define APPWIRE_TRANSPORT_METADATA_WIRE_H_

#include "appwire/common/metadata.h"
#include "appwire/v1/frame.pb.h"

namespace appwire {

using WireMetadata = google::protobuf::RepeatedPtrField<v1::MetadataEntry>;

inline void MetadataToWire(const Metadata& metadata, WireMetadata* wire) {
  for (const auto& [key, value] : metadata) {
    v1::MetadataEntry* entry = wire->Add();
    entry->set_key(key);
    entry->set_value(value);
  }
}

inline Metadata MetadataFromWire(const WireMetadata& wire) {
  Metadata metadata;
  for (const v1::MetadataEntry& entry : wire) metadata.emplace(entry.key(), entry.value());
  return metadata;
}

}  // namespace appwire

#endif  // APPWIRE_TRANSPORT_METADATA_WIRE_H_
