#include "appwire/common/files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
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

TEST(FilesTest, KeepingAnExistingFileLeavesItAndSaysSo) {
  std::string dir = MakeTempDir();
  std::string path = JoinPath(dir, "key.pem");
  ASSERT_TRUE(WriteFileAtomically(path, "the key in use", 0600, ExistingFile::kKeep).ok());
  absl::Status again = WriteFileAtomically(path, "another key", 0600, ExistingFile::kKeep);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.message(), path + " exists");
  EXPECT_EQ(*ReadFile(path), "the key in use");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_nlink, 1u);  // the temporary link is gone
  // No temporary file is left behind either way.
  EXPECT_FALSE(FileExists(absl::StrCat(path, ".tmp.", ::getpid())));
  ASSERT_TRUE(WriteFileAtomically(path, "replaced", 0600).ok());
  EXPECT_EQ(*ReadFile(path), "replaced");
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(FilesTest, ReadFileNamesTheMissingFile) {
  auto contents = ReadFile("/nonexistent/appwire/ca.pem");
  EXPECT_EQ(contents.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(contents.status().message(),
            "read \"/nonexistent/appwire/ca.pem\": No such file or directory");
}

TEST(FilesTest, AppendLineToFileNamesTheFileItCannotOpen) {
  absl::Status status =
      AppendLineToFile("/nonexistent/appwire/known_servers", "a:1 SHA256:AA\n", 0644);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(),
            "append to \"/nonexistent/appwire/known_servers\": No such file or directory");
}

TEST(FilesTest, MakeDirectoriesMakesEachMissingFolder) {
  std::string dir = MakeTempDir();
  const std::string nested = JoinPath(dir, "a/b/c");
  ASSERT_TRUE(MakeDirectories(nested).ok());
  EXPECT_TRUE(FileExists(nested));
  EXPECT_TRUE(MakeDirectories(nested).ok());  // already there: fine
  ASSERT_TRUE(WriteFileAtomically(JoinPath(dir, "file"), "x", 0644).ok());
  absl::Status under_a_file = MakeDirectories(JoinPath(dir, "file/sub"));
  EXPECT_EQ(under_a_file.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(under_a_file.message(),
            absl::StrCat("create folder \"", dir, "/file/sub\": Not a directory"));
  std::filesystem::remove_all(dir);
}

TEST(FilesTest, JoinPathPutsOneSlash) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
}

}  // namespace
}  // namespace appwire
