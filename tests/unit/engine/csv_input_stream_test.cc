// Tests engine/io/input_stream (plain, gzip, multi-member gzip, zstd, truncation, corruption).
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/io/codec.h"
#include "engine/io/input_stream.h"

namespace de::engine {
namespace {

using ::testing::HasSubstr;

// gzip framing via the project's own codec (the same zlib settings a gzip file uses).
std::string Gzip(const std::string& in) {
  de::engine::ByteBuffer out;
  EXPECT_TRUE(de::engine::CompressBlock(de::engine::Codec::kGzip, 0, in.data(), in.size(), &out).ok());
  return std::string(out.data(), out.size());
}

std::string Zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

absl::StatusOr<std::string> ReadAll(InputStream* in, size_t step = 7777) {
  std::string out;
  std::string buf(step, '\0');
  while (true) {
    auto n = in->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    out.append(buf.data(), *n);
  }
}

std::string Payload() {
  std::string s;
  for (int i = 0; i < 100000; ++i) s += std::to_string(i * 7919 % 1000003) + ",row\n";
  return s;
}

TEST(InputStreamTest, Plain) {
  auto in = NewMemoryInputStream(Payload(), "p.csv");
  EXPECT_EQ(in->compression(), InputCompression::kNone);
  EXPECT_EQ(*ReadAll(in.get()), Payload());
  auto tiny = NewMemoryInputStream("ab", "t.csv");
  EXPECT_EQ(*ReadAll(tiny.get()), "ab");
  auto empty = NewMemoryInputStream("", "e.csv");
  EXPECT_EQ(*ReadAll(empty.get()), "");
}

TEST(InputStreamTest, Gzip) {
  auto in = NewMemoryInputStream(Gzip(Payload()), "p.csv.gz");
  EXPECT_EQ(in->compression(), InputCompression::kGzip);
  EXPECT_EQ(*ReadAll(in.get()), Payload());
}

TEST(InputStreamTest, MultiMemberGzip) {
  std::string a = "a,b\n1,2\n", b = Payload();
  auto in = NewMemoryInputStream(Gzip(a) + Gzip(b) + Gzip(""), "m.csv.gz");
  EXPECT_EQ(*ReadAll(in.get(), 100), a + b);
}

TEST(InputStreamTest, TruncatedGzipIsAnError) {
  std::string z = Gzip(Payload());
  auto in = NewMemoryInputStream(z.substr(0, z.size() / 2), "t.csv.gz");
  auto r = ReadAll(in.get());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("t.csv.gz: truncated gzip stream"));
  // Cut inside the trailer too.
  auto in2 = NewMemoryInputStream(z.substr(0, z.size() - 3), "t2.csv.gz");
  EXPECT_FALSE(ReadAll(in2.get()).ok());
}

TEST(InputStreamTest, CorruptGzipIsAnError) {
  std::string z = Gzip(Payload());
  for (size_t i = 20; i < 60; ++i) z[i] ^= 0x5a;
  auto in = NewMemoryInputStream(z, "c.csv.gz");
  auto r = ReadAll(in.get());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("c.csv.gz: corrupt gzip data at compressed offset"));
}

TEST(InputStreamTest, GzipTrailingGarbageIsAnError) {
  auto in = NewMemoryInputStream(Gzip("a\n") + "junk", "g.csv.gz");
  auto r = ReadAll(in.get());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("unexpected data after gzip member"));
}

TEST(InputStreamTest, Zstd) {
  auto in = NewMemoryInputStream(Zstd(Payload()) + Zstd("x\n"), "p.csv.zst");
  EXPECT_EQ(in->compression(), InputCompression::kZstd);
  EXPECT_EQ(*ReadAll(in.get(), 1000), Payload() + "x\n");
}

TEST(InputStreamTest, TruncatedZstdIsAnError) {
  std::string z = Zstd(Payload());
  auto in = NewMemoryInputStream(z.substr(0, z.size() - 10), "t.csv.zst");
  auto r = ReadAll(in.get());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("t.csv.zst: truncated zstd stream"));
}

TEST(InputStreamTest, Files) {
  auto dir = std::filesystem::temp_directory_path() / ("de_input_stream_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "f.csv.gz").string();
  std::ofstream(path, std::ios::binary) << Gzip(Payload());
  auto in = OpenInputStream(path);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(*ReadAll(in->get()), Payload());
  EXPECT_EQ((*in)->compressed_offset(), static_cast<int64_t>(std::filesystem::file_size(path)));
  auto missing = OpenInputStream((dir / "missing.csv").string());
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("missing.csv: cannot open"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace de::engine
