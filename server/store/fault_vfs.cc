#include "server/store/fault_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace de::store::fault {
namespace {

std::atomic<int> g_fail_rc{0};
std::atomic<int64_t> g_nth{0};   // countdown; fails when it reaches 0 from 1
std::atomic<int> g_nth_rc{0};
std::atomic<int64_t> g_writes{0};
sqlite3_vfs* g_real = nullptr;
sqlite3_vfs g_vfs;

// The shim's file: our header, then the real VFS's file in the same allocation.
struct File {
  sqlite3_file base;
  sqlite3_file* real;
};

sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real; }

// The code a write-like call must fail with now, or SQLITE_OK.
int Injected() {
  g_writes.fetch_add(1);
  if (int rc = g_fail_rc.load(); rc != 0) return rc;
  int64_t n = g_nth.load();
  while (n > 0) {
    if (g_nth.compare_exchange_weak(n, n - 1)) {
      if (n == 1) return g_nth_rc.load();
      break;
    }
  }
  return SQLITE_OK;
}

int Close(sqlite3_file* f) {
  int rc = Real(f)->pMethods ? Real(f)->pMethods->xClose(Real(f)) : SQLITE_OK;
  return rc;
}
int Read(sqlite3_file* f, void* p, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xRead(Real(f), p, n, off);
}
int Write(sqlite3_file* f, const void* p, int n, sqlite3_int64 off) {
  if (int rc = Injected(); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xWrite(Real(f), p, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = Injected(); rc != SQLITE_OK) return rc == SQLITE_FULL ? rc : SQLITE_IOERR_TRUNCATE;
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  if (int rc = Injected(); rc != SQLITE_OK) return rc == SQLITE_FULL ? rc : SQLITE_IOERR_FSYNC;
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int l) { return Real(f)->pMethods->xLock(Real(f), l); }
int Unlock(sqlite3_file* f, int l) { return Real(f)->pMethods->xUnlock(Real(f), l); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int pg, int sz, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), pg, sz, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int del) { return Real(f)->pMethods->xShmUnmap(Real(f), del); }

// Version 2 (WAL shared memory, no memory-mapped I/O: every page write goes through xWrite).
const sqlite3_io_methods kMethods = {
    2,        Close,      Read,   Write,        Truncate, Sync,   FileSize,
    Lock,     Unlock,     CheckReservedLock, FileControl, SectorSize, DeviceCharacteristics,
    ShmMap,   ShmLock,    ShmBarrier, ShmUnmap, nullptr,  nullptr};

int Open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  File* file = reinterpret_cast<File*>(f);
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  file->base.pMethods = nullptr;
  int rc = g_real->xOpen(g_real, name, file->real, flags, out_flags);
  if (file->real->pMethods != nullptr) file->base.pMethods = &kMethods;
  return rc;
}

}  // namespace

void Install() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_real = sqlite3_vfs_find(nullptr);
    g_vfs = *g_real;
    g_vfs.iVersion = 1;   // the real VFS's time and syscall hooks stay out of the shim
    g_vfs.zName = "de-fault";
    g_vfs.szOsFile = static_cast<int>(sizeof(File)) + g_real->szOsFile;
    g_vfs.xOpen = Open;
    g_vfs.pAppData = nullptr;
    // xDelete, xAccess, xFullPathname, ... take the vfs pointer: forward to the real one.
    g_vfs.xDelete = [](sqlite3_vfs*, const char* n, int s) { return g_real->xDelete(g_real, n, s); };
    g_vfs.xAccess = [](sqlite3_vfs*, const char* n, int f, int* o) {
      return g_real->xAccess(g_real, n, f, o);
    };
    g_vfs.xFullPathname = [](sqlite3_vfs*, const char* n, int sz, char* o) {
      return g_real->xFullPathname(g_real, n, sz, o);
    };
    g_vfs.xDlOpen = [](sqlite3_vfs*, const char* n) { return g_real->xDlOpen(g_real, n); };
    g_vfs.xDlError = [](sqlite3_vfs*, int n, char* m) { g_real->xDlError(g_real, n, m); };
    g_vfs.xDlSym = [](sqlite3_vfs*, void* h, const char* s) { return g_real->xDlSym(g_real, h, s); };
    g_vfs.xDlClose = [](sqlite3_vfs*, void* h) { g_real->xDlClose(g_real, h); };
    g_vfs.xRandomness = [](sqlite3_vfs*, int n, char* o) {
      return g_real->xRandomness(g_real, n, o);
    };
    g_vfs.xSleep = [](sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); };
    g_vfs.xCurrentTime = [](sqlite3_vfs*, double* t) { return g_real->xCurrentTime(g_real, t); };
    g_vfs.xGetLastError = [](sqlite3_vfs*, int n, char* o) {
      return g_real->xGetLastError(g_real, n, o);
    };
    sqlite3_vfs_register(&g_vfs, /*makeDflt=*/1);
  });
}

void FailWrites(int rc) { g_fail_rc.store(rc); }

void FailNthWrite(int n, int rc) {
  g_nth_rc.store(rc);
  g_nth.store(n);
}

void Clear() {
  g_fail_rc.store(0);
  g_nth.store(0);
}

int64_t Writes() { return g_writes.load(); }

}  // namespace de::store::fault
