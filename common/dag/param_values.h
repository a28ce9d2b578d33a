// Typed access to a task's validated `with:` parameters, applying the declared defaults
// (common/dag/task_params.h). Built-in tasks use it instead of reading YAML by hand:
//
//   DE_ASSIGN_OR_RETURN(dag::ParamValues v, dag::ParamValues::Make("clean", with));
//   std::string codec = v.String("compression");            // "snappy" unless given
//   int64_t threads = v.Int("threads");                     // 2 unless given
//   std::vector<std::string> nulls = v.Strings("null_if");  // a scalar is one element
//   if (v.Has("dedupe")) { YAML::Node d = v.Node("dedupe"); ... }
//
// Make() validates first (the same checks and messages as the loader, without file positions),
// so the getters never fail: a getter for a key that was not given returns the declared default
// (or an empty/zero value when there is none). Asking for an undeclared key is a programming
// error and returns the empty/zero value. Immutable after Make(); thread-safe to read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/dag/task_params.h"
#include "yaml-cpp/yaml.h"

namespace de::dag {

// "192MB", "1.5GiB", "64k", "65536" -> bytes (K/M/G/T are 1024-based). Errors name the text.
absl::StatusOr<int64_t> ParseByteSize(std::string_view text);

class ParamValues {
 public:
  // Validates `with` (a map, or null when the task has none) against `type`'s declaration.
  // InvalidArgument lists every problem, one per line.
  static absl::StatusOr<ParamValues> Make(std::string_view type, const YAML::Node& with);

  const TaskParams& declaration() const { return *decl_; }
  // True when `key` was given with a value (not null).
  bool Has(std::string_view key) const;
  // The scalar text (or the declared default; "" when neither).
  std::string String(std::string_view key) const;
  // kInt (or the default; 0 when neither).
  int64_t Int(std::string_view key) const;
  // kBool: true/yes/on (or the default).
  bool Bool(std::string_view key) const;
  // kSize in bytes (or the default; 0 when neither).
  int64_t Size(std::string_view key) const;
  // kDuration (or the default; zero when neither).
  absl::Duration Duration(std::string_view key) const;
  // kChar: the character; '\t' for \t or tab; '\0' for none, empty, or a default like "detect".
  char Char(std::string_view key) const;
  // kColumns, kStrings, or a list of scalars: a scalar is one element; absent -> empty.
  std::vector<std::string> Strings(std::string_view key) const;
  // A map of scalars ({old: new}, {col: type}, {name: "count(*)"}) in file order.
  std::vector<std::pair<std::string, std::string>> StringMap(std::string_view key) const;
  // The raw value for nested structures (dedupe, checks, group_by, input maps); Null if absent.
  YAML::Node Node(std::string_view key) const;

 private:
  ParamValues(const TaskParams* decl, YAML::Node with) : decl_(decl), with_(std::move(with)) {}
  const ParamSpec* Spec(std::string_view key) const;

  const TaskParams* decl_;
  YAML::Node with_;
};

}  // namespace de::dag
