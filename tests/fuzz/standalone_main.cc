// A main() for the fuzz targets when libFuzzer is not available (the
// ordinary gcc build): runs every corpus file through
// LLVMFuzzerTestOneInput, then random mutations of them, without coverage
// feedback, until a time or run budget is spent.
//
//   NAME_fuzzer [-max_total_time=S] [-runs=N] [-seed=N] [-max_len=N]
//               [-artifact_prefix=DIR/] CORPUS_DIR_OR_FILE...
//
// With neither -max_total_time nor -runs, only the corpus runs (a regression
// check). Other libFuzzer flags (-rss_limit_mb=...) are accepted and ignored,
// so one command line suits both drivers. The mutations are seeded (default
// seed 1), so a run is reproducible up to the time budget.
//
// Prints "NAME: N executions in S s (E exec/s), corpus C files" and exits 0.
// A target that finds a bug aborts, which makes the process die non-zero;
// the input is then written to ARTIFACT_PREFIXcrash-input-NAME first (see
// OnAbort), the bytes libFuzzer would save as crash-<sha1>.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Input = std::vector<uint8_t>;

// The input being run, for the abort handler.
const Input* g_current = nullptr;
std::string g_crash_file;

void OnAbort(int signal) {
  if (g_current != nullptr) {
    if (FILE* f = std::fopen(g_crash_file.c_str(), "wb")) {
      std::fwrite(g_current->data(), 1, g_current->size(), f);
      std::fclose(f);
      std::fprintf(stderr, "standalone fuzz driver: the failing input (%zu bytes) is in %s\n",
                   g_current->size(), g_crash_file.c_str());
    }
  }
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

bool ReadFile(const std::string& path, Input* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// Files of a folder (not recursive), sorted, or the file itself.
bool AddCorpus(const std::string& path, std::vector<Input>* corpus) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "standalone fuzz driver: %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    Input input;
    if (!ReadFile(path, &input)) return false;
    corpus->push_back(std::move(input));
    return true;
  }
  std::vector<std::string> names;
  if (DIR* dir = ::opendir(path.c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      std::string file = path + "/" + name;
      if (::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode)) names.push_back(file);
    }
    ::closedir(dir);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& file : names) {
    Input input;
    if (ReadFile(file, &input)) corpus->push_back(std::move(input));
  }
  return true;
}

class Mutator {
 public:
  Mutator(uint64_t seed, size_t max_len, const std::vector<Input>* corpus)
      : rng_(seed), max_len_(max_len), corpus_(corpus) {}

  // A copy of a random corpus input with 1 to 5 stacked mutations.
  Input Next() {
    Input data = corpus_->empty() ? Input() : (*corpus_)[Below(corpus_->size())];
    const size_t count = 1 + Below(5);
    for (size_t i = 0; i < count; ++i) MutateOnce(&data);
    if (data.size() > max_len_) data.resize(max_len_);
    return data;
  }

 private:
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }
  uint8_t Byte() { return static_cast<uint8_t>(rng_()); }

  void PutInteger(Input* data, size_t offset, uint64_t value, size_t width, bool big_endian) {
    for (size_t i = 0; i < width && offset + i < data->size(); ++i) {
      const size_t shift = big_endian ? (width - 1 - i) * 8 : i * 8;
      (*data)[offset + i] = static_cast<uint8_t>(value >> shift);
    }
  }

  void MutateOnce(Input* data) {
    static constexpr uint64_t kInteresting[] = {
        0,          1,          2,          4,         8,
        0x7f,       0x80,       0xff,       0x100,     0x7fff,
        0x8000,     0xffff,     0x10000,    16u << 20, (16u << 20) + 1,
        0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};
    const size_t size = data->size();
    switch (Below(11)) {
      case 0:  // flip a bit
        if (size > 0) (*data)[Below(size)] ^= static_cast<uint8_t>(1u << Below(8));
        break;
      case 1:  // a random byte
        if (size > 0) (*data)[Below(size)] = Byte();
        break;
      case 2: {  // insert 1 to 8 bytes (random, or one repeated)
        const size_t n = 1 + Below(8);
        const bool repeat = Below(2) == 0;
        const uint8_t fill = Byte();
        Input bytes(n);
        for (uint8_t& b : bytes) b = repeat ? fill : Byte();
        data->insert(data->begin() + static_cast<std::ptrdiff_t>(Below(size + 1)), bytes.begin(),
                     bytes.end());
        break;
      }
      case 3: {  // delete 1 to 16 bytes
        if (size == 0) break;
        const size_t at = Below(size);
        const size_t n = std::min(size - at, 1 + Below(16));
        data->erase(data->begin() + static_cast<std::ptrdiff_t>(at),
                    data->begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      case 4: {  // an interesting integer, 1, 2 or 4 bytes, either byte order
        if (size == 0) break;
        static constexpr size_t kWidths[] = {1, 2, 4};
        PutInteger(data, Below(size), kInteresting[Below(std::size(kInteresting))],
                   kWidths[Below(3)], Below(2) == 0);
        break;
      }
      case 5: {  // a length field: a big-endian u32 (the frame prefix's kind) edited
        if (size < 4) break;
        // Offsets 0 and 4 (frame_length, header_length) half the time.
        const size_t offset =
            Below(2) == 0 ? (Below(2) == 0 ? 0 : std::min<size_t>(4, size - 4)) : Below(size - 3);
        uint32_t value = 0;
        for (size_t i = 0; i < 4; ++i) value = (value << 8) | (*data)[offset + i];
        switch (Below(4)) {
          case 0:
            value += static_cast<uint32_t>(1 + Below(8));
            break;
          case 1:
            value -= static_cast<uint32_t>(1 + Below(8));
            break;
          case 2:
            value = static_cast<uint32_t>(size - offset - 4 + Below(3)) - 1;
            break;
          default:
            value = static_cast<uint32_t>(kInteresting[Below(std::size(kInteresting))]);
        }
        PutInteger(data, offset, value, 4, true);
        break;
      }
      case 6: {  // a one-byte length (protobuf, DER) one up or down
        if (size == 0) break;
        (*data)[Below(size)] += Below(2) == 0 ? 1 : 0xff;
        break;
      }
      case 7: {  // splice: our head, another input's tail
        if (corpus_->empty()) break;
        const Input& other = (*corpus_)[Below(corpus_->size())];
        data->resize(Below(size + 1));
        const size_t from = Below(other.size() + 1);
        data->insert(data->end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        break;
      }
      case 8: {  // insert a piece of another input (another frame, another line)
        if (corpus_->empty()) break;
        const Input& other = (*corpus_)[Below(corpus_->size())];
        if (other.empty()) break;
        const size_t from = Below(other.size());
        const size_t n = 1 + Below(other.size() - from);
        data->insert(data->begin() + static_cast<std::ptrdiff_t>(Below(size + 1)),
                     other.begin() + static_cast<std::ptrdiff_t>(from),
                     other.begin() + static_cast<std::ptrdiff_t>(from + n));
        break;
      }
      case 9: {  // duplicate a piece of ourselves
        if (size == 0) break;
        const size_t from = Below(size);
        const size_t n = 1 + Below(size - from);
        Input piece(data->begin() + static_cast<std::ptrdiff_t>(from),
                    data->begin() + static_cast<std::ptrdiff_t>(from + n));
        data->insert(data->begin() + static_cast<std::ptrdiff_t>(Below(size + 1)), piece.begin(),
                     piece.end());
        break;
      }
      default:  // truncate
        data->resize(Below(size + 1));
        break;
    }
  }

  std::mt19937_64 rng_;
  size_t max_len_;
  const std::vector<Input>* corpus_;
};

bool StringFlag(const char* arg, const char* name, std::string* value) {
  const size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *value = arg + n + 1;
  return true;
}

bool Flag(const char* arg, const char* name, long long* value) {
  const size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *value = std::atoll(arg + n + 1);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string name = argv[0];
  name = name.substr(name.find_last_of('/') + 1);
  const std::string suffix = "_fuzzer";
  if (name.size() > suffix.size() &&
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    name.resize(name.size() - suffix.size());
  }

  long long max_total_time = 0, runs = -1, seed = 1, max_len = 0;
  std::string artifact_prefix;
  std::vector<Input> corpus;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (arg[0] == '-') {
      if (!Flag(arg, "-max_total_time", &max_total_time) && !Flag(arg, "-runs", &runs) &&
          !Flag(arg, "-seed", &seed) && !Flag(arg, "-max_len", &max_len) &&
          !StringFlag(arg, "-artifact_prefix", &artifact_prefix)) {
        // A libFuzzer flag this driver has no use for.
      }
      continue;
    }
    if (!AddCorpus(arg, &corpus)) return 2;
  }
  if (max_len <= 0) {
    max_len = 4096;  // libFuzzer's default: 4096, or the largest corpus file
    for (const Input& input : corpus) max_len = std::max<long long>(max_len, input.size());
  }

  g_crash_file = artifact_prefix + "crash-input-" + name;
  std::signal(SIGABRT, OnAbort);
  std::signal(SIGSEGV, OnAbort);
  std::signal(SIGBUS, OnAbort);
  std::signal(SIGFPE, OnAbort);
  std::signal(SIGILL, OnAbort);

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(max_total_time);
  long long executions = 0;
  auto run = [&executions](const Input& input) {
    // An exact-size heap copy, so that reading past the end is a real
    // out-of-bounds read (ASan, valgrind), as under libFuzzer.
    Input copy(input);
    g_current = &copy;
    static const uint8_t kEmpty = 0;
    LLVMFuzzerTestOneInput(copy.empty() ? &kEmpty : copy.data(), copy.size());
    g_current = nullptr;
    ++executions;
  };

  if (corpus.empty()) run(Input());
  for (const Input& input : corpus) {
    if (runs >= 0 && executions >= runs) break;
    run(input);
  }
  const bool fuzz = max_total_time > 0 || runs > 0;
  if (fuzz) {
    Mutator mutator(static_cast<uint64_t>(seed), static_cast<size_t>(max_len), &corpus);
    for (;;) {
      if (runs >= 0 && executions >= runs) break;
      if (max_total_time > 0 && Clock::now() >= deadline) break;
      run(mutator.Next());
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%s: %lld executions in %.1f s (%.0f exec/s), corpus %zu files\n", name.c_str(),
              executions, seconds, seconds > 0 ? executions / seconds : 0.0, corpus.size());
  return 0;
}
