// Fault injection for the store: an SQLite VFS shim over the default VFS that makes writes,
// syncs and truncates fail on demand (while a flag is set, or the Nth from now once), the way a
// full disk (SQLITE_FULL) or a failing device (SQLITE_IOERR_*) does. Tests install it as the
// default VFS before opening connections; the daemons never do.
// Thread-safe: the controls are atomics, read by whichever thread SQLite writes from.
#pragma once

#include <cstdint>

namespace de::store::fault {

// Registers the shim ("de-fault") as SQLite's default VFS; idempotent. Connections opened
// afterwards go through it; with no fault armed it only forwards.
void Install();
// While set, every write, sync and truncate fails with `rc` (e.g. SQLITE_FULL); 0 clears it.
void FailWrites(int rc);
// The `n`th write/sync/truncate from now (1 = the next) fails once with `rc`.
void FailNthWrite(int n, int rc);
// Disarms every fault.
void Clear();
// Writes, syncs and truncates seen so far (failed ones included).
int64_t Writes();

}  // namespace de::store::fault
