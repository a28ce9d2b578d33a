// Durable commits without holding anyone up: SQLite's synchronous=FULL syncs the WAL inside every
// COMMIT, so the scheduler would hold its lock through each fsync. Instead the scheduler's
// connection commits with synchronous=NORMAL (the commit is in the WAL, not yet on disk) and this
// syncer thread fsyncs the WAL file behind it, one fsync for every commit made meanwhile (group
// commit). Nobody is told of a commit before it is on disk: whatever reports it (a worker's
// message, an operator's answer) first waits for AwaitDurable(CommitSeq()).
//
// FULL in WAL mode is NORMAL plus a WAL sync after each commit (checkpoints sync the same way in
// both), so a commit reported after its WAL sync survives a power cut as under FULL.
//
//   commit (under the scheduler's lock) --wal hook--> Committed(): seq N
//   syncer thread: fsync(de.db-wal) -> synced = N; checkpoint once the WAL is long
//   reporter: AwaitDurable(N) -> send / answer
//
// Checkpoints (copying the WAL into the database, with two fsyncs) run on the syncer thread too,
// through a connection of their own, so that no commit pays for one either.
//
// A sync that fails leaves what was committed since the last one of unknown fate; nothing of it
// has been reported. The default reaction logs and exits the process (as PostgreSQL does), so the
// restart reads back what is really on disk; the store's own commits never see the error.
// (Test hook: with DE_TEST_WAL_SYNC_FAIL_FILE=F the scheduler's syncs fail with EIO while F exists;
// tests/integration/wal_sync_e2e_test.cc.)
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace de::store {

class WalSync {
 public:
  struct Options {
    // Syncs the file (returns 0, or -1 with errno set): fdatasync by default; tests inject.
    std::function<int(int fd)> sync;
    // Called on the syncer thread when a sync failed (its errno text); by default logs and exits.
    std::function<void(const std::string& error)> on_failure;
    // Run on the syncer thread after a sync once a commit left the WAL at `checkpoint_pages` or
    // more (SQLite's own threshold); none = no checkpoints here.
    std::function<void()> checkpoint;
    int checkpoint_pages = 1000;
  };
  // Syncs `wal_path` (created by SQLite; opened at the first sync).
  WalSync(std::string wal_path, Options options);
  ~WalSync();   // syncs what is committed, then stops
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  // A commit reached the WAL, which now holds `wal_pages`: its sequence number.
  uint64_t Committed(int wal_pages = 0);
  // The newest commit's sequence number (0: none yet).
  uint64_t CommitSeq();
  // Returns once every commit up to `seq` is on disk (false: a sync failed; it never will be).
  bool AwaitDurable(uint64_t seq);
  // Syncs done so far (each covers every commit before it).
  int64_t syncs();

 private:
  void Loop();
  int SyncOnce();   // without mu_

  const std::string wal_path_;
  const Options options_;
  int fd_ = -1;   // the syncer thread's only

  absl::Mutex mu_;
  uint64_t committed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t synced_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
  int wal_pages_ ABSL_GUARDED_BY(mu_) = 0;   // after the newest commit
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace de::store
