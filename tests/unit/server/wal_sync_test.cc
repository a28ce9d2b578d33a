// Deferred commit syncs (store/wal_sync.h): nobody hears of a commit before its WAL sync, one
// sync covers every commit made while the previous one ran, and a failed sync is never reported
// as durable.
#include "server/store/wal_sync.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/synchronization/notification.h"
#include "server/store/sqlite.h"
#include <unistd.h>

namespace de::store {
namespace {

struct TempWal {
  TempWal() : dir(std::filesystem::temp_directory_path() / ("de-walsync-" + std::to_string(getpid()))) {
    std::filesystem::create_directories(dir);
    path = (dir / "x.db-wal").string();
    std::ofstream(path) << "frames";
  }
  ~TempWal() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  std::string path;
};

TEST(WalSync, ACommitIsDurableOnlyOnceItsSyncReturns) {
  TempWal wal;
  absl::Notification sync_entered, release;
  WalSync::Options o;
  o.sync = [&](int) {
    sync_entered.Notify();
    release.WaitForNotification();
    return 0;
  };
  WalSync sync(wal.path, o);
  const uint64_t seq = sync.Committed();
  EXPECT_EQ(seq, 1u);
  std::atomic<bool> told{false};
  std::thread reporter([&] {
    EXPECT_TRUE(sync.AwaitDurable(seq));
    told = true;
  });
  sync_entered.WaitForNotification();
  EXPECT_FALSE(told.load()) << "reported while its sync was still running";
  release.Notify();
  reporter.join();
  EXPECT_TRUE(told.load());
  EXPECT_TRUE(sync.AwaitDurable(0));   // nothing to wait for
}

TEST(WalSync, OneSyncCoversEveryCommitMadeWhileThePreviousOneRan) {
  TempWal wal;
  absl::Notification first_entered, release;
  std::atomic<int> calls{0};
  WalSync::Options o;
  o.sync = [&](int) {
    if (calls++ == 0) {
      first_entered.Notify();
      release.WaitForNotification();
    }
    return 0;
  };
  WalSync sync(wal.path, o);
  sync.Committed();
  first_entered.WaitForNotification();
  uint64_t last = 0;
  for (int i = 0; i < 50; ++i) last = sync.Committed();
  release.Notify();
  EXPECT_TRUE(sync.AwaitDurable(last));
  EXPECT_EQ(sync.syncs(), 2) << "51 commits: the first, then one for the 50 behind it";
}

TEST(WalSync, AFailedSyncIsNeverReportedDurable) {
  TempWal wal;
  std::string failure;
  absl::Notification failed;
  WalSync::Options o;
  o.sync = [](int) {
    errno = EIO;
    return -1;
  };
  o.on_failure = [&](const std::string& msg) {
    failure = msg;
    failed.Notify();
  };
  WalSync sync(wal.path, o);
  EXPECT_FALSE(sync.AwaitDurable(sync.Committed()));
  failed.WaitForNotification();
  EXPECT_NE(failure.find(wal.path), std::string::npos) << failure;
  EXPECT_NE(failure.find("Input/output error"), std::string::npos) << failure;
}

TEST(WalSync, CheckpointsOnItsThreadOnceTheWalIsLong) {
  TempWal wal;
  std::atomic<int> checkpoints{0};
  WalSync::Options o;
  o.sync = [](int) { return 0; };
  o.checkpoint = [&] { ++checkpoints; };
  o.checkpoint_pages = 100;
  WalSync sync(wal.path, o);
  EXPECT_TRUE(sync.AwaitDurable(sync.Committed(10)));
  EXPECT_EQ(checkpoints.load(), 0);
  EXPECT_TRUE(sync.AwaitDurable(sync.Committed(150)));
  // The checkpoint follows the sync that made the commit durable, on the same thread.
  sync.AwaitDurable(sync.Committed(5));
  EXPECT_EQ(checkpoints.load(), 1);
}

TEST(WalSync, TheSchedulersConnectionCommitsWithoutSyncingAndSyncsBehind) {
  TempWal dir;
  const std::string path = (dir.dir / "de.db").string();
  SetSyncMode(SyncMode::kFull);
  auto db = SqliteDb::Open(path, /*defer_sync=*/true);
  ASSERT_TRUE(db.ok()) << db.status();
  auto pragma = (*db)->Prepare("PRAGMA synchronous");
  ASSERT_TRUE(pragma.ok());
  ASSERT_TRUE(*(*pragma)->Step());
  EXPECT_EQ((*pragma)->Int(0), 1) << "NORMAL: the COMMIT itself does not sync";
  pragma->reset();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (x INTEGER)").ok());
  const uint64_t before = (*db)->CommitSeq();
  ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (1)").ok());
  EXPECT_EQ((*db)->CommitSeq(), before + 1) << "every commit is counted, autocommits too";
  EXPECT_TRUE((*db)->AwaitDurable((*db)->CommitSeq()));
  EXPECT_GE((*db)->wal_sync()->syncs(), 1);
  // Long enough a WAL is checkpointed into the database by the syncer, not by the commits.
  ASSERT_TRUE((*db)->Exec("CREATE TABLE big (b BLOB)").ok());
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE((*db)->Exec("INSERT INTO big VALUES (zeroblob(200000))").ok());
  }
  EXPECT_TRUE((*db)->AwaitDurable((*db)->CommitSeq()));
  ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (2)").ok());   // after the checkpoint, if any
  EXPECT_TRUE((*db)->AwaitDurable((*db)->CommitSeq()));
  EXPECT_GT(std::filesystem::file_size(path), 4'000'000u) << "the WAL was copied into de.db";

  // Any other connection keeps synchronous=FULL and no syncer.
  auto other = SqliteDb::Open(path);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->wal_sync(), nullptr);
  EXPECT_EQ((*other)->CommitSeq(), 0u);
}

TEST(WalSync, WithSyncNormalTheSchedulersConnectionStillCheckpointsOffItsCommits) {
  TempWal dir;
  SetSyncMode(SyncMode::kNormal);
  auto db = SqliteDb::Open((dir.dir / "n.db").string(), /*defer_sync=*/true);
  SetSyncMode(SyncMode::kFull);
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_NE((*db)->wal_sync(), nullptr);
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (x INTEGER)").ok());
  EXPECT_EQ((*db)->CommitSeq(), 1u);
  EXPECT_TRUE((*db)->AwaitDurable(1));
}

}  // namespace
}  // namespace de::store
