#include "appwire/client/internal/live_objects.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace appwire::internal {
namespace {

std::atomic<int> live_impls{0};
std::atomic<int> live_links{0};

std::atomic<int>& CountOf(LiveCounted::Kind kind) {
  return kind == LiveCounted::Kind::kImpl ? live_impls : live_links;
}

// The connections channels made, to count those still alive.
struct ConnectionRegistry {
  std::mutex mu;
  std::vector<std::weak_ptr<Connection>> connections;

  static ConnectionRegistry& Get() {
    static ConnectionRegistry* registry = new ConnectionRegistry();
    return *registry;
  }
  void Add(const std::shared_ptr<Connection>& connection) {
    std::lock_guard<std::mutex> lock(mu);
    connections.erase(std::remove_if(connections.begin(), connections.end(),
                                     [](const auto& weak) { return weak.expired(); }),
                      connections.end());
    connections.push_back(connection);
  }
  int Live() {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<int>(std::count_if(connections.begin(), connections.end(),
                                          [](const auto& weak) { return !weak.expired(); }));
  }
};

}  // namespace

LiveCounted::LiveCounted(Kind kind) : kind_(kind) { CountOf(kind_).fetch_add(1); }
LiveCounted::~LiveCounted() { CountOf(kind_).fetch_sub(1); }

void TrackChannelConnection(const std::shared_ptr<Connection>& connection) {
  ConnectionRegistry::Get().Add(connection);
}

LiveChannelObjects LiveChannelObjectsForTesting() {
  LiveChannelObjects live;
  live.impls = live_impls.load();
  live.links = live_links.load();
  live.connections = ConnectionRegistry::Get().Live();
  return live;
}

}  // namespace appwire::internal
