#include "common/dag/template_filters.h"

#include <array>

namespace de::dag {
namespace {

std::string_view WithoutTrailingSlashes(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  return p;
}

std::string_view Basename(std::string_view p) {
  p = WithoutTrailingSlashes(p);
  if (p == "/") return p;
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::string_view Dirname(std::string_view p) {
  p = WithoutTrailingSlashes(p);
  size_t slash = p.rfind('/');
  if (slash == std::string_view::npos) return ".";
  std::string_view dir = WithoutTrailingSlashes(p.substr(0, slash));
  return dir.empty() ? std::string_view("/") : dir;
}

// `name` without its last extension; a leading dot does not start one (".env").
std::string_view DropExtension(std::string_view name, std::string_view* ext) {
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return name;
  *ext = name.substr(dot + 1);
  return name.substr(0, dot);
}

std::string_view Stem(std::string_view p) {
  std::string_view ext;
  std::string_view stem = DropExtension(Basename(p), &ext);
  static constexpr std::array<std::string_view, 4> kCompression = {"gz", "zst", "bz2", "xz"};
  for (std::string_view c : kCompression) {
    if (ext == c) {
      std::string_view inner;
      return DropExtension(stem, &inner);
    }
  }
  return stem;
}

// Every filter, once: its name as users write it, in the order messages list them.
struct FilterName {
  std::string_view name;
  TemplateFilter filter;
};
constexpr std::array<FilterName, 4> kFilters = {{{"basename", TemplateFilter::kBasename},
                                                 {"dirname", TemplateFilter::kDirname},
                                                 {"stem", TemplateFilter::kStem},
                                                 {"raw", TemplateFilter::kRaw}}};

}  // namespace

const std::vector<std::string>& TemplateFilterNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const FilterName& f : kFilters) names.emplace_back(f.name);
    return names;
  }();
  return kNames;
}

std::optional<TemplateFilter> ParseTemplateFilter(std::string_view name) {
  for (const FilterName& f : kFilters) {
    if (f.name == name) return f.filter;
  }
  return std::nullopt;
}

std::string ApplyTemplateFilter(TemplateFilter filter, std::string_view value) {
  switch (filter) {
    case TemplateFilter::kRaw:
      return std::string(value);
    case TemplateFilter::kBasename:
      return std::string(Basename(value));
    case TemplateFilter::kDirname:
      return std::string(Dirname(value));
    case TemplateFilter::kStem:
      return std::string(Stem(value));
  }
  return std::string(value);
}

}  // namespace de::dag
