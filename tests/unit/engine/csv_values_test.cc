#include "engine/csv/csv_values.h"

#include <random>
#include <string>

#include "engine/columnar/column.h"
#include "gtest/gtest.h"

namespace de::engine {
namespace {

TEST(CsvValuesTest, Int64) {
  int64_t v;
  EXPECT_TRUE(ParseCsvInt64("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseCsvInt64("-42", &v));
  EXPECT_EQ(v, -42);
  EXPECT_TRUE(ParseCsvInt64("+7", &v));
  EXPECT_EQ(v, 7);
  EXPECT_TRUE(ParseCsvInt64("9223372036854775807", &v));
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_TRUE(ParseCsvInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_FALSE(ParseCsvInt64("9223372036854775808", &v));
  EXPECT_FALSE(ParseCsvInt64("99999999999999999999", &v));
  EXPECT_FALSE(ParseCsvInt64("", &v));
  EXPECT_FALSE(ParseCsvInt64("-", &v));
  EXPECT_FALSE(ParseCsvInt64("1.0", &v));
  EXPECT_FALSE(ParseCsvInt64(" 1", &v));
}

// The branch-free short form takes exactly what ParseCsvInt64 takes up to 8 characters, with
// the same value, reading the 8 bytes before the field's end (here: other text).
TEST(CsvValuesTest, ShortInt64AgreesWithInt64) {
  std::mt19937_64 rng(3);
  const char kChars[] = "0123456789-+ x/:";
  std::string buf;
  for (int i = 0; i < 200000; ++i) {
    const size_t n = 1 + rng() % 9;
    std::string field;
    for (size_t k = 0; k < n; ++k) {
      // Mostly digits, with a leading sign now and then and any character rarely.
      const bool digit = rng() % 16 != 0 && !(k == 0 && rng() % 4 == 0);
      field += digit ? kChars[rng() % 10] : kChars[rng() % (sizeof(kChars) - 1)];
    }
    buf = "12345678" + field;  // readable bytes before it, digits to make a bad mask visible
    std::string_view v(buf.data() + 8, field.size());
    int64_t a = -1, b = -1;
    const bool short_ok = ParseShortInt64(v, &a);
    const bool full_ok = ParseCsvInt64(v, &b);
    if (field.size() <= 8) {
      ASSERT_EQ(short_ok, full_ok) << "'" << field << "'";
    } else {
      ASSERT_FALSE(short_ok) << field;
    }
    if (short_ok) ASSERT_EQ(a, b) << field;
  }
  int64_t x;
  ASSERT_TRUE(ParseShortInt64("-99999999" + 1, &x));
  EXPECT_EQ(x, 99999999);
  std::string s = "xxxxxxxx-9999999";
  ASSERT_TRUE(ParseShortInt64(std::string_view(s).substr(8), &x));
  EXPECT_EQ(x, -9999999);
  EXPECT_FALSE(ParseShortInt64(std::string_view(s).substr(8, 1), &x));  // "-"
}

TEST(CsvValuesTest, Double) {
  double d;
  EXPECT_TRUE(ParseCsvDouble("1.5", &d));
  EXPECT_EQ(d, 1.5);
  EXPECT_TRUE(ParseCsvDouble("-2e3", &d));
  EXPECT_EQ(d, -2000);
  EXPECT_TRUE(ParseCsvDouble(".5", &d));
  EXPECT_TRUE(ParseCsvDouble("+.5", &d));
  EXPECT_FALSE(ParseCsvDouble("nan", &d));
  EXPECT_FALSE(ParseCsvDouble("inf", &d));
  EXPECT_FALSE(ParseCsvDouble("1.5x", &d));
  EXPECT_FALSE(ParseCsvDouble(".", &d));
  EXPECT_FALSE(ParseCsvDouble("+-1", &d));
}

TEST(CsvValuesTest, Bool) {
  uint8_t b;
  EXPECT_TRUE(ParseCsvBool("TRUE", &b));
  EXPECT_EQ(b, 1);
  EXPECT_TRUE(ParseCsvBool("False", &b));
  EXPECT_EQ(b, 0);
  EXPECT_FALSE(ParseCsvBool("1", &b));
  EXPECT_FALSE(ParseCsvBool("yes", &b));
}

TEST(CsvValuesTest, Date) {
  int32_t d;
  EXPECT_TRUE(ParseCsvDate("1970-01-01", &d));
  EXPECT_EQ(d, 0);
  EXPECT_TRUE(ParseCsvDate("2000-03-01", &d));
  EXPECT_EQ(FormatDate(d), "2000-03-01");
  EXPECT_TRUE(ParseCsvDate("1969-12-31", &d));
  EXPECT_EQ(d, -1);
  EXPECT_TRUE(ParseCsvDate("2024/02/29", &d));
  EXPECT_FALSE(ParseCsvDate("2023-02-29", &d));
  EXPECT_FALSE(ParseCsvDate("2023-13-01", &d));
  EXPECT_FALSE(ParseCsvDate("2023-1-01", &d));
  EXPECT_FALSE(ParseCsvDate("2023-01-01 00:00", &d));
  for (int32_t x = -700000; x < 2900000; x += 997) {
    int32_t back;
    ASSERT_TRUE(ParseCsvDate(FormatDate(x), &back)) << x;
    ASSERT_EQ(back, x);
  }
}

TEST(CsvValuesTest, Timestamp) {
  int64_t t;
  EXPECT_TRUE(ParseCsvTimestamp("1970-01-01 00:00:01", &t));
  EXPECT_EQ(t, 1000000);
  EXPECT_TRUE(ParseCsvTimestamp("1970-01-01T00:01", &t));
  EXPECT_EQ(t, 60000000);
  EXPECT_TRUE(ParseCsvTimestamp("1970-01-01 00:00:00.5", &t));
  EXPECT_EQ(t, 500000);
  EXPECT_TRUE(ParseCsvTimestamp("1970-01-01 00:00:00.1234567", &t));
  EXPECT_EQ(t, 123456);
  EXPECT_TRUE(ParseCsvTimestamp("1970-01-01T02:00:00+02:00", &t));
  EXPECT_EQ(t, 0);
  EXPECT_TRUE(ParseCsvTimestamp("1970-01-01T00:00:00-0130", &t));
  EXPECT_EQ(t, 5400ll * 1000000);
  EXPECT_TRUE(ParseCsvTimestamp("1970-01-02", &t));
  EXPECT_EQ(t, 86400ll * 1000000);
  EXPECT_TRUE(ParseCsvTimestamp("2024-01-31 12:34:56Z", &t));
  EXPECT_EQ(FormatTimestamp(t), "2024-01-31 12:34:56");
  EXPECT_FALSE(ParseCsvTimestamp("2024-01-31 25:00:00", &t));
  EXPECT_FALSE(ParseCsvTimestamp("2024-01-31 12:34:56 junk", &t));
  EXPECT_FALSE(ParseCsvTimestamp("2024-01-31 12", &t));
  EXPECT_FALSE(ParseCsvTimestamp("2024-01-31 12:00:00.", &t));
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31 23:59:59.999999");
}

TEST(CsvValuesTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain ascii text that is long"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
}

}  // namespace
}  // namespace de::engine

namespace de::engine {
namespace {

TEST(DecimalText, ParseAndFormat) {
  int64_t v;
  ASSERT_TRUE(ParseDecimal("12.5", 10, 2, &v));
  EXPECT_EQ(v, 1250);
  ASSERT_TRUE(ParseDecimal("-0.07", 10, 2, &v));
  EXPECT_EQ(v, -7);
  ASSERT_TRUE(ParseDecimal("+3", 10, 2, &v));
  EXPECT_EQ(v, 300);
  EXPECT_FALSE(ParseDecimal("1.234", 10, 2, &v));    // would round
  EXPECT_FALSE(ParseDecimal("123456789", 10, 2, &v)); // 11 digits > precision 10
  EXPECT_FALSE(ParseDecimal("1e3", 10, 2, &v));
  EXPECT_FALSE(ParseDecimal("", 10, 2, &v));
  EXPECT_FALSE(ParseDecimal(".", 10, 2, &v));
  EXPECT_EQ(FormatDecimal(1250, 2), "12.50");
  EXPECT_EQ(FormatDecimal(-7, 2), "-0.07");
  EXPECT_EQ(FormatDecimal(42, 0), "42");
  EXPECT_EQ(FormatDecimal(INT64_MIN, 4), "-922337203685477.5808");
}

TEST(DecimalText, TypeName) {
  int p = 0, s = 0;
  ASSERT_TRUE(ParseDecimalTypeName("decimal(10, 2)", &p, &s));
  EXPECT_EQ(p, 10);
  EXPECT_EQ(s, 2);
  EXPECT_FALSE(ParseDecimalTypeName("decimal(19,2)", &p, &s));
  EXPECT_FALSE(ParseDecimalTypeName("decimal(4,5)", &p, &s));
  EXPECT_FALSE(ParseDecimalTypeName("decimal", &p, &s));
  EXPECT_STREQ(TypeName(Type::kDecimal), "decimal");
}

}  // namespace
}  // namespace de::engine
