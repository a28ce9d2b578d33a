// RLE/bit-packing hybrid and bit packing against Encodings.md byte sequences, random round trips at
// every bit width, and the hash dictionaries.
#include "engine/parquet/encoding.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace de::engine {
namespace {

std::vector<uint8_t> ToBytes(const ByteBuffer& b) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  return std::vector<uint8_t>(p, p + b.size());
}

TEST(BitPack, EncodingsMdExample) {
  // Encodings.md: 0..7 with bit width 3 -> 10001000 11000110 11111010.
  uint32_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  uint8_t out[3];
  BitPack(v, 8, 3, out);
  EXPECT_EQ(out[0], 0x88);
  EXPECT_EQ(out[1], 0xC6);
  EXPECT_EQ(out[2], 0xFA);
  uint32_t back[8];
  BitUnpack(out, 8, 3, back);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(back[i], v[i]);
}

TEST(RleHybrid, BitPackedRunBytes) {
  // Fewer than 8 repeats: one bit-packed run of one group: header (1<<1)|1 = 0x03, then the packed bytes.
  uint32_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  ByteBuffer out;
  RleHybridEncode(v, 8, 3, &out);
  EXPECT_EQ(ToBytes(out), (std::vector<uint8_t>{0x03, 0x88, 0xC6, 0xFA}));
}

TEST(RleHybrid, RleRunBytes) {
  // 100 x value 5 at bit width 3: header 100<<1 = 200 = varint 0xC8 0x01, value in 1 byte.
  std::vector<uint32_t> v(100, 5);
  ByteBuffer out;
  RleHybridEncode(v.data(), v.size(), 3, &out);
  EXPECT_EQ(ToBytes(out), (std::vector<uint8_t>{0xC8, 0x01, 0x05}));
  // Bit width 12: the value takes 2 bytes, little endian.
  std::vector<uint32_t> w(10, 0x123);
  ByteBuffer out2;
  RleHybridEncode(w.data(), w.size(), 12, &out2);
  EXPECT_EQ(ToBytes(out2), (std::vector<uint8_t>{0x14, 0x23, 0x01}));
}

TEST(RleHybrid, MixedRunsLevels) {
  // Definition levels: 3 values then 16 ones. Literal run takes 5 ones to fill a group of 8,
  // then an RLE run of 11 ones: 0x03 [1,0,1,1,1,1,1,1 -> 0b11111101] 0x16 0x01.
  std::vector<uint8_t> v = {1, 0, 1};
  v.insert(v.end(), 16, 1);
  ByteBuffer out;
  RleHybridEncode(v.data(), v.size(), 1, &out);
  EXPECT_EQ(ToBytes(out), (std::vector<uint8_t>{0x03, 0xFD, 0x16, 0x01}));
  std::vector<uint8_t> back(v.size());
  RleDecoder dec(out.udata(), out.size(), 1);
  ASSERT_TRUE(dec.Get(back.data(), back.size()).ok());
  EXPECT_EQ(back, v);
}

TEST(RleHybrid, DecodesHandWrittenStream) {
  // RLE run of 3 x 7 (bit width 4), then one bit-packed group of the 8 values 1..8.
  std::vector<uint8_t> data = {0x06, 0x07, 0x03, 0x21, 0x43, 0x65, 0x87};
  RleDecoder dec(data.data(), data.size(), 4);
  uint32_t out[11];
  ASSERT_TRUE(dec.Get(out, 11).ok());
  std::vector<uint32_t> got(out, out + 11);
  EXPECT_EQ(got, (std::vector<uint32_t>{7, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8}));
  uint32_t more;
  EXPECT_FALSE(dec.Get(&more, 1).ok());  // past the end: error, not garbage
}

TEST(RleHybrid, RandomRoundTripEveryBitWidth) {
  std::mt19937_64 rng(42);
  for (int w = 0; w <= 32; ++w) {
    for (size_t n : {0u, 1u, 7u, 8u, 9u, 100u, 1000u, 4097u}) {
      uint64_t maxv = w == 0 ? 0 : (w == 32 ? 0xFFFFFFFFull : (1ull << w) - 1);
      std::vector<uint32_t> v(n);
      for (size_t i = 0; i < n; ++i) {
        // Mix of runs and noise.
        if (i > 0 && rng() % 3 == 0) {
          v[i] = v[i - 1];
        } else {
          v[i] = static_cast<uint32_t>(maxv == 0 ? 0 : rng() % (maxv + 1));
        }
        if (i % 200 < 30 && i > 0) v[i] = v[i - 1];
      }
      ByteBuffer out;
      RleHybridEncode(v.data(), n, w, &out);
      std::vector<uint32_t> back(n);
      RleDecoder dec(out.udata(), out.size(), w);
      ASSERT_TRUE(dec.Get(back.data(), n).ok()) << "w=" << w << " n=" << n;
      ASSERT_EQ(back, v) << "w=" << w << " n=" << n;
    }
  }
}

TEST(BitPack, RandomRoundTripEveryBitWidth) {
  std::mt19937_64 rng(7);
  for (int w = 0; w <= 32; ++w) {
    size_t n = 77;
    std::vector<uint32_t> v(n);
    for (auto& x : v) x = w == 0 ? 0 : static_cast<uint32_t>(rng() & (w == 32 ? 0xFFFFFFFFull : (1ull << w) - 1));
    std::vector<uint8_t> packed((n * w + 7) / 8);
    BitPack(v.data(), n, w, packed.data());
    std::vector<uint32_t> back(n);
    BitUnpack(packed.data(), n, w, back.data());
    EXPECT_EQ(back, v) << w;
  }
}

TEST(RleHybrid, CorruptInputIsAnError) {
  std::mt19937 rng(3);
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint8_t> data(rng() % 16);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    int w = rng() % 34;
    RleDecoder dec(data.data(), data.size(), w);
    std::vector<uint32_t> out(64);
    (void)dec.Get(out.data(), out.size());  // must not crash or read out of bounds
  }
  std::vector<uint8_t> bad = {0x02, 0x09};  // RLE run with value 9 at bit width 3
  RleDecoder dec(bad.data(), bad.size(), 3);
  uint32_t v;
  EXPECT_FALSE(dec.Get(&v, 1).ok());
}

TEST(Dictionary, FixedAndString) {
  FixedDict<uint64_t> d;
  bool ins;
  for (uint64_t i = 0; i < 100000; ++i) EXPECT_EQ(d.FindOrInsert(i * 0x10000, &ins), i);
  EXPECT_TRUE(ins);
  for (uint64_t i = 0; i < 100000; i += 999) {
    EXPECT_EQ(d.FindOrInsert(i * 0x10000, &ins), i);
    EXPECT_FALSE(ins);
  }
  EXPECT_EQ(d.size(), 100000u);
  d.Clear();
  EXPECT_EQ(d.size(), 0u);
  EXPECT_EQ(d.FindOrInsert(5, &ins), 0u);
}

// Keys near the first one go to the direct-mapped window, the others to the hash table; both
// share one index space, and Clear forgets both (a new first key moves the window).
TEST(Dictionary, FixedDenseWindowAndHashAgree) {
  FixedDict<uint64_t> d;
  std::map<uint64_t, uint32_t> want;
  std::mt19937_64 rng(7);
  auto check_round = [&](int64_t centre) {
    want.clear();
    for (int i = 0; i < 200000; ++i) {
      // Half near the centre (negative values included), half anywhere.
      const uint64_t key = (i & 1) ? rng()
                                   : static_cast<uint64_t>(centre + static_cast<int64_t>(rng() % 40000) - 20000);
      bool ins;
      const uint32_t idx = d.FindOrInsert(key, &ins);
      auto [it, fresh] = want.emplace(key, static_cast<uint32_t>(want.size()));
      ASSERT_EQ(ins, fresh) << key;
      ASSERT_EQ(idx, it->second) << key;
    }
    ASSERT_EQ(d.size(), want.size());
    for (const auto& [key, idx] : want) ASSERT_EQ(d.values()[idx], key);
  };
  check_round(0);
  d.Clear();
  check_round(-1000000);  // the old window's entries must not answer for the new one
  d.Clear();
  bool ins;
  EXPECT_EQ(d.FindOrInsert(3, &ins), 0u);
  EXPECT_TRUE(ins);
  EXPECT_EQ(d.FindOrInsert(static_cast<uint64_t>(-3), &ins), 1u);
  EXPECT_TRUE(ins);
  EXPECT_EQ(d.FindOrInsert(3, &ins), 0u);
  EXPECT_FALSE(ins);

  FixedDict<uint32_t> d32;
  EXPECT_EQ(d32.FindOrInsert(0xFFFFFFFFu, &ins), 0u);  // the window wraps around 2^32
  EXPECT_EQ(d32.FindOrInsert(1u, &ins), 1u);
  EXPECT_TRUE(ins);
  EXPECT_EQ(d32.FindOrInsert(0xFFFFFFFFu, &ins), 0u);
  EXPECT_FALSE(ins);
}

TEST(Dictionary, Strings) {
  bool ins;
  StringDict s;
  std::vector<std::string> keys;
  for (int i = 0; i < 50000; ++i) keys.push_back("k" + std::to_string(i * 31));
  keys.push_back("");
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(s.FindOrInsert(keys[i].data(), keys[i].size(), &ins), i);
    EXPECT_TRUE(ins);
  }
  for (size_t i = 0; i < keys.size(); i += 777) {
    EXPECT_EQ(s.FindOrInsert(keys[i].data(), keys[i].size(), &ins), i);
    EXPECT_FALSE(ins);
    EXPECT_EQ(s.value(i), keys[i]);
  }
  size_t plain = 0;
  for (auto& k : keys) plain += 4 + k.size();
  EXPECT_EQ(s.plain_bytes(), plain);
}

}  // namespace
}  // namespace de::engine
