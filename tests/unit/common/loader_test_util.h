// Shared by the loader tests: the errors of loading `yaml` as t.yaml (file:line:col: message),
// and a DAG that must load (a failure per error otherwise).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/dag/loader.h"

namespace de::dag::testing_util {

inline std::vector<std::string> Errors(const std::string& yaml) {
  LoadResult r = LoadDag(yaml, "t.yaml");
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.ToString());
  return out;
}

inline DagSpec MustLoad(const std::string& yaml) {
  LoadResult r = LoadDag(yaml, "t.yaml");
  for (const auto& e : r.errors) ADD_FAILURE() << e.ToString();
  return r.dag ? *r.dag : DagSpec{};
}

}  // namespace de::dag::testing_util
