#include "engine/columnar/heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace de::engine {

void PrepareBatchHeap(bool one_arena, size_t huge_bytes) {
  // Allocations below 32 MB (the most glibc allows) come from the heap, and freed memory stays.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  if (one_arena) mallopt(M_ARENA_MAX, 1);
  if (huge_bytes == 0) return;
  auto* lo = static_cast<char*>(sbrk(0));
  // With the top pad, the next heap extension is `huge_bytes` at once (untouched); the block is
  // freed at once and the range stays the heap's free top (below the trim threshold).
  mallopt(M_TOP_PAD, static_cast<int>(huge_bytes));
  void* p = std::malloc(1 << 20);
  asm volatile("" : : "r"(p) : "memory");  // the compiler must not drop the malloc/free pair
  auto* hi = static_cast<char*>(sbrk(0));
  std::free(p);
  mallopt(M_TOP_PAD, 16 << 20);
  if (lo == reinterpret_cast<char*>(-1) || hi <= lo) return;
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t a = (reinterpret_cast<uintptr_t>(lo) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t b = reinterpret_cast<uintptr_t>(hi) & ~(kHuge - 1);
  if (b > a) madvise(reinterpret_cast<void*>(a), b - a, MADV_HUGEPAGE);
}

}  // namespace de::engine
