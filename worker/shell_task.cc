#include "worker/shell_task.h"

#include <exception>
#include <string>

#include "absl/strings/str_cat.h"

namespace de::worker {
namespace {

absl::Status Error(absl::string_view msg) {
  return absl::InvalidArgumentError(absl::StrCat("shell task: ", msg));
}

// Appends every element of the sequence `node` (scalars only) to `out`.
absl::Status AppendWords(const YAML::Node& node, absl::string_view key,
                         std::vector<std::string>& out) {
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& item = node[i];
    if (!item.IsScalar()) {
      return Error(absl::StrCat("'", key, "' item ", i + 1, " must be a string"));
    }
    out.push_back(item.Scalar());
  }
  return absl::OkStatus();
}

absl::StatusOr<ProcessSpec> Build(const YAML::Node& with, std::string_view base_dir) {
  if (!with || with.IsNull()) return Error("'command' is required");
  if (!with.IsMap()) return Error("'with' must be a map");
  for (const auto& kv : with) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (key != "command" && key != "args" && key != "env" && key != "cwd") {
      return Error(absl::StrCat("unknown key '", key, "' (expected command, args, env, cwd)"));
    }
  }
  ProcessSpec spec;
  const YAML::Node command = with["command"];
  if (!command || command.IsNull()) return Error("'command' is required");
  std::vector<std::string> args;
  if (const YAML::Node a = with["args"]; a && !a.IsNull()) {
    if (!a.IsSequence()) return Error("'args' must be a list");
    if (absl::Status s = AppendWords(a, "args", args); !s.ok()) return s;
  }
  if (command.IsScalar()) {
    std::string line = command.Scalar();
    if (line.empty()) return Error("'command' must not be empty");
    if (args.empty()) {
      spec.argv = {"/bin/sh", "-c", line};
    } else {
      // The shell appends the args as separate words, exactly as given (no re-quoting needed).
      spec.argv = {"/bin/sh", "-c", absl::StrCat(line, " \"$@\""), "sh"};
      spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    }
  } else if (command.IsSequence()) {
    if (command.size() == 0) return Error("'command' must not be empty");
    if (absl::Status s = AppendWords(command, "command", spec.argv); !s.ok()) return s;
    if (spec.argv[0].empty()) return Error("'command' program name must not be empty");
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  } else {
    return Error("'command' must be a string or a list");
  }
  if (const YAML::Node env = with["env"]; env && !env.IsNull()) {
    if (!env.IsMap()) return Error("'env' must be a map of NAME: value");
    for (const auto& kv : env) {
      if (!kv.first.IsScalar() || kv.first.Scalar().empty() ||
          kv.first.Scalar().find('=') != std::string::npos) {
        return Error("'env' names must be non-empty strings without '='");
      }
      const std::string& name = kv.first.Scalar();
      if (kv.second.IsNull()) {
        spec.env[name] = "";
      } else if (kv.second.IsScalar()) {
        spec.env[name] = kv.second.Scalar();
      } else {
        return Error(absl::StrCat("'env' value of ", name, " must be a string"));
      }
    }
  }
  if (const YAML::Node cwd = with["cwd"]; cwd && !cwd.IsNull()) {
    if (!cwd.IsScalar() || cwd.Scalar().empty()) return Error("'cwd' must be a non-empty string");
    spec.cwd = cwd.Scalar();
    if (spec.cwd[0] != '/' && !base_dir.empty()) {
      spec.cwd = absl::StrCat(std::string(base_dir), base_dir.back() == '/' ? "" : "/", spec.cwd);
    }
  }
  return spec;
}

}  // namespace

absl::StatusOr<ProcessSpec> ShellTaskSpec(const YAML::Node& with, std::string_view base_dir) {
  try {
    return Build(with, base_dir);
  } catch (const std::exception& e) {
    return Error(absl::StrCat("bad 'with' block: ", e.what()));
  }
}

}  // namespace de::worker
