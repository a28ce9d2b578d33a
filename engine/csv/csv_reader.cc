#include "engine/csv/csv_reader.h"

#include <emmintrin.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/csv/csv_values.h"

namespace de::engine {

namespace {

constexpr size_t kMaxRawReject = 64 << 10;

inline std::string_view TrimSpaces(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Counts occurrences of `a` and of `b` in [p, e), 16 bytes at a time (byte counters summed
// with SAD every 255 blocks, so no popcount instruction is needed).
inline void CountTwo(const char* p, const char* e, char a, char b, int64_t* na, int64_t* nb) {
  int64_t ca = 0, cb = 0;
  const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), zero = _mm_setzero_si128();
  while (e - p >= 16) {
    size_t blocks = std::min<size_t>(static_cast<size_t>(e - p) / 16, 255);
    __m128i acc_a = zero, acc_b = zero;
    for (size_t i = 0; i < blocks; ++i, p += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      acc_a = _mm_sub_epi8(acc_a, _mm_cmpeq_epi8(v, va));
      acc_b = _mm_sub_epi8(acc_b, _mm_cmpeq_epi8(v, vb));
    }
    __m128i sa = _mm_sad_epu8(acc_a, zero), sb = _mm_sad_epu8(acc_b, zero);
    ca += _mm_cvtsi128_si64(sa) + _mm_extract_epi16(sa, 4);
    cb += _mm_cvtsi128_si64(sb) + _mm_extract_epi16(sb, 4);
  }
  for (; p < e; ++p) {
    ca += *p == a;
    cb += *p == b;
  }
  *na = ca;
  *nb = cb;
}

inline int64_t CountNewlines(const char* p, const char* e) {
  int64_t n, unused;
  CountTwo(p, e, '\n', '\n', &n, &unused);
  return n;
}

// Position just past the last row boundary ('\n' outside quotes) in data[0, n), or 0.
// The data must start at a row boundary. Quote state is the parity of quote characters, which
// is exactly how the tokenizer below moves in and out of quoted sections.
size_t LastRowBoundary(const char* data, size_t n, char quote) {
  if (quote == 0) {
    const void* nl = memrchr(data, '\n', n);
    return nl ? static_cast<const char*>(nl) - data + 1 : 0;
  }
  int64_t q = 0, unused = 0;
  CountTwo(data, data + n, quote, quote, &q, &unused);
  size_t quotes = static_cast<size_t>(q);
  size_t after = 0;
  for (size_t i = n; i-- > 0;) {
    char c = data[i];
    if (c == quote) {
      ++after;
    } else if (c == '\n' && ((quotes - after) & 1) == 0) {
      return i + 1;
    }
  }
  return 0;
}

// Field bounds inside one row, as offsets from `base`.
struct RawField {
  uint32_t begin;
  uint32_t end;
  bool has_quote;
};

// Splits one row starting at `p`. The text [p, end) must end with '\n'. Returns the start of the
// next row; adds the newlines consumed to `*lines`; sets `*unterminated` when a quoted section
// runs to `end`. A trailing '\r' before the row's '\n' is not part of the last field.
template <typename FieldVec>
inline const char* TokenizeRow(const char* p, const char* end, const char* base,
                               const uint8_t* special, char delim, char quote, FieldVec* fields,
                               int64_t* lines, bool* unterminated) {
  fields->clear();
  const char* fstart = p;
  bool has_quote = false;
  const __m128i vd = _mm_set1_epi8(delim), vn = _mm_set1_epi8('\n');
  const __m128i vq = quote != 0 ? _mm_set1_epi8(quote) : vn;
  while (true) {
    // Find the next delimiter, newline or quote: 16 bytes at a time, then byte by byte near
    // the end (the text ends with '\n', so the byte loop stops).
    while (end - p >= 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(
          _mm_or_si128(_mm_cmpeq_epi8(v, vd), _mm_cmpeq_epi8(v, vn)), _mm_cmpeq_epi8(v, vq))));
      if (m != 0) {
        p += __builtin_ctz(m);
        goto found;
      }
      p += 16;
    }
    while (!special[static_cast<uint8_t>(*p)]) ++p;
  found:
    char c = *p;
    if (c == delim) {
      fields->push_back({static_cast<uint32_t>(fstart - base), static_cast<uint32_t>(p - base),
                         has_quote});
      ++p;
      fstart = p;
      has_quote = false;
      continue;
    }
    if (c == '\n') {
      const char* fe = p;
      if (fe > fstart && fe[-1] == '\r') --fe;
      fields->push_back({static_cast<uint32_t>(fstart - base), static_cast<uint32_t>(fe - base),
                         has_quote});
      ++*lines;
      return p + 1;
    }
    // A quote: skip the quoted section ("" stays inside it).
    has_quote = true;
    ++p;
    while (true) {
      const char* q = static_cast<const char*>(std::memchr(p, quote, end - p));
      if (q == nullptr) {
        *lines += CountNewlines(p, end);
        const char* fe = end;
        while (fe > fstart && (fe[-1] == '\n' || fe[-1] == '\r')) --fe;
        fields->push_back({static_cast<uint32_t>(fstart - base),
                           static_cast<uint32_t>(fe - base), true});
        *unterminated = true;
        return end;
      }
      *lines += CountNewlines(p, q);
      p = q + 1;
      if (*p == quote) {
        ++p;
        continue;
      }
      break;
    }
  }
}

// Value of a field containing quotes: it must be "..." with inner quotes doubled. Returns false
// for a malformed field.
bool UnescapeQuoted(std::string_view f, char quote, std::string* out) {
  if (f.size() < 2 || f.front() != quote || f.back() != quote) return false;
  out->clear();
  for (size_t i = 1; i + 1 < f.size(); ++i) {
    char c = f[i];
    if (c == quote) {
      if (i + 2 >= f.size() || f[i + 1] != quote) return false;
      ++i;
    }
    out->push_back(c);
  }
  return true;
}

void BuildSpecial(char delim, char quote, uint8_t* special) {
  std::memset(special, 0, 256);
  special[static_cast<uint8_t>(delim)] = 1;
  special[static_cast<uint8_t>('\n')] = 1;
  if (quote != 0) special[static_cast<uint8_t>(quote)] = 1;
}

inline void PushNull(Column* c) {
  c->valid.push_back(0);
  switch (c->type) {
    case Type::kBool: c->u8.push_back(0); break;
    case Type::kInt32:
    case Type::kDate: c->i32.push_back(0); break;
    case Type::kInt64:
    case Type::kDecimal:
    case Type::kTimestamp: c->i64.push_back(0); break;
    case Type::kDouble: c->f64.push_back(0); break;
    case Type::kString: c->offsets.push_back(static_cast<uint32_t>(c->bytes.size())); break;
  }
}

inline void PopLast(Column* c) {
  c->valid.pop_back();
  switch (c->type) {
    case Type::kBool: c->u8.pop_back(); break;
    case Type::kInt32:
    case Type::kDate: c->i32.pop_back(); break;
    case Type::kInt64:
    case Type::kDecimal:
    case Type::kTimestamp: c->i64.pop_back(); break;
    case Type::kDouble: c->f64.pop_back(); break;
    case Type::kString:
      c->offsets.pop_back();
      c->bytes.resize(c->offsets.back());
      break;
  }
}

// Type bits for inference.
enum : unsigned {
  kCanBool = 1,
  kCanInt = 2,
  kCanDouble = 4,
  kCanDate = 8,
  kCanTimestamp = 16,
  kCanAll = 31
};

bool HasLeadingZero(std::string_view v) {
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) v.remove_prefix(1);
  return v.size() > 1 && v[0] == '0' && v[1] >= '0' && v[1] <= '9';
}

unsigned TypeBits(std::string_view raw) {
  std::string_view v = TrimSpaces(raw);
  unsigned bits = 0;
  uint8_t b;
  int64_t i;
  double d;
  int32_t days;
  int64_t us;
  if (ParseCsvBool(v, &b)) bits |= kCanBool;
  if (!HasLeadingZero(v)) {
    if (ParseCsvInt64(v, &i)) bits |= kCanInt | kCanDouble;
    else if (ParseCsvDouble(v, &d)) bits |= kCanDouble;
  }
  if (ParseCsvDate(v, &days)) bits |= kCanDate | kCanTimestamp;
  else if (ParseCsvTimestamp(v, &us)) bits |= kCanTimestamp;
  return bits;
}

Type TypeFromBits(unsigned bits, bool seen) {
  if (!seen) return Type::kString;
  if (bits & kCanBool) return Type::kBool;
  if (bits & kCanInt) return Type::kInt64;
  if (bits & kCanDouble) return Type::kDouble;
  if (bits & kCanDate) return Type::kDate;
  if (bits & kCanTimestamp) return Type::kTimestamp;
  return Type::kString;
}

// A tokenized sample row: field values (unescaped) and whether each was quoted.
struct SampleRow {
  std::vector<std::string> values;
  std::vector<bool> quoted;
  bool malformed = false;
};

// Tokenizes up to `max_rows` non-blank rows of `text` (which ends with '\n').
std::vector<SampleRow> TokenizeSample(std::string_view text, char delim, char quote,
                                      int64_t max_rows) {
  uint8_t special[256];
  BuildSpecial(delim, quote, special);
  std::vector<SampleRow> rows;
  std::vector<RawField> fields;
  const char* p = text.data();
  const char* end = p + text.size();
  int64_t lines = 0;
  std::string tmp;
  while (p < end && static_cast<int64_t>(rows.size()) < max_rows) {
    bool unterminated = false;
    p = TokenizeRow(p, end, text.data(), special, delim, quote, &fields, &lines, &unterminated);
    if (fields.size() == 1 && fields[0].begin == fields[0].end) continue;  // blank line
    SampleRow row;
    row.malformed = unterminated;
    for (const RawField& f : fields) {
      std::string_view v(text.data() + f.begin, f.end - f.begin);
      if (f.has_quote) {
        if (UnescapeQuoted(v, quote, &tmp)) {
          row.values.push_back(tmp);
        } else {
          row.values.emplace_back(v);
          row.malformed = true;
        }
      } else {
        row.values.emplace_back(v);
      }
      // A row with a NUL byte is rejected by the parser (NulReason); keep it out of inference too.
      if (row.values.back().find('\0') != std::string::npos) row.malformed = true;
      row.quoted.push_back(f.has_quote);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

char DetectDelimiter(std::string_view text, char quote) {
  static constexpr char kCandidates[] = {',', ';', '\t', '|'};
  char best = ',';
  int64_t best_consistent = -1;
  size_t best_count = 1;
  for (char d : kCandidates) {
    auto rows = TokenizeSample(text, d, quote, 200);
    std::map<size_t, int64_t> freq;
    for (const auto& r : rows) ++freq[r.values.size()];
    size_t mode = 1;
    int64_t mode_n = 0;
    for (auto [count, n] : freq) {
      if (n > mode_n || (n == mode_n && count > mode)) {
        mode = count;
        mode_n = n;
      }
    }
    if (mode <= 1) continue;
    if (mode_n > best_consistent || (mode_n == best_consistent && mode > best_count)) {
      best = d;
      best_consistent = mode_n;
      best_count = mode;
    }
  }
  return best;
}

}  // namespace

bool ParseOnError(std::string_view s, OnError* out) {
  if (s == "reject") *out = OnError::kReject;
  else if (s == "null") *out = OnError::kNull;
  else if (s == "fail") *out = OnError::kFail;
  else return false;
  return true;
}

absl::StatusOr<std::string> ReadCsvSample(InputStream* in, size_t max_bytes, bool* whole_file) {
  std::string out(max_bytes, '\0');
  size_t got = 0;
  *whole_file = false;
  while (got < max_bytes) {
    DE_ASSIGN_OR_RETURN(size_t n, in->Read(out.data() + got, max_bytes - got));
    if (n == 0) {
      *whole_file = true;
      break;
    }
    got += n;
  }
  out.resize(got);
  if (!*whole_file) {
    // Probe one byte: a file of exactly max_bytes is whole.
    char c;
    DE_ASSIGN_OR_RETURN(size_t n, in->Read(&c, 1));
    *whole_file = n == 0;
  }
  return out;
}

absl::StatusOr<CsvFormat> SniffCsv(std::string_view sample, bool whole_file,
                                   const CsvReadOptions& options, const std::string& source) {
  CsvFormat fmt;
  fmt.quote = options.quote;
  fmt.null_values = options.null_values;
  fmt.on_error = options.on_error;
  if (options.delimiter != 0 && options.delimiter == options.quote) {
    return absl::InvalidArgumentError("delimiter and quote must differ");
  }
  for (char c : {options.delimiter, options.quote}) {
    if (c == '\n' || c == '\r') {
      return absl::InvalidArgumentError("delimiter and quote cannot be line breaks");
    }
  }
  if (sample.size() >= 3 && std::memcmp(sample.data(), "\xEF\xBB\xBF", 3) == 0) {
    sample.remove_prefix(3);
  }
  // Binary data: many control characters (NUL included). A few stray NUL bytes are not binary
  // data: their rows are rejected like those after the sample (see AppendValue), so a NUL byte
  // is treated the same wherever it falls.
  size_t controls = 0;
  for (size_t i = 0; i < sample.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(sample[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) ++controls;
  }
  if ((controls > 8 && controls * 100 > sample.size()) || (controls >= 3 && controls * 10 > sample.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, " does not look like CSV: ", controls, " control characters in the first ",
        sample.size(), " bytes (binary data?)"));
  }
  if (!IsValidUtf8(sample.substr(0, sample.size() > 4 ? sample.size() - 4 : 0))) {
    // Tolerated (bad values are handled per row), but a sample that is mostly not text is not
    // CSV: count the bytes that are neither ASCII nor part of a valid sequence cheaply.
    size_t high = 0;
    for (unsigned char c : sample) high += c >= 0x80;
    if (high * 4 > sample.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, " does not look like CSV: the first ", sample.size(),
          " bytes are mostly not UTF-8 text (binary data?)"));
    }
  }
  std::string text(sample);
  if (!whole_file) {
    size_t b = LastRowBoundary(text.data(), text.size(), options.quote);
    if (b > 0) text.resize(b);
  }
  if (!text.empty() && text.back() != '\n') text.push_back('\n');

  fmt.delimiter = options.delimiter != 0 ? options.delimiter : DetectDelimiter(text, fmt.quote);
  auto rows = TokenizeSample(text, fmt.delimiter, fmt.quote, options.sample_rows + 1);

  // Header: explicit, or detected by the first row not fitting the types of the others.
  size_t ncols = 0;
  if (!rows.empty()) {
    std::map<size_t, int64_t> freq;
    for (size_t r = 1; r < rows.size(); ++r) ++freq[rows[r].values.size()];
    size_t mode = rows[0].values.size();
    int64_t mode_n = 0;
    for (auto [count, n] : freq) {
      if (n > mode_n) {
        mode = count;
        mode_n = n;
      }
    }
    ncols = mode;
  }
  auto is_null = [&](const std::string& v) {
    if (v.empty()) return true;
    return std::find(fmt.null_values.begin(), fmt.null_values.end(), v) != fmt.null_values.end();
  };
  auto infer = [&](size_t first_row, size_t n, std::vector<unsigned>* bits,
                   std::vector<bool>* seen) {
    bits->assign(n, kCanAll);
    seen->assign(n, false);
    for (size_t r = first_row; r < rows.size(); ++r) {
      if (rows[r].values.size() != n || rows[r].malformed) continue;
      for (size_t c = 0; c < n; ++c) {
        const std::string& v = rows[r].values[c];
        if (is_null(v)) continue;
        (*bits)[c] &= TypeBits(v);
        (*seen)[c] = true;
      }
    }
  };

  bool header;
  if (options.header.has_value()) {
    header = *options.header;
  } else if (rows.empty()) {
    header = false;
  } else {
    const SampleRow& first = rows[0];
    std::vector<unsigned> bits;
    std::vector<bool> seen;
    infer(1, first.values.size(), &bits, &seen);
    bool evidence = false;
    bool all_string = true;
    std::set<std::string> distinct;
    bool names_ok = true;
    for (size_t c = 0; c < first.values.size(); ++c) {
      const std::string& v = first.values[c];
      Type t = TypeFromBits(bits[c], seen[c]);
      if (t != Type::kString) all_string = false;
      if (v.empty() || !distinct.insert(v).second) names_ok = false;
      if (t != Type::kString && !is_null(v) && (TypeBits(v) & bits[c]) == 0) evidence = true;
      if (!v.empty() && TypeBits(v) != 0) names_ok = false;
    }
    if (evidence) header = true;
    else if (all_string || rows.size() == 1) header = names_ok;
    else header = false;
  }
  if (header && !rows.empty()) ncols = rows[0].values.size();

  // Column names.
  std::vector<std::string> names;
  if (header && !rows.empty()) {
    std::set<std::string> used;
    for (size_t c = 0; c < ncols; ++c) {
      std::string n = rows[0].values[c];
      if (n.empty()) n = absl::StrCat("column", c);
      std::string base = n;
      for (int k = 1; used.count(n); ++k) n = absl::StrCat(base, "_", k);
      used.insert(n);
      names.push_back(n);
    }
  } else {
    for (size_t c = 0; c < ncols; ++c) names.push_back(absl::StrCat("column", c));
  }
  std::vector<unsigned> bits;
  std::vector<bool> seen;
  infer(header ? 1 : 0, ncols, &bits, &seen);
  fmt.header = header;
  fmt.sample_rows_used = static_cast<int64_t>(rows.size()) - (header && !rows.empty() ? 1 : 0);
  for (size_t c = 0; c < ncols; ++c) {
    fmt.schema.push_back(Field{names[c], TypeFromBits(bits[c], seen[c]), true});
    fmt.inferred.push_back(true);
  }

  // Explicit types.
  if (!options.schema.empty()) {
    bool by_position = !header && options.schema.size() == ncols;
    for (const auto& [name, type] : options.schema) {
      if (std::find(names.begin(), names.end(), name) != names.end()) by_position = false;
    }
    if (by_position) {
      for (size_t c = 0; c < ncols; ++c) {
        fmt.schema[c].name = options.schema[c].first;
        fmt.schema[c].type = options.schema[c].second;
        fmt.inferred[c] = false;
      }
    } else {
      for (const auto& [name, type] : options.schema) {
        auto it = std::find(names.begin(), names.end(), name);
        if (it == names.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("schema: column '", name, "' is not in ", source, " (columns: ",
                           absl::StrJoin(names, ", "), ")"));
        }
        size_t c = it - names.begin();
        fmt.schema[c].type = type;
        fmt.inferred[c] = false;
      }
    }
  }
  return fmt;
}

// ---------------------------------------------------------------------------------------------
// Splitter.

CsvSplitter::CsvSplitter(InputStream* in, char quote, size_t chunk_bytes, size_t max_row_bytes)
    : in_(in),
      quote_(quote),
      chunk_bytes_(std::max<size_t>(chunk_bytes, 64)),
      max_row_bytes_(std::max(max_row_bytes, chunk_bytes_)) {}

absl::StatusOr<bool> CsvSplitter::Next(CsvChunk* chunk) {
  if (eof_ && carry_.empty()) return false;
  size_t target = std::max(chunk_bytes_, carry_.size() + chunk_bytes_ / 2);
  auto ensure = [&](size_t cap, size_t keep) {
    if (chunk->capacity >= cap + 1) return;
    std::unique_ptr<char[]> bigger(new char[cap + 1]);
    if (keep > 0) std::memcpy(bigger.get(), chunk->data.get(), keep);
    chunk->data = std::move(bigger);
    chunk->capacity = cap + 1;
  };
  ensure(target, 0);
  char* data = chunk->data.get();
  size_t size = carry_.size();
  std::memcpy(data, carry_.data(), size);
  carry_.clear();
  chunk->first_line = line_;
  chunk->file_start = !started_;
  while (true) {
    while (size < target && !eof_) {
      DE_ASSIGN_OR_RETURN(size_t n, in_->Read(data + size, target - size));
      if (n == 0) eof_ = true;
      size += n;
    }
    if (!started_) {
      started_ = true;
      if (size >= 3 && std::memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        std::memmove(data, data + 3, size - 3);
        size -= 3;
        continue;  // refill the three bytes
      }
    }
    if (eof_) {
      if (size == 0) return false;
      if (data[size - 1] != '\n') data[size++] = '\n';  // capacity keeps one spare byte
      break;
    }
    size_t b = LastRowBoundary(data, size, quote_);
    if (b > 0) {
      carry_.assign(data + b, size - b);
      size = b;
      break;
    }
    // One row longer than the buffer: grow, up to the row limit.
    if (target >= max_row_bytes_) {
      return absl::InvalidArgumentError(absl::StrCat(
          in_->path(), ":", line_, ": a row longer than ", max_row_bytes_ >> 20,
          " MB (an unbalanced quote?)"));
    }
    target = std::min(target * 2, max_row_bytes_);
    ensure(target, size);
    data = chunk->data.get();
  }
  chunk->size = size;
  line_ += CountNewlines(data, data + size);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Chunk parser.

void InitBatch(const Schema& schema, Batch* batch) {
  batch->columns.clear();
  batch->columns.resize(schema.size());
  for (size_t c = 0; c < schema.size(); ++c) batch->columns[c].type = schema[c].type;
  batch->num_rows = 0;
}

void ClearBatch(Batch* batch) {
  for (Column& c : batch->columns) c.Clear();
  batch->num_rows = 0;
}

CsvChunkParser::CsvChunkParser(const CsvFormat& format) : format_(format) {
  BuildSpecial(format.delimiter, format.quote, special_);
  has_null_values_ = !format.null_values.empty();
}

bool CsvChunkParser::IsNull(std::string_view v) const {
  for (const std::string& n : format_.null_values) {
    if (n == v) return true;
  }
  return false;
}

CsvChunkParser::ValueResult CsvChunkParser::AppendValue(size_t col, const char* base, const FieldRef& f,
                                 bool check_utf8, Column* column, std::string* reason) {
  std::string_view v(base + f.begin, f.end - f.begin);
  bool quoted = false;
  if (f.has_quote) {
    if (!UnescapeQuoted(v, format_.quote, &scratch_)) {
      *reason = absl::StrCat("malformed quoted field in column '", format_.schema[col].name,
                             "' (a quote inside an unquoted field or text after a closing quote)");
      return ValueResult::kMalformed;
    }
    v = scratch_;
    quoted = true;
  }
  if (check_nul_ && v.find('\0') != std::string_view::npos) {
    *reason = absl::StrCat("NUL byte in column '", format_.schema[col].name, "'");
    return ValueResult::kBad;
  }
  const Type type = column->type;
  if (v.empty()) {
    if (type == Type::kString && quoted) {
      column->valid.push_back(1);
      column->offsets.push_back(static_cast<uint32_t>(column->bytes.size()));
    } else {
      PushNull(column);
    }
    return ValueResult::kOk;
  }
  if (has_null_values_ && IsNull(v)) {
    PushNull(column);
    return ValueResult::kOk;
  }
  bool ok = true;
  switch (type) {
    case Type::kString:
      if (check_utf8 && !IsValidUtf8(v)) {
        ok = false;
        break;
      }
      column->bytes.append(v.data(), v.size());
      column->offsets.push_back(static_cast<uint32_t>(column->bytes.size()));
      column->valid.push_back(1);
      return ValueResult::kOk;
    case Type::kInt64: {
      int64_t x;
      ok = ParseCsvInt64(v, &x) || ParseCsvInt64(TrimSpaces(v), &x);
      if (ok) column->i64.push_back(x);
      break;
    }
    case Type::kInt32: {
      int64_t x;
      ok = (ParseCsvInt64(v, &x) || ParseCsvInt64(TrimSpaces(v), &x)) && x >= INT32_MIN &&
           x <= INT32_MAX;
      if (ok) column->i32.push_back(static_cast<int32_t>(x));
      break;
    }
    case Type::kDouble: {
      double x;
      ok = ParseCsvDouble(v, &x) || ParseCsvDouble(TrimSpaces(v), &x);
      if (ok) column->f64.push_back(x);
      break;
    }
    case Type::kDate: {
      int32_t x;
      ok = ParseCsvDate(v, &x) || ParseCsvDate(TrimSpaces(v), &x);
      if (ok) column->i32.push_back(x);
      break;
    }
    case Type::kTimestamp: {
      int64_t x;
      ok = ParseCsvTimestamp(v, &x) || ParseCsvTimestamp(TrimSpaces(v), &x);
      if (ok) column->i64.push_back(x);
      break;
    }
    case Type::kBool: {
      uint8_t x;
      ok = ParseCsvBool(v, &x) || ParseCsvBool(TrimSpaces(v), &x);
      if (ok) column->u8.push_back(x);
      break;
    }
    case Type::kDecimal: {
      int64_t x;
      const Field& f = format_.schema[col];
      ok = ParseDecimal(v, f.precision, f.scale, &x) ||
           ParseDecimal(TrimSpaces(v), f.precision, f.scale, &x);
      if (ok) column->i64.push_back(x);
      break;
    }
  }
  if (ok) {
    column->valid.push_back(1);
    return ValueResult::kOk;
  }
  std::string shown(v.substr(0, 64));
  if (type == Type::kString) {
    *reason = absl::StrCat("invalid UTF-8 in column '", format_.schema[col].name, "'");
  } else {
    *reason = absl::StrCat("column '", format_.schema[col].name, "': '", shown, "' is not ",
                           type == Type::kInt32 || type == Type::kInt64 ? "an " : "a ",
                           TypeName(type),
                           format_.inferred[col] ? " (type inferred from a sample; set schema: "
                                                   "or sample_rows: to change it)"
                                                 : "");
  }
  return ValueResult::kBad;
}

absl::Status CsvChunkParser::Parse(const char* data, size_t size, int64_t first_line,
                                   bool skip_header, const std::string& source, Batch* batch,
                                   CsvParseStats* stats, std::vector<CsvReject>* rejects) {
  if (size == 0) return absl::OkStatus();
  std::string copy;
  if (data[size - 1] != '\n') {
    copy.assign(data, size);
    copy.push_back('\n');
    data = copy.data();
    size = copy.size();
  }
  if (size > UINT32_MAX) return absl::InvalidArgumentError("CSV chunk larger than 4 GB");
  const char* p = data;
  const char* end = data + size;
  const size_t ncols = format_.schema.size();
  // Strings need UTF-8 validation only when the chunk has non-ASCII bytes.
  bool check_utf8 = false;
  {
    const char* q = data;
    uint64_t acc = 0;
    for (; q + 8 <= end; q += 8) {
      uint64_t w;
      std::memcpy(&w, q, 8);
      acc |= w;
    }
    for (; q < end; ++q) acc |= static_cast<uint8_t>(*q);
    check_utf8 = (acc & 0x8080808080808080ull) != 0;
  }
  // Values need a NUL check only when the chunk has a NUL byte (rare; memchr is fast).
  check_nul_ = std::memchr(data, 0, size) != nullptr;
  int64_t line = first_line;
  std::string reason;
  bool first = true;
  while (p < end) {
    const char* row_start = p;
    const int64_t row_line = line;
    bool unterminated = false;
    p = TokenizeRow(p, end, data, special_, format_.delimiter, format_.quote, &fields_, &line,
                    &unterminated);
    if (first) {
      first = false;
      if (skip_header) continue;
    }
    if (fields_.size() == 1 && fields_[0].begin == fields_[0].end && !fields_[0].has_quote) {
      continue;  // blank line
    }
    ++stats->rows_in;
    reason.clear();
    size_t appended = 0;
    size_t nfields = fields_.size();
    if (unterminated) {
      reason = absl::StrCat("unterminated quoted field (it runs to the end of the file)");
    } else if (nfields != ncols && !(nfields < ncols && format_.on_error == OnError::kNull)) {
      reason = absl::StrCat("expected ", ncols, " fields, found ", nfields);
    } else {
      for (; appended < ncols; ++appended) {
        Column* column = &batch->columns[appended];
        if (appended >= nfields) {
          PushNull(column);
          ++stats->values_nulled;
          continue;
        }
        ValueResult r = AppendValue(appended, data, fields_[appended], check_utf8, column,
                                    &reason);
        if (r == ValueResult::kOk) continue;
        if (r == ValueResult::kBad && format_.on_error == OnError::kNull) {
          PushNull(column);
          ++stats->values_nulled;
          reason.clear();
          continue;
        }
        break;
      }
    }
    if (reason.empty()) {
      ++batch->num_rows;
      ++stats->rows_out;
      continue;
    }
    for (size_t c = 0; c < appended; ++c) PopLast(&batch->columns[c]);
    if (format_.on_error == OnError::kFail) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", row_line, ": ", reason));
    }
    ++stats->rows_rejected;
    const char* row_end = p;
    while (row_end > row_start && (row_end[-1] == '\n' || row_end[-1] == '\r')) --row_end;
    CsvReject rej;
    rej.line = row_line;
    rej.reason = std::move(reason);
    rej.raw.assign(row_start, std::min<size_t>(row_end - row_start, kMaxRawReject));
    rejects->push_back(std::move(rej));
    reason = std::string();
  }
  return absl::OkStatus();
}

void AppendCsvField(std::string_view s, std::string* out) {
  bool needs = s.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  if (!needs) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

absl::StatusOr<CsvTable> ReadCsvText(std::string_view text, const CsvReadOptions& options,
                                     const std::string& source) {
  CsvTable t;
  // Sniff the first sample_bytes, as the file readers do (ReadCsvSample).
  const size_t sample = options.sample_bytes > 0 ? static_cast<size_t>(options.sample_bytes) : text.size();
  DE_ASSIGN_OR_RETURN(t.format, SniffCsv(text.substr(0, sample), text.size() <= sample, options, source));
  if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);
  InitBatch(t.format.schema, &t.batch);
  if (t.format.schema.empty()) return t;
  CsvChunkParser parser(t.format);
  DE_RETURN_IF_ERROR(parser.Parse(text.data(), text.size(), 1, t.format.header, source, &t.batch,
                                  &t.stats, &t.rejects));
  return t;
}

}  // namespace de::engine
