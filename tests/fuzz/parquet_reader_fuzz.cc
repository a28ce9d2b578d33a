// libFuzzer target for the Parquet reader: the footer (Thrift compact metadata), the schema, page
// headers, codecs, levels and every encoding, on arbitrary bytes. The first byte picks options
// (dictionary form or not; which columns); the rest is the file, handed to ParquetReader::Open
// through a memfd. Checks that nothing crashes, hangs or reads out of bounds (ASan), that a
// file either fails to open with an error or opens, and that every row group it reads either
// fails with an error or gives a batch of the row group's size with the schema's columns.
// Run with tests/fuzz/run_fuzz.sh parquet_reader [SECONDS] (DE_BUILD_FUZZ=ON, clang).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/parquet/parquet_reader.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

size_t Rows(const de::engine::Column& c) {
  using de::engine::Type;
  if (c.is_dictionary()) return c.codes.size();
  switch (c.type) {
    case Type::kBool: return c.u8.size();
    case Type::kInt32:
    case Type::kDate: return c.i32.size();
    case Type::kInt64:
    case Type::kTimestamp:
    case Type::kDecimal: return c.i64.size();
    case Type::kDouble: return c.f64.size();
    case Type::kString: return c.offsets.empty() ? 0 : c.offsets.size() - 1;
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t opt = data[0];
  static const int fd = memfd_create("parquet_fuzz", MFD_CLOEXEC);
  Check(fd >= 0);
  Check(ftruncate(fd, 0) == 0);
  size_t off = 1;
  while (off < size) {
    ssize_t n = pwrite(fd, data + off, size - off, static_cast<off_t>(off - 1));
    Check(n > 0);
    off += static_cast<size_t>(n);
  }
  auto reader = de::engine::ParquetReader::Open("/proc/self/fd/" + std::to_string(fd));
  if (!reader.ok()) {
    Check(!reader.status().message().empty());
    return 0;
  }
  const de::engine::ParquetReader& r = **reader;
  const int ncols = static_cast<int>(r.schema().size());
  de::engine::ParquetReadOptions options;
  options.keep_dictionary = (opt & 1) != 0;
  std::vector<int> columns;   // all, or the odd ones in reverse order
  if ((opt & 2) != 0) {
    for (int c = ncols - 1; c >= 0; --c) {
      if (c % 2 == 1) columns.push_back(c);
    }
  }
  const int groups = std::min(r.num_row_groups(), 8);
  for (int g = 0; g < groups; ++g) {
    auto batch = r.ReadRowGroup(g, columns, options);
    if (batch.ok()) {
      const size_t want = columns.empty() ? static_cast<size_t>(ncols) : columns.size();
      Check(batch->columns.size() == want);
      for (const auto& c : batch->columns) {
        Check(Rows(c) == batch->num_rows);
        Check(c.valid.size() == batch->num_rows);
        if (c.is_dictionary()) {
          for (uint32_t code : c.codes) Check(code < c.dictionary->size());
        }
      }
      Check(static_cast<int64_t>(batch->num_rows) == r.row_group_num_rows(g));
    } else {
      Check(!batch.status().message().empty());
    }
    for (int c = 0; c < std::min(ncols, 8); ++c) (void)r.Statistics(g, c);
  }
  return 0;
}
