// Process-wide heap tuning for the data tasks, whose batches are large (MBs per column) and
// short-lived. Call once at the start of a `de-worker task` process, before the data is read
// (tasks::PrepareTaskProcess does); not thread-safe. Never from library code that tests link.
#pragma once

#include <cstddef>

namespace de::engine {

// Keeps freed batch memory in the heap for the next morsel (instead of mmap/munmap each time),
// and grows the heap by `huge_bytes` at once, asking the kernel to back that range with 2 MB
// transparent huge pages (one page fault per 2 MB instead of per 4 KB: first-touch faults were a
// fifth of a Parquet aggregate's time). Only virtual memory is reserved; RSS grows as it is
// used. Harmless where THP is off. `one_arena`: every thread allocates from that main heap
// (for tasks whose threads allocate a few large blocks per morsel, like aggregate; sharing the
// heap's lock then costs nothing, and their batches get the huge pages too).
void PrepareBatchHeap(bool one_arena, size_t huge_bytes = size_t{256} << 20);

}  // namespace de::engine
