#include "appwire/common/internal/platform_files.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

// The POSIX branch, as the tests run on Linux; the Windows branch is
// checked for syntax only (scripts/check-windows-syntax.sh).
namespace appwire::internal {
namespace {

namespace fs = std::filesystem;

class PlatformFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/appwire-platform-files-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  static unsigned Mode(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
  }
  static std::string Read(const std::string& path) {
    std::string contents;
    EXPECT_FALSE(ReadWholeFile(path, &contents)) << path;
    return contents;
  }

  std::string dir_;
};

TEST_F(PlatformFilesTest, NewFileHasExactlyTheModeEvenWithAPermissiveUmask) {
  const mode_t old_umask = ::umask(0);
  const char* action = nullptr;
  EXPECT_FALSE(WriteNewFile(Path("key.pem"), "secret", 0600, &action));
  EXPECT_FALSE(WriteNewFile(Path("cert.pem"), "public", 0644, &action));
  ::umask(old_umask);
  EXPECT_EQ(Mode(Path("key.pem")), 0600u);
  EXPECT_EQ(Mode(Path("cert.pem")), 0644u);
  EXPECT_EQ(Read(Path("key.pem")), "secret");
}

TEST_F(PlatformFilesTest, AStaleFileOfTheSameNameIsReplacedAndNarrowed) {
  const char* action = nullptr;
  ASSERT_FALSE(WriteNewFile(Path("key.pem.tmp"), "old and readable", 0644, &action));
  EXPECT_FALSE(WriteNewFile(Path("key.pem.tmp"), "new", 0600, &action));
  EXPECT_EQ(Mode(Path("key.pem.tmp")), 0600u);
  EXPECT_EQ(Read(Path("key.pem.tmp")), "new");
}

// While a large key is written, a watcher looks at the file as often as it
// can: it never sees it readable by group or others, not even empty, as it
// would if the mode were set only after the contents.
TEST_F(PlatformFilesTest, APrivateKeyIsNeverSeenWithAWiderMode) {
  const std::string path = Path("key.pem");
  const std::string contents(4 << 20, 'k');
  std::atomic<bool> done{false};
  std::atomic<int> seen{0};
  std::atomic<int> wide{0};
  std::thread watcher([&] {
    while (!done.load()) {
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) continue;
      ++seen;
      if ((st.st_mode & 077) != 0) ++wide;
    }
  });
  const mode_t old_umask = ::umask(0);
  for (int i = 0; i < 10; ++i) {
    const char* action = nullptr;
    EXPECT_FALSE(WriteNewFile(path, contents, 0600, &action));
    ::unlink(path.c_str());
  }
  ::umask(old_umask);
  done = true;
  watcher.join();
  EXPECT_GT(seen.load(), 0) << "the watcher never saw the file: the test proves nothing";
  EXPECT_EQ(wide.load(), 0);
}

TEST_F(PlatformFilesTest, ReplaceFileReplacesAnExistingFile) {
  const char* action = nullptr;
  ASSERT_FALSE(WriteNewFile(Path("settings.tmp"), "new", 0644, &action));
  ASSERT_FALSE(WriteNewFile(Path("settings"), "old", 0644, &action));
  EXPECT_FALSE(ReplaceFile(Path("settings.tmp"), Path("settings")));
  EXPECT_EQ(Read(Path("settings")), "new");
  EXPECT_FALSE(fs::exists(Path("settings.tmp")));
}

TEST_F(PlatformFilesTest, MoveFileIfAbsentNeverReplaces) {
  const char* action = nullptr;
  ASSERT_FALSE(WriteNewFile(Path("key.pem"), "the key in use", 0600, &action));
  ASSERT_FALSE(WriteNewFile(Path("key.pem.tmp"), "another key", 0600, &action));
  const std::error_code error = MoveFileIfAbsent(Path("key.pem.tmp"), Path("key.pem"));
  EXPECT_EQ(Classify(error), FileErrorKind::kExists) << error.message();
  EXPECT_EQ(Read(Path("key.pem")), "the key in use");
  EXPECT_TRUE(fs::exists(Path("key.pem.tmp")));  // still there: the caller removes it

  ASSERT_TRUE(fs::remove(Path("key.pem")));
  EXPECT_FALSE(MoveFileIfAbsent(Path("key.pem.tmp"), Path("key.pem")));
  EXPECT_EQ(Read(Path("key.pem")), "another key");
  EXPECT_FALSE(fs::exists(Path("key.pem.tmp")));
  struct stat st;
  ASSERT_EQ(::stat(Path("key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);  // the temporary name is gone
}

TEST_F(PlatformFilesTest, ReadingAMissingFileIsNotFound) {
  std::string contents;
  const std::error_code error = ReadWholeFile(Path("absent"), &contents);
  EXPECT_EQ(Classify(error), FileErrorKind::kNotFound);
  EXPECT_EQ(error.message(), "No such file or directory");
}

TEST_F(PlatformFilesTest, AppendCreatesWithTheModeAndStartsOnANewLine) {
  const std::string path = Path("known_servers");
  const mode_t old_umask = ::umask(0);
  EXPECT_FALSE(AppendToFile(path, "a:1 SHA256:AA\n", 0644, true));
  ::umask(old_umask);
  EXPECT_EQ(Mode(path), 0644u);
  // Edited by hand, without its final newline.
  EXPECT_FALSE(AppendToFile(path, "b:2 SHA256:BB", 0644, false));
  EXPECT_FALSE(AppendToFile(path, "c:3 SHA256:CC\n", 0644, true));
  EXPECT_EQ(Read(path), "a:1 SHA256:AA\nb:2 SHA256:BB\nc:3 SHA256:CC\n");
}

// Lines are long enough (a few hundred bytes) that a write in pieces, or
// one at an offset read before another writer's, would show.
std::vector<std::string> AppendedLines(const std::string& who, int count) {
  std::vector<std::string> lines;
  for (int i = 0; i < count; ++i) {
    lines.push_back(absl::StrCat(who, "-", i, ":", std::string(300, 'a' + i % 26), "\n"));
  }
  return lines;
}

void ExpectExactlyTheseLines(const std::string& text, const std::vector<std::string>& expected) {
  std::multiset<std::string> want;
  for (const std::string& line : expected) want.insert(line.substr(0, line.size() - 1));
  std::multiset<std::string> got;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    got.insert(std::string(line));
  }
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "lines were lost or interleaved";
}

TEST_F(PlatformFilesTest, AppendsFromTwoThreadsNeverInterleave) {
  const std::string path = Path("known_servers");
  const std::vector<std::string> first = AppendedLines("first", 3000);
  const std::vector<std::string> second = AppendedLines("second", 3000);
  auto append_all = [&path](const std::vector<std::string>& lines) {
    for (const std::string& line : lines) EXPECT_FALSE(AppendToFile(path, line, 0644, true));
  };
  std::thread a(append_all, std::cref(first));
  std::thread b(append_all, std::cref(second));
  a.join();
  b.join();
  std::vector<std::string> all = first;
  all.insert(all.end(), second.begin(), second.end());
  ExpectExactlyTheseLines(Read(path), all);
}

TEST_F(PlatformFilesTest, AppendsFromTwoProcessesNeverInterleave) {
  const std::string path = Path("known_servers");
  const std::vector<std::string> first = AppendedLines("first", 3000);
  const std::vector<std::string> second = AppendedLines("second", 3000);
  // Both children wait until the pipe closes, so that they append at once.
  int start[2];
  ASSERT_EQ(::pipe(start), 0);
  std::vector<pid_t> children;
  for (const std::vector<std::string>* lines : {&first, &second}) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(start[1]);
      char byte;
      while (::read(start[0], &byte, 1) < 0 && errno == EINTR) {
      }
      int failures = 0;
      for (const std::string& line : *lines) failures += AppendToFile(path, line, 0644, true) ? 1 : 0;
      ::_exit(failures == 0 ? 0 : 1);
    }
    children.push_back(child);
  }
  ::close(start[0]);
  ::close(start[1]);
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::vector<std::string> all = first;
  all.insert(all.end(), second.begin(), second.end());
  ExpectExactlyTheseLines(Read(path), all);
}

TEST_F(PlatformFilesTest, MakeDirectoryUsesTheModeAndSaysWhenItExists) {
  const mode_t old_umask = ::umask(022);
  EXPECT_FALSE(MakeDirectory(Path("sub"), 0755));
  ::umask(old_umask);
  EXPECT_EQ(Mode(Path("sub")), 0755u);
  EXPECT_EQ(Classify(MakeDirectory(Path("sub"), 0755)), FileErrorKind::kExists);
}

TEST_F(PlatformFilesTest, PosixPermissionBitsAreTheFilesMode) {
  const char* action = nullptr;
  ASSERT_FALSE(WriteNewFile(Path("key.pem"), "k", 0640, &action));
  EXPECT_EQ(PosixPermissionBits(Path("key.pem")), std::optional<unsigned>(0640u));
  EXPECT_EQ(PosixPermissionBits(Path("absent")), std::nullopt);
}

TEST(PlatformFilesPathTest, NativePathReadsUtf8) {
  EXPECT_EQ(NativePath("caf\xc3\xa9/key.pem").u8string(), "caf\xc3\xa9/key.pem");
}

}  // namespace
}  // namespace appwire::internal
