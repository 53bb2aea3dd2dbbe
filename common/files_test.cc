#include "common/files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "gtest/gtest.h"

namespace appwire {
namespace {

std::string MakeTempDir() {
  char pattern[] = "/tmp/appwire-files-test.XXXXXX";
  return mkdtemp(pattern);
}

TEST(FilesTest, WriteFileAtomicallyUsesExactlyTheGivenMode) {
  std::string dir = MakeTempDir();
  std::string path = JoinPath(dir, "key.pem");
  ::umask(0);  // even with a permissive umask, the key is 0600
  ASSERT_TRUE(WriteFileAtomically(path, "secret", 0600).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto contents = ReadFile(path);
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(*contents, "secret");
  ::umask(022);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(FilesTest, ReadFileNamesTheMissingFile) {
  auto contents = ReadFile("/nonexistent/appwire/ca.pem");
  EXPECT_EQ(contents.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(contents.status().message(),
            "read \"/nonexistent/appwire/ca.pem\": No such file or directory");
}

TEST(FilesTest, JoinPathPutsOneSlash) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
}

}  // namespace
}  // namespace appwire
