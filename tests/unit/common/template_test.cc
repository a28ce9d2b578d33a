#include "common/dag/template.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::dag {
namespace {

absl::Time At(const std::string& rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

TemplateContext Ctx() {
  return MakeTemplateContext("flights_daily", "scheduled__2024-01-05", "convert", 2,
                             At("2024-01-05T00:00:00Z"), At("2024-01-05T00:00:00Z"),
                             At("2024-01-06T00:00:00Z"), absl::UTCTimeZone(),
                             {{"raw_dir", "data/raw"}, {"n", "3"}});
}

TEST(TemplateTest, StandardVarsAreFilled) {
  TemplateContext ctx = Ctx();
  EXPECT_EQ(ctx.vars.size(), StandardTemplateVars().size());
  EXPECT_EQ(ctx.vars["ds"], "2024-01-05");
  EXPECT_EQ(ctx.vars["ds_nodash"], "20240105");
  EXPECT_EQ(ctx.vars["ts"], "2024-01-05T00:00:00+00:00");
  EXPECT_EQ(ctx.vars["logical_date"], "2024-01-05T00:00:00+00:00");
  EXPECT_EQ(ctx.vars["data_interval_start"], "2024-01-05T00:00:00+00:00");
  EXPECT_EQ(ctx.vars["data_interval_end"], "2024-01-06T00:00:00+00:00");
  EXPECT_EQ(ctx.vars["run_id"], "scheduled__2024-01-05");
  EXPECT_EQ(ctx.vars["dag"], "flights_daily");
  EXPECT_EQ(ctx.vars["task"], "convert");
  EXPECT_EQ(ctx.vars["attempt"], "2");
}

TEST(TemplateTest, DatesAreFormattedInTheZone) {
  absl::TimeZone ny;
  ASSERT_TRUE(absl::LoadTimeZone("America/New_York", &ny));
  TemplateContext ctx =
      MakeTemplateContext("d", "r", "t", 1, At("2024-07-01T04:00:00Z"), At("2024-07-01T04:00:00Z"),
                          At("2024-07-02T04:00:00Z"), ny, {});
  EXPECT_EQ(ctx.vars["ds"], "2024-07-01");
  EXPECT_EQ(ctx.vars["ts"], "2024-07-01T00:00:00-04:00");
  EXPECT_EQ(ctx.vars["data_interval_end"], "2024-07-02T00:00:00-04:00");
}

TEST(TemplateTest, Render) {
  TemplateContext ctx = Ctx();
  EXPECT_EQ(*RenderTemplate("{{ params.raw_dir }}/flights-{{ds}}.csv.gz", ctx),
            "data/raw/flights-2024-01-05.csv.gz");
  EXPECT_EQ(*RenderTemplate("{{   dag }} {{run_id}} attempt {{ attempt }}", ctx),
            "flights_daily scheduled__2024-01-05 attempt 2");
  EXPECT_EQ(*RenderTemplate("no templates { here }", ctx), "no templates { here }");
  EXPECT_EQ(*RenderTemplate("", ctx), "");
  EXPECT_EQ(*RenderTemplate("dt={{ ds_nodash }}}", ctx), "dt=20240105}");
}

TEST(TemplateTest, RenderErrors) {
  TemplateContext ctx = Ctx();
  auto unknown = RenderTemplate("x {{ dss }}", ctx);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "unknown template variable 'dss' (did you mean 'ds'?)");
  auto param = RenderTemplate("{{ params.raw_dri }}", ctx);
  ASSERT_FALSE(param.ok());
  EXPECT_EQ(param.status().message(),
            "unknown param 'raw_dri' in '{{ params.raw_dri }}' (did you mean 'params.raw_dir'?)");
  auto open = RenderTemplate("a {{ ds", ctx);
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().message(), "unterminated '{{' at offset 2 (missing '}}')");
  auto empty = RenderTemplate("{{ }}", ctx);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "empty '{{ }}' at offset 0");
  auto expr = RenderTemplate("{{ ds | upper }}", ctx);
  ASSERT_FALSE(expr.ok());
  EXPECT_EQ(expr.status().message(),
            "unknown filter 'upper' in '{{ ds | upper }}'; filters: basename, dirname, stem, raw");
  auto bad = RenderTemplate("{{ ds; rm }}", ctx);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "'{{ ds; rm }}' is not a variable name (only {{ name }}, {{ params.NAME }}, "
            "{{ var.NAME }} and {{ secret.NAME }})");
}

TEST(TemplateTest, Check) {
  std::set<std::string> params = {"raw_dir"};
  EXPECT_TRUE(CheckTemplate("{{ ds }}/{{ params.raw_dir }}/{{ data_interval_end }}", params).ok());
  EXPECT_TRUE(CheckTemplate("plain", {}).ok());
  absl::Status st = CheckTemplate("{{ data_interval_begin }}", params);
  EXPECT_EQ(st.message(),
            "unknown template variable 'data_interval_begin' (did you mean 'data_interval_end'?)");
  st = CheckTemplate("{{ params.other }}", params);
  EXPECT_EQ(st.message(), "unknown param 'other' in '{{ params.other }}'");
  st = CheckTemplate("{{ nothing_like_it }}", params);
  EXPECT_EQ(st.message(), "unknown template variable 'nothing_like_it'");
}

// Structural equality of two YAML trees (scalars compared as text).
bool SameTree(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) return false;
  switch (a.Type()) {
    case YAML::NodeType::Scalar:
      return a.Scalar() == b.Scalar();
    case YAML::NodeType::Sequence:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (!SameTree(a[i], b[i])) return false;
      return true;
    case YAML::NodeType::Map: {
      if (a.size() != b.size()) return false;
      auto ia = a.begin();
      auto ib = b.begin();
      for (; ia != a.end(); ++ia, ++ib) {
        if (!SameTree(ia->first, ib->first) || !SameTree(ia->second, ib->second)) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

TEST(TemplateTest, RenderYamlRoundTrips) {
  YAML::Node with = YAML::Load(R"(
input: "{{ params.raw_dir }}/flights-{{ ds }}.csv.gz"
output: lake/flights/dt={{ ds }}
compression: zstd
trim: true
limit: 100
ratio: 0.5
quoted_number: "123"
nothing: ~
null_if: ["", NA, "N/A", "{{ ds_nodash }}"]
dedupe: { keys: [date, origin], keep: first }
tricky: "a: b # {{ dag }}"
empty_map: {}
empty_list: []
"{{ ds }}": key untouched
)");
  auto text = RenderYaml(with, Ctx());
  ASSERT_TRUE(text.ok()) << text.status();
  YAML::Node got = YAML::Load(*text);
  YAML::Node want = YAML::Load(R"(
input: "data/raw/flights-2024-01-05.csv.gz"
output: lake/flights/dt=2024-01-05
compression: zstd
trim: true
limit: 100
ratio: 0.5
quoted_number: "123"
nothing: ~
null_if: ["", NA, "N/A", "20240105"]
dedupe: { keys: [date, origin], keep: first }
tricky: "a: b # flights_daily"
empty_map: {}
empty_list: []
"{{ ds }}": key untouched
)");
  EXPECT_TRUE(SameTree(got, want)) << *text;
  EXPECT_EQ(got["limit"].as<int>(), 100);
  EXPECT_TRUE(got["trim"].as<bool>());
  EXPECT_EQ(got["limit"].Tag(), "?");          // stays a plain scalar (a number)
  EXPECT_EQ(got["quoted_number"].Tag(), "!");  // stays a quoted string
  EXPECT_TRUE(got["nothing"].IsNull());
}

TEST(TemplateTest, RenderYamlReportsUnknownVariables) {
  auto text = RenderYaml(YAML::Load("a: [x, '{{ nope }}']"), Ctx());
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message(), "unknown template variable 'nope'");
}

TEST(TemplateTest, RenderYamlOfScalarAndNull) {
  EXPECT_EQ(*RenderYaml(YAML::Load("'{{ ds }}'"), Ctx()), "\"2024-01-05\"");
  YAML::Node null_node;
  auto text = RenderYaml(null_node, Ctx());
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(YAML::Load(*text).IsNull());
}

}  // namespace
}  // namespace de::dag
