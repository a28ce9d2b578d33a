// dectl dag render FILE --task T [--date D] [--conf k=v ...]: offline, the task's `with:` block as
// a worker would receive it for a manual run on that date, rendered by the scheduler's own code
// (server/sched/assignment.h); for a shell task also the command line and its environment.
// {{ var.X }} and {{ secret.Y }} are only known to a scheduler at run time: they are shown as the
// placeholders <var.X> and <secret:Y> (a secret's value is never printed).
#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "cli/dag_file.h"
#include "cli/local_dates.h"
#include "cli/parse.h"
#include "common/dag/dag_params.h"
#include "server/sched/assignment.h"
#include "server/sched/ticks.h"
#include "yaml-cpp/yaml.h"

namespace de::cli {
namespace {

struct RenderArgs {
  std::string file;
  std::string task;
  std::string date;
  std::vector<std::string> conf;
};

// Every line of `text` indented by `indent`.
std::string Indent(const std::string& text, const std::string& indent) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!line.empty()) absl::StrAppend(&out, indent, line);
    absl::StrAppend(&out, "\n");
  }
  while (out.size() >= 2 && out.substr(out.size() - 2) == "\n\n") out.pop_back();
  return out;
}

// Placeholders for what only a scheduler knows at run time.
absl::Status Placeholders(const std::vector<std::string>& refs, dag::TemplateContext* ctx) {
  for (const std::string& r : refs) {
    if (r.starts_with(dag::kVarPrefix)) {
      const std::string name = r.substr(dag::kVarPrefix.size());
      ctx->variables[name] = absl::StrCat("<var.", name, ">");
    } else if (r.starts_with(dag::kSecretPrefix)) {
      const std::string name = r.substr(dag::kSecretPrefix.size());
      ctx->secrets[name] = absl::StrCat("<secret:", name, ">");
    }
  }
  return absl::OkStatus();
}

void PrintShellParts(const v1::Assignment& a, std::ostream& out) {
  YAML::Node with = YAML::Load(a.params_yaml());
  const YAML::Node command = with["command"];
  if (command && command.IsScalar()) {
    out << "\ncommand (run by /bin/sh -c):\n" << Indent(command.Scalar(), "  ");
  } else if (command && command.IsSequence()) {
    std::vector<std::string> argv;
    for (const auto& word : command) argv.push_back(word.IsScalar() ? word.Scalar() : "?");
    out << "\ncommand (argv, no shell):\n";
    for (const auto& word : argv) out << "  " << word << "\n";
  }
  out << "\nenvironment (besides env: above):\n";
  std::vector<std::pair<std::string, std::string>> env(a.env().begin(), a.env().end());
  std::sort(env.begin(), env.end());
  for (const auto& [k, v] : env) out << "  " << k << "=" << v << "\n";
}

int Render(Context& ctx, const RenderArgs& args) {
  auto spec = LoadDagFile(args.file, ctx.err());
  if (!spec.ok()) return PrintLoadError(spec.status(), ctx.err());
  const dag::TaskSpec* task = spec->FindTask(args.task);
  if (task == nullptr) {
    std::vector<std::string> ids;
    for (const auto& t : spec->tasks) ids.push_back(t.id);
    return ctx.Failed(absl::StrCat(args.file, ": DAG ", spec->id, " has no task '", args.task,
                                   "' (its tasks: ", absl::StrJoin(ids, ", "), ")"));
  }
  auto conf = ParseConf(args.conf);
  if (!conf.ok()) return ctx.UsageError(conf.status());
  auto date = PickLocalRunDate(*spec, args.date, absl::Now());
  if (!date.ok()) return ctx.UsageError(date.status());
  auto checked = dag::CheckConf(*spec, *conf);
  if (!checked.ok()) return ctx.Failed(std::string(checked.status().message()));
  sched::AttemptInfo info;
  info.run_id = sched::NewRunId(spec->id, "manual", date->logical);
  info.logical_date = date->logical;
  info.interval_start = date->interval.start;
  info.interval_end = date->interval.end;
  info.conf = *checked;
  auto a = sched::BuildAssignment(*spec, *task, info, Placeholders);
  if (!a.ok()) {
    return ctx.Failed(absl::StrCat(args.file, ":", task->loc.line, ": task ", task->id,
                                   ": cannot render: ", a.status().message()));
  }
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(spec->timezone, &tz)) tz = absl::UTCTimeZone();
  auto iso = [&](absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, tz); };
  auto& out = ctx.out();
  out << "# dag " << spec->id << ", task " << task->id << " (" << task->type << "), try 1 of run "
      << info.run_id << "\n"
      << "# logical date " << iso(date->logical) << ", data interval [" << iso(date->interval.start)
      << ", " << iso(date->interval.end) << ")\n";
  if (!date->note.empty()) out << "# " << date->note << "\n";
  if (!task->external_refs.empty()) {
    std::vector<std::string> shown;
    for (const auto& r : task->external_refs) {
      shown.push_back(r.starts_with(dag::kVarPrefix)
                          ? absl::StrCat("{{ ", r, " }} as <", r, ">")
                          : absl::StrCat("{{ ", r, " }} as <secret:",
                                         r.substr(dag::kSecretPrefix.size()), ">"));
    }
    out << "# resolved by the scheduler at run time, shown here as placeholders: "
        << absl::StrJoin(shown, ", ") << "\n";
  }
  if (a->params_yaml().empty()) {
    out << "with: {}\n";
  } else {
    out << "with:\n" << Indent(a->params_yaml(), "  ");
  }
  if (task->type == "shell") PrintShellParts(*a, out);
  return kExitOk;
}

}  // namespace

void AddDagRenderCommand(CLI::App& dag, Context& ctx) {
  auto args = std::make_shared<RenderArgs>();
  CLI::App* render = dag.add_subcommand(
      "render", "print a task's with: block rendered for a date, offline (as a worker gets it)");
  render->add_option("FILE", args->file, "DAG YAML file")->required();
  render->add_option("--task", args->task, "task id")->required();
  render->add_option("--date", args->date,
                     "logical date: YYYY-MM-DD (that day's tick in the DAG's zone) or a timestamp "
                     "(default: the latest complete interval, or today)");
  render->add_option("--conf", args->conf, "param override KEY=VALUE (repeatable)");
  OnRun(render, ctx, [&ctx, args] { return Render(ctx, *args); });
}

}  // namespace de::cli
