#include "tests/memory_sampler.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define APPWIRE_SANITIZER_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define APPWIRE_SANITIZER_HEAP 1
#endif
#endif

#ifdef APPWIRE_SANITIZER_HEAP
// From <sanitizer/allocator_interface.h>, which gcc does not install; every
// sanitizer runtime with its own allocator (ASan, TSan) defines it.
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace appwire {
namespace testing {

int64_t CurrentMemoryBytes() {
#ifdef APPWIRE_SANITIZER_HEAP
  return static_cast<int64_t>(__sanitizer_get_current_allocated_bytes());
#else
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      int64_t kib = 0;
      std::istringstream(line.substr(6)) >> kib;
      return kib * 1024;
    }
  }
  return 0;
#endif
}

const char* MemoryMeasureName() {
#ifdef APPWIRE_SANITIZER_HEAP
  return "live heap (sanitizer build)";
#else
  return "resident set (VmRSS)";
#endif
}

MemorySampler::MemorySampler() : start_(CurrentMemoryBytes()), max_(start_) {
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      const int64_t now = CurrentMemoryBytes();
      int64_t seen = max_.load();
      while (now > seen && !max_.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
}

MemorySampler::~MemorySampler() { Stop(); }

void MemorySampler::Stop() {
  if (stop_.exchange(true)) return;
  thread_.join();
}

std::string MemorySampler::Describe() const {
  constexpr int64_t kMiB = 1 << 20;
  return absl::StrCat(MemoryMeasureName(), " grew by ", growth() / kMiB, " MiB (from ",
                      start_ / kMiB, " MiB to a peak of ", max_.load() / kMiB, " MiB)");
}

}  // namespace testing
}  // namespace appwire
