// Sniffing: dialect, header and column types from a sample (csv_reader.h).
#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "engine/csv/csv_reader.h"
#include "engine/csv/csv_tokenize.h"
#include "engine/csv/csv_values.h"

namespace de::engine {

namespace {

using namespace csv_internal;  // NOLINT

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

}  // namespace de::engine
