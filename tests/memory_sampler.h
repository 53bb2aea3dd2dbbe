// MemorySampler: the peak growth of this process's memory while it lives,
// for tests that bound what a client can make the server (running in the
// same process) hold.
//
// "Memory" is the resident set (VmRSS) in ordinary builds: what an
// operator sees. Under AddressSanitizer or ThreadSanitizer it is the live
// heap instead (__sanitizer_get_current_allocated_bytes): ASan keeps freed
// memory resident in its quarantine (256 MiB by default) and TSan adds
// shadow memory, so their RSS says nothing about what the code holds.
//
//   MemorySampler memory;
//   ... the load ...
//   memory.Stop();
//   EXPECT_LT(memory.growth(), 64 * kMiB) << memory.Describe();
#ifndef APPWIRE_TESTS_MEMORY_SAMPLER_H_
#define APPWIRE_TESTS_MEMORY_SAMPLER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace appwire {
namespace testing {

// What MemorySampler measures, in bytes, right now.
int64_t CurrentMemoryBytes();

// "resident set (VmRSS)" or "live heap (sanitizer build)".
const char* MemoryMeasureName();

class MemorySampler {
 public:
  // Samples every 5 ms on a thread of its own until Stop().
  MemorySampler();
  ~MemorySampler();
  MemorySampler(const MemorySampler&) = delete;
  MemorySampler& operator=(const MemorySampler&) = delete;

  void Stop();
  // Peak seen minus the value at construction, in bytes.
  int64_t growth() const { return max_.load() - start_; }
  // "resident set (VmRSS) grew by N MiB (from A MiB to a peak of B MiB)".
  std::string Describe() const;

 private:
  const int64_t start_;
  std::atomic<int64_t> max_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace testing
}  // namespace appwire

#endif  // APPWIRE_TESTS_MEMORY_SAMPLER_H_
