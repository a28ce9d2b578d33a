#include "common/dag/yaml_limits.h"

#include <algorithm>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/exceptions.h"
#include "yaml-cpp/parser.h"

namespace de::dag {
namespace {

// Thrown by the handler to stop the parser at the first limit exceeded.
struct LimitHit {
  YamlLimitError error;
};

class LimitCounter : public YAML::EventHandler {
 public:
  explicit LimitCounter(const YamlLimits& limits) : limits_(limits) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { Leaf(mark, anchor, ""); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    Leaf(mark, anchor, value);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchor_sizes_.find(anchor);
    const int64_t size = it == anchor_sizes_.end() ? 1 : it->second;
    Child(mark, "");
    Add(mark, size);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, anchor, /*is_map=*/false);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, anchor, /*is_map=*/true);
  }
  void OnMapEnd() override { Close(); }

 private:
  enum class Counted { kNone, kTasks, kParams };
  struct Frame {
    bool is_map = false;
    YAML::anchor_t anchor = 0;
    int64_t size = 1;          // expanded nodes in this subtree, itself included
    int64_t children = 0;      // direct children (keys and values for a map)
    std::string last_key;      // a map's key whose value comes next
    Counted counted = Counted::kNone;
  };

  [[noreturn]] static void Fail(const YAML::Mark& mark, std::string message) {
    YamlLimitError e;
    if (mark.line >= 0) {
      e.line = mark.line + 1;
      e.column = mark.column + 1;
    }
    e.message = std::move(message);
    throw LimitHit{std::move(e)};
  }

  // A new direct child of the innermost collection: counts tasks and params, remembers keys.
  Counted Child(const YAML::Mark& mark, const std::string& scalar) {
    Counted for_child = Counted::kNone;
    if (frames_.empty()) return for_child;
    Frame& f = frames_.back();
    const bool is_key = f.is_map && f.children % 2 == 0;
    ++f.children;
    if (f.counted == Counted::kTasks && f.children > limits_.max_tasks) {
      Fail(mark, absl::StrCat("more than ", limits_.max_tasks,
                              " tasks in one DAG (split it into several DAGs)"));
    }
    if (f.counted == Counted::kParams && is_key && f.children / 2 + 1 > limits_.max_params) {
      Fail(mark, absl::StrCat("more than ", limits_.max_params, " params in one DAG"));
    }
    if (f.is_map && frames_.size() == 1) {  // the top-level mapping
      if (is_key) {
        f.last_key = scalar;
      } else if (f.last_key == "tasks") {
        for_child = Counted::kTasks;
      } else if (f.last_key == "params") {
        for_child = Counted::kParams;
      }
    }
    return for_child;
  }

  // `n` more expanded nodes in every open subtree and in the document.
  void Add(const YAML::Mark& mark, int64_t n) {
    expanded_ = std::min(expanded_ + n, limits_.max_expanded_nodes + 1);
    if (expanded_ > limits_.max_expanded_nodes) {
      Fail(mark, absl::StrCat("the document expands to more than ", limits_.max_expanded_nodes,
                              " nodes through its aliases (*name); refused before loading"));
    }
    for (Frame& f : frames_) f.size = std::min(f.size + n, limits_.max_expanded_nodes + 1);
  }

  void Node(const YAML::Mark& mark) {
    if (++nodes_ > limits_.max_nodes) {
      Fail(mark, absl::StrCat("more than ", limits_.max_nodes, " YAML nodes; refused before loading"));
    }
  }

  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor, const std::string& value) {
    Node(mark);
    Child(mark, value);
    Add(mark, 1);
    if (anchor != 0) anchor_sizes_[anchor] = 1;
  }

  void Open(const YAML::Mark& mark, YAML::anchor_t anchor, bool is_map) {
    Node(mark);
    Counted counted = Child(mark, "");
    Add(mark, 1);
    if (static_cast<int>(frames_.size()) >= limits_.max_depth) {
      Fail(mark, absl::StrCat("nested more than ", limits_.max_depth, " levels deep"));
    }
    Frame f;
    f.is_map = is_map;
    f.anchor = anchor;
    f.counted = counted;
    frames_.push_back(std::move(f));
  }

  void Close() {
    if (frames_.empty()) return;
    const Frame f = std::move(frames_.back());
    frames_.pop_back();
    if (f.anchor != 0) anchor_sizes_[f.anchor] = f.size;
  }

  const YamlLimits& limits_;
  std::vector<Frame> frames_;
  std::unordered_map<YAML::anchor_t, int64_t> anchor_sizes_;
  int64_t nodes_ = 0;
  int64_t expanded_ = 0;
};

}  // namespace

std::optional<YamlLimitError> CheckYamlLimits(std::string_view text, const YamlLimits& limits) {
  if (static_cast<int64_t>(text.size()) > limits.max_bytes) {
    return YamlLimitError{0, 0,
                          absl::StrCat("file is ", text.size(), " bytes; the limit for a DAG is ",
                                       limits.max_bytes, " bytes")};
  }
  std::istringstream in{std::string(text)};
  LimitCounter counter(limits);
  try {
    YAML::Parser parser(in);
    parser.HandleNextDocument(counter);  // YAML::Load reads the first document only
  } catch (const LimitHit& hit) {
    return hit.error;
  } catch (const YAML::Exception&) {
    return std::nullopt;  // a syntax error: YAML::Load reports it with the loader's message
  }
  return std::nullopt;
}

}  // namespace de::dag
