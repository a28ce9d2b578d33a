// Internal to engine/parquet: the writer of one column chunk (ParquetWriter drives one per
// column). Buffers the current page, flushes pages (levels + values, compressed) into the chunk
// buffer, and keeps the chunk's dictionary and statistics. Independent of other columns, so the
// columns of a row group can be driven from different threads; one ColumnWriter is not
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/columnar/column.h"
#include "engine/io/codec.h"
#include "engine/parquet/encoding.h"
#include "engine/parquet/parquet_format.h"
#include "engine/parquet/parquet_writer.h"

namespace de::engine::parquet_internal {

namespace pq = ::de::engine::parquet;

constexpr size_t kMiniBatchRows = 4096;  // page-size checks happen this often

// The physical type a logical type is stored as.
pq::PhysicalType PhysicalFor(Type t);

class ColumnWriter {
 public:
  ColumnWriter(const Field& field, const ParquetWriterOptions& options)
      : field_(field), options_(options), physical_(PhysicalFor(field.type)),
        max_def_(field.nullable ? 1 : 0) {
    use_dict_ = field.type != Type::kBool;
    ResetChunk();
  }

  absl::Status Append(const Column& col, size_t begin, size_t end);
  absl::Status FinishChunk();
  void ResetChunk();

  const ByteBuffer& dict_page() const { return dict_page_; }
  const ByteBuffer& data_pages() const { return data_pages_; }
  pq::ColumnMetaData BuildMetaData(int64_t chunk_offset) const;
  int64_t EstimatedChunkBytes() const;

 private:
  double DictRatio() const;
  enum class Mode { kDict, kPlain };

  template <typename T, typename Dict>
  void AppendFixed(const T* v, const uint8_t* valid, size_t b, size_t e, Dict& dict);
  void AppendBools(const uint8_t* v, const uint8_t* valid, size_t b, size_t e);
  void AppendStrings(const Column& col, size_t b, size_t e);
  template <typename T>
  void UpdateStats(T v);
  void UpdateStringStats(std::string_view s);

  size_t DictSize() const;
  size_t DictPlainBytes() const;
  size_t EstimatedPageBytes() const;
  absl::Status FlushPage();
  void ConvertPageToPlain();
  void EncodeDictionary(ByteBuffer* out) const;
  absl::Status EmitPage(pq::PageHeader* header, const ByteBuffer& raw, ByteBuffer* target);

  const Field field_;
  const ParquetWriterOptions& options_;
  const pq::PhysicalType physical_;
  const int max_def_;
  bool use_dict_;                 // false for bool and after the dictionary proved pointless
  Mode mode_ = Mode::kDict;

  FixedDict<uint32_t> dict32_;
  FixedDict<uint64_t> dict64_;
  StringDict sdict_;

  // Current page.
  size_t page_rows_ = 0;
  std::vector<uint8_t> page_levels_;  // kept once the page has a null
  bool page_has_null_ = false;
  std::vector<uint32_t> page_indices_;
  std::vector<uint8_t> page_bools_;
  ByteBuffer page_values_;

  // Current chunk.
  ByteBuffer data_pages_;
  ByteBuffer dict_page_;
  int64_t num_values_ = 0;
  int64_t null_count_ = 0;
  int64_t nan_count_ = 0;
  int64_t uncompressed_bytes_ = 0;   // data pages incl. headers
  int64_t compressed_bytes_ = 0;
  int64_t estimated_bytes_ = 0;      // EstimatedPageBytes() of the flushed pages: calibrates the estimate
  int64_t dict_uncompressed_bytes_ = 0;
  int dict_pages_ = 0, plain_pages_ = 0;
  bool has_minmax_ = false;
  int64_t imin_ = 0, imax_ = 0;
  double dmin_ = 0, dmax_ = 0;
  std::string smin_, smax_;
  double last_ratio_ = 1.0;          // compressed/estimated bytes of the previous chunk's data pages

  mutable double dict_ratio_ = -1;   // sampled compressed/plain ratio of the dictionary
  mutable size_t dict_ratio_at_ = 0; // dictionary plain bytes when sampled
  mutable ByteBuffer sample_buf_;

  // Scratch reused across pages.
  ByteBuffer page_buf_;
  ByteBuffer comp_buf_;
  std::string header_buf_;
};

}  // namespace de::engine::parquet_internal
