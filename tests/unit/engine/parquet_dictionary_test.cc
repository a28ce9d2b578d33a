// The dictionary form of string columns: the Parquet reader keeps dictionary pages as codes
// (keep_dictionary), falls back to plain strings when a chunk switches to plain pages, and the
// filter and the hash group-by work on the codes with the same results as on plain strings.
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "engine/ops/expr.h"
#include "engine/ops/hash_aggregate.h"
#include "engine/parquet/parquet_reader.h"
#include "engine/parquet/parquet_writer.h"

namespace de::engine {
namespace {

std::string TempPath(const std::string& name) {
  return testing::TempDir() + "/parquet_dict_" + std::to_string(::getpid()) + "_" + name + ".parquet";
}

// Rows: s = the string (nullopt = null), n = an int.
struct Rows {
  std::vector<std::optional<std::string>> s;
  std::vector<int64_t> n;
};

Batch MakeBatch(const Rows& r) {
  Batch b;
  b.columns.resize(2);
  b.columns[0].type = Type::kString;
  b.columns[1].type = Type::kInt64;
  for (size_t i = 0; i < r.s.size(); ++i) {
    Column& s = b.columns[0];
    s.valid.push_back(r.s[i].has_value());
    if (r.s[i]) s.bytes += *r.s[i];
    s.offsets.push_back(static_cast<uint32_t>(s.bytes.size()));
    b.columns[1].valid.push_back(1);
    b.columns[1].i64.push_back(r.n[i]);
  }
  b.num_rows = r.s.size();
  return b;
}

const Schema kSchema = {{"s", Type::kString, true}, {"n", Type::kInt64, true}};

// Row group `rg` of `r`, with dictionary-encoded string chunks kept as codes.
absl::StatusOr<Batch> ReadCodes(const ParquetReader& r, int rg) {
  ParquetReadOptions ro;
  ro.keep_dictionary = true;
  return r.ReadRowGroup(rg, {}, ro);
}

// Writes files of (s, n) rows and removes them after the test.
class ParquetDictionary : public testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& p : paths_) std::remove(p.c_str());
  }
  // Writes `rows` to a new file and opens it (null, with a failure, when that fails).
  std::unique_ptr<ParquetReader> WriteAndOpen(const std::string& name, const Rows& rows,
                                              ParquetWriterOptions o = {}) {
    const std::string path = TempPath(name);
    paths_.push_back(path);
    auto w = ParquetWriter::Open(path, kSchema, o);
    EXPECT_TRUE(w.ok()) << w.status();
    if (!w.ok()) return nullptr;
    EXPECT_TRUE((*w)->Write(MakeBatch(rows)).ok());
    EXPECT_TRUE((*w)->Close().ok());
    auto r = ParquetReader::Open(path);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : nullptr;
  }

 private:
  std::vector<std::string> paths_;
};

// Row i's value of a string column (either form), or nullopt.
std::optional<std::string> Value(const Column& c, size_t i) {
  if (!c.valid[i]) return std::nullopt;
  if (c.is_dictionary()) return std::string(c.dictionary->str(c.codes[i]));
  return std::string(c.str(i));
}

Rows CityRows(size_t n, bool nulls) {
  static const char* kCities[] = {"JFK", "LAX", "ORD", "SFO", "ATL", "SEA", "BOS"};
  Rows r;
  for (size_t i = 0; i < n; ++i) {
    if (nulls && i % 5 == 3) {
      r.s.push_back(std::nullopt);
    } else {
      r.s.push_back(kCities[(i * 7 + i / 3) % 7]);
    }
    r.n.push_back(static_cast<int64_t>(i % 100));
  }
  return r;
}

TEST_F(ParquetDictionary, DictionaryPagesStayCodesWithNulls) {
  Rows rows = CityRows(5000, /*nulls=*/true);
  auto r = WriteAndOpen("codes", rows);
  ASSERT_NE(r, nullptr);
  auto b = ReadCodes(*r, 0);
  ASSERT_TRUE(b.ok()) << b.status();
  const Column& s = b->columns[0];
  ASSERT_TRUE(s.is_dictionary());
  EXPECT_EQ(s.dictionary->size(), 7u);
  EXPECT_TRUE(s.bytes.empty());
  ASSERT_EQ(s.size(), rows.s.size());
  ASSERT_EQ(s.codes.size(), rows.s.size());
  for (size_t i = 0; i < rows.s.size(); ++i) ASSERT_EQ(Value(s, i), rows.s[i]) << "row " << i;
  EXPECT_FALSE(b->columns[1].is_dictionary());  // only strings take the dictionary form

  // Without the option the same file reads as plain strings; materialising gives the same.
  auto plain = r->ReadRowGroup(0);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->columns[0].is_dictionary());
  Column m = s;
  ASSERT_TRUE(MaterializeDictionary(&m).ok());
  EXPECT_FALSE(m.is_dictionary());
  EXPECT_EQ(m.bytes, plain->columns[0].bytes);
  EXPECT_EQ(m.offsets, plain->columns[0].offsets);
}

TEST_F(ParquetDictionary, ChunkSwitchingToPlainPagesIsMaterialised) {
  // Repeating strings, then distinct ones with a small dictionary limit: the writer starts with
  // dictionary pages and falls back to plain pages part-way through the chunk.
  Rows rows;
  for (int i = 0; i < 20000; ++i) {
    std::string v = i < 8192 ? "city-" + std::to_string(i % 5) : "value-" + std::to_string(i);
    rows.s.push_back(i % 11 == 0 ? std::nullopt : std::optional<std::string>(v));
    rows.n.push_back(i);
  }
  ParquetWriterOptions o;
  o.dictionary_max_bytes = 4096;
  o.page_bytes = 2048;
  auto r = WriteAndOpen("mixed", rows, o);
  ASSERT_NE(r, nullptr);
  const auto& md = *r->metadata().row_groups[0].columns[0].meta_data;
  ASSERT_TRUE(md.dictionary_page_offset.has_value()) << "the chunk should start with a dictionary";
  bool plain_pages = false;
  for (const auto& e : md.encoding_stats) {
    plain_pages |= e.page_type == parquet::PageType::kDataPage && e.encoding == parquet::Encoding::kPlain;
  }
  ASSERT_TRUE(plain_pages) << "the chunk should also have plain pages";
  auto b = ReadCodes(*r, 0);
  ASSERT_TRUE(b.ok()) << b.status();
  const Column& s = b->columns[0];
  EXPECT_FALSE(s.is_dictionary());
  for (size_t i = 0; i < rows.s.size(); ++i) ASSERT_EQ(Value(s, i), rows.s[i]) << "row " << i;
}

// Keeps the rows of `b` where `filter` holds; returns their s values.
std::vector<std::optional<std::string>> Filtered(const Batch& b, const std::string& filter) {
  auto pred = CompilePredicate(filter, kSchema);
  EXPECT_TRUE(pred.ok()) << pred.status();
  Selection sel = Selection::All(b.num_rows);
  EXPECT_TRUE((*pred)->Filter(b, &sel).ok());
  std::vector<std::optional<std::string>> out;
  for (size_t i = 0; i < sel.size(); ++i) out.push_back(Value(b.columns[0], sel[i]));
  return out;
}

TEST_F(ParquetDictionary, FiltersOnCodesMatchFiltersOnStrings) {
  Rows rows = CityRows(3000, /*nulls=*/true);
  auto r = WriteAndOpen("filter", rows);
  ASSERT_NE(r, nullptr);
  auto dict = ReadCodes(*r, 0);
  auto plain = r->ReadRowGroup(0);
  ASSERT_TRUE(dict.ok() && plain.ok());
  ASSERT_TRUE(dict->columns[0].is_dictionary());
  for (const char* f : {"s = 'JFK'", "s != 'JFK'", "s < 'LAX'", "s >= 'ORD'", "s in ('SFO', 'BOS')",
                        "s not in ('SFO', 'BOS')", "s like '%O%'", "s not like 'S%'", "s is null",
                        "s is not null", "s = 'ATL' or n > 90", "s = s and n < 3",
                        "not (s in ('JFK') or s like 'L%')"}) {
    auto want = Filtered(*plain, f);
    auto got = Filtered(*dict, f);
    EXPECT_EQ(got, want) << f;
    EXPECT_FALSE(got.empty()) << f;
  }
}

// Group-by s with count(*) and sum(n) over the given batches (one table each, then merged).
std::map<std::optional<std::string>, std::pair<int64_t, int64_t>> GroupBy(
    const std::vector<const Batch*>& batches, int tables) {
  std::vector<MetricSpec> metrics;
  metrics.push_back({"c", *ParseAggregateCall("count(*)")});
  metrics.push_back({"t", *ParseAggregateCall("sum(n)")});
  auto plan = PlanAggregate(kSchema, {{"s"}}, metrics);
  EXPECT_TRUE(plan.ok()) << plan.status();
  std::vector<std::unique_ptr<HashAggregate>> t;
  for (int i = 0; i < tables; ++i) t.push_back(std::make_unique<HashAggregate>(*plan));
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_TRUE(t[i % tables]->Consume(*batches[i], Selection::All(batches[i]->num_rows)).ok());
  }
  for (int i = 1; i < tables; ++i) EXPECT_TRUE(t[0]->Merge(*t[i]).ok());
  auto out = t[0]->Finish();
  EXPECT_TRUE(out.ok()) << out.status();
  std::map<std::optional<std::string>, std::pair<int64_t, int64_t>> m;
  for (size_t g = 0; g < out->num_rows; ++g) {
    EXPECT_FALSE(out->columns[0].is_dictionary());  // output keys are plain strings
    auto key = Value(out->columns[0], g);
    EXPECT_EQ(m.count(key), 0u) << "group twice";
    m[key] = {out->columns[1].i64[g], out->columns[2].i64[g]};
  }
  return m;
}

TEST_F(ParquetDictionary, GroupByCodesAcrossRowGroupsWithDifferentDictionaries) {
  // Row groups of 1000 rows whose dictionaries differ in content and order.
  Rows rows;
  for (int i = 0; i < 4000; ++i) {
    const int rg = i / 1000;
    if (i % 9 == 4) {
      rows.s.push_back(std::nullopt);
    } else {
      rows.s.push_back("k" + std::to_string((i * (rg + 1)) % (3 + 2 * rg) + rg));
    }
    rows.n.push_back(i);
  }
  ParquetWriterOptions o;
  o.row_group_rows = 1000;
  auto r = WriteAndOpen("groups", rows, o);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->num_row_groups(), 4);
  std::vector<Batch> dict, plain;
  for (int g = 0; g < 4; ++g) {
    auto d = ReadCodes(*r, g);
    auto p = r->ReadRowGroup(g);
    ASSERT_TRUE(d.ok() && p.ok());
    ASSERT_TRUE(d->columns[0].is_dictionary());
    dict.push_back(std::move(*d));
    plain.push_back(std::move(*p));
  }
  EXPECT_NE(dict[0].columns[0].dictionary->bytes, dict[3].columns[0].dictionary->bytes);
  std::vector<const Batch*> dp, pp;
  for (int g = 0; g < 4; ++g) {
    dp.push_back(&dict[g]);
    pp.push_back(&plain[g]);
  }
  // Plain batches mixed in (a chunk that fell back) group together with coded ones.
  std::vector<const Batch*> mixed = {&dict[0], &plain[1], &dict[2], &plain[3]};
  auto want = GroupBy(pp, 1);
  EXPECT_TRUE(want.count(std::nullopt));
  int64_t total = 0;
  for (const auto& [k, v] : want) total += v.first;
  EXPECT_EQ(total, 4000);
  EXPECT_EQ(GroupBy(dp, 1), want);
  EXPECT_EQ(GroupBy(dp, 2), want);
  EXPECT_EQ(GroupBy(mixed, 1), want);
  EXPECT_EQ(GroupBy(mixed, 3), want);
}

TEST_F(ParquetDictionary, AllNullChunkFiltersAndGroups) {
  Rows rows;
  for (int i = 0; i < 3000; ++i) {
    rows.s.push_back(std::nullopt);
    rows.n.push_back(i);
  }
  auto r = WriteAndOpen("allnull", rows);
  ASSERT_NE(r, nullptr);
  auto b = ReadCodes(*r, 0);
  ASSERT_TRUE(b.ok()) << b.status();
  for (size_t i = 0; i < rows.s.size(); ++i) ASSERT_EQ(Value(b->columns[0], i), std::nullopt);
  EXPECT_TRUE(Filtered(*b, "s = 'x' or s like '%' or s in ('a')").empty());
  EXPECT_EQ(Filtered(*b, "s is null").size(), rows.s.size());
  auto groups = GroupBy({&*b}, 1);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[std::nullopt].first, 3000);
}

TEST_F(ParquetDictionary, SeveralKeysAndStringMetricsMaterialise) {
  Rows rows = CityRows(2000, /*nulls=*/true);
  auto r = WriteAndOpen("multi", rows);
  ASSERT_NE(r, nullptr);
  auto dict = ReadCodes(*r, 0);
  auto plain = r->ReadRowGroup(0);
  ASSERT_TRUE(dict.ok() && plain.ok());
  std::vector<MetricSpec> metrics;
  metrics.push_back({"lo", *ParseAggregateCall("min(s)")});
  metrics.push_back({"d", *ParseAggregateCall("count_distinct(s)")});
  auto run = [&](const Batch& b) {
    auto plan = PlanAggregate(kSchema, {{"n"}, {"s"}}, metrics);
    EXPECT_TRUE(plan.ok()) << plan.status();
    HashAggregate t(*plan);
    EXPECT_TRUE(t.Consume(b, Selection::All(b.num_rows)).ok());
    auto out = t.Finish();
    EXPECT_TRUE(out.ok());
    std::map<std::pair<int64_t, std::optional<std::string>>, std::pair<std::optional<std::string>, int64_t>> m;
    for (size_t g = 0; g < out->num_rows; ++g) {
      m[{out->columns[0].i64[g], Value(out->columns[1], g)}] = {Value(out->columns[2], g),
                                                               out->columns[3].i64[g]};
    }
    return m;
  };
  auto want = run(*plain);
  EXPECT_GT(want.size(), 100u);
  EXPECT_EQ(run(*dict), want);
}

}  // namespace
}  // namespace de::engine
