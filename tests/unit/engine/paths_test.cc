// Path confinement of the built-in tasks: every way an input is named (a file, a glob, a folder
// read recursively, a dataset folder, a time range) stays inside the data root through "..",
// absolute paths and symlinks; outputs are never the root nor over an input.
#include "engine/io/paths.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "engine/io/dataset.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::engine {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class PathsTest : public testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::path(testing::TempDir()) /
            absl::StrCat("paths_test_", ::getpid(), "_",
                         testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    root_ = base_ / "root";
    fs::create_directories(root_);
    fs::create_directories(base_ / "outside");
    std::ofstream(base_ / "outside" / "secret.csv") << "password\nhunter2\n";
  }
  void TearDown() override { fs::remove_all(base_); }

  void Write(const std::string& rel, const std::string& content = "a,b\n1,2\n") {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  absl::StatusOr<std::vector<std::string>> List(const std::string& input, bool recursive = true) {
    return ListInputFiles(input, root_.string(), LooksLikeCsvName, "CSV files", recursive);
  }
  static void ExpectOutside(const absl::Status& s) {
    EXPECT_FALSE(s.ok());
    EXPECT_THAT(s.message(), HasSubstr("outside the data root")) << s;
  }

  fs::path base_, root_;
};

TEST_F(PathsTest, NamedFileDotDotAndAbsolute) {
  Write("drop/a.csv");
  EXPECT_TRUE(List("drop/a.csv").ok());
  EXPECT_TRUE(List((root_ / "drop/a.csv").string()).ok());  // absolute inside: fine
  ExpectOutside(List("../outside/secret.csv").status());
  ExpectOutside(List("drop/../../outside/secret.csv").status());
  ExpectOutside(List((base_ / "outside/secret.csv").string()).status());
  fs::create_symlink(base_ / "outside/secret.csv", root_ / "drop/link.csv");
  ExpectOutside(List("drop/link.csv").status());
}

TEST_F(PathsTest, FolderInputDoesNotFollowALinkOut) {
  Write("drop/a.csv");
  fs::create_symlink(base_ / "outside/secret.csv", root_ / "drop/passwd.csv");
  ExpectOutside(List("drop").status());
  ExpectOutside(List("drop", /*recursive=*/false).status());
  // A linked folder deeper down, too.
  fs::remove(root_ / "drop/passwd.csv");
  fs::create_directories(root_ / "drop/sub");
  fs::create_directory_symlink(base_ / "outside", root_ / "drop/sub/out");
  ExpectOutside(List("drop").status());
}

TEST_F(PathsTest, LinksInsideTheRootAreFineAndListedResolved) {
  Write("real/a.csv");
  Write("drop/b.csv");
  fs::create_symlink(root_ / "real/a.csv", root_ / "drop/a.csv");
  auto files = List("drop");
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ::testing::ElementsAre(fs::weakly_canonical(root_ / "drop/b.csv").string(),
                                             fs::weakly_canonical(root_ / "real/a.csv").string()));
}

TEST_F(PathsTest, SymlinkLoopInAFolderIsAnError) {
  Write("drop/a.csv");
  fs::create_directory_symlink(root_ / "drop", root_ / "drop/again");
  auto files = List("drop");
  ASSERT_FALSE(files.ok());
  EXPECT_THAT(files.status().message(), HasSubstr("symlink loop"));
}

TEST_F(PathsTest, GlobDoesNotMatchOutOrThroughALink) {
  Write("drop/a.csv");
  EXPECT_TRUE(List("drop/*.csv").ok());
  ExpectOutside(List("../outside/*.csv").status());
  ExpectOutside(List((base_ / "outside/*.csv").string()).status());
  fs::create_symlink(base_ / "outside/secret.csv", root_ / "drop/z.csv");
  ExpectOutside(List("drop/*.csv").status());
  fs::remove(root_ / "drop/z.csv");
  fs::create_directory_symlink(base_ / "outside", root_ / "linked");
  ExpectOutside(List("linked/*.csv").status());
}

TEST_F(PathsTest, DatasetFolderRangeAndGlob) {
  Write("lake/t/dt=2024-01-01/part-0.csv");
  Write("lake/t/dt=2024-01-01/_SUCCESS", "{}");
  fs::create_directories(base_ / "outside/dt=2024-01-02");
  std::ofstream(base_ / "outside/dt=2024-01-02/part-0.csv") << "a\n1\n";
  std::ofstream(base_ / "outside/dt=2024-01-02/_SUCCESS") << "{}";
  fs::create_directory_symlink(base_ / "outside/dt=2024-01-02", root_ / "lake/t/dt=2024-01-02");
  DatasetSpec folder{"lake/t"};
  ExpectOutside(ResolveDataset(folder, root_.string()).status());
  DatasetSpec range{"lake/t", "2024-01-01", "2024-01-03"};
  ExpectOutside(ResolveDataset(range, root_.string()).status());
  DatasetSpec glob{"lake/t/*/part-0.csv"};
  ExpectOutside(ResolveDataset(glob, root_.string()).status());
  DatasetSpec named{"lake/t/dt=2024-01-02/part-0.csv"};
  ExpectOutside(ResolveDataset(named, root_.string()).status());
  DatasetSpec up{"lake/../../outside"};
  ExpectOutside(ResolveDataset(up, root_.string()).status());
}

TEST_F(PathsTest, OutputIsNeverTheRootOrOutside) {
  for (const char* out : {".", "./", "lake/..", root_.c_str()}) {
    auto o = ResolveOutputFolder(out, root_.string());
    ASSERT_FALSE(o.ok()) << out;
    EXPECT_THAT(o.status().message(), HasSubstr("not the root")) << out;
  }
  ExpectOutside(ResolveOutputFolder("..", root_.string()).status());
  ExpectOutside(ResolveOutputFolder(base_.string(), root_.string()).status());  // an ancestor
  fs::create_directory_symlink(base_ / "outside", root_ / "out_link");
  ExpectOutside(ResolveOutputFolder("out_link/x", root_.string()).status());
  auto ok = ResolveOutputFolder("lake/out/", root_.string());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (fs::weakly_canonical(root_) / "lake/out").string());
}

TEST_F(PathsTest, OutputMayNotHoldAnInput) {
  const std::string out = (root_ / "lake/t").string();
  EXPECT_TRUE(CheckOutputApart(out, {(root_ / "lake/raw/a.csv").string()}).ok());
  EXPECT_TRUE(CheckOutputApart(out, {(root_ / "lake/t2/a.csv").string()}).ok());
  for (const char* in : {"lake/t/a.csv", "lake/t/dt=1/b.csv"}) {
    auto s = CheckOutputApart(out, {(root_ / in).string()});
    ASSERT_FALSE(s.ok()) << in;
    EXPECT_THAT(s.message(), HasSubstr("is inside the output folder")) << in;
  }
  EXPECT_FALSE(CheckOutputApart((root_ / "lake").string(), {(root_ / "lake/t/a.csv").string()}).ok());
}

}  // namespace
}  // namespace de::engine
