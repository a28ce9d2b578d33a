// dectl dag validate|submit|list|show|delete|pause|unpause, and the top-level pause/unpause
// (dag render and dag test live in dag_render.cc and dag_test.cc).
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/confirm.h"
#include "cli/format.h"
#include "cli/next_runs.h"
#include "common/dag/loader.h"

namespace de::cli {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read file"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return text.str();
}

std::string TaskCount(size_t n) { return absl::StrCat(n, n == 1 ? " task" : " tasks"); }

std::string DiagnosticLine(const de::v1::Diagnostic& d, const std::string& fallback_file) {
  const std::string& file = d.file().empty() ? fallback_file : d.file();
  if (d.line() <= 0) return absl::StrCat(file, ": ", d.message());
  return absl::StrCat(file, ":", d.line(), ":", d.column(), ": ", d.message());
}

// Joins JSON documents into one JSON array.
std::string JsonArray(const std::vector<std::string>& docs) {
  std::string out = "[\n";
  for (size_t i = 0; i < docs.size(); ++i) {
    std::string doc = docs[i];
    while (!doc.empty() && doc.back() == '\n') doc.pop_back();
    absl::StrAppend(&out, doc, i + 1 < docs.size() ? ",\n" : "\n");
  }
  return out + "]\n";
}

// Prints the loader's warnings ("file:line:col: warning: ..."); they never fail a command.
void PrintWarnings(const de::dag::LoadResult& result, const std::string& file, std::ostream& os) {
  for (de::dag::Diagnostic w : result.warnings) {
    if (w.file.empty()) w.file = file;
    w.message = "warning: " + w.message;
    os << w.ToString() << "\n";
  }
}

// dag validate: offline, with the same loader the scheduler uses.
int Validate(Context& ctx, const std::vector<std::string>& files, int next) {
  bool all_ok = true;
  std::vector<std::string> json_docs;
  for (const auto& file : files) {
    de::v1::ValidateDagResponse response;
    auto text = ReadFile(file);
    if (!text.ok()) {
      all_ok = false;
      auto* d = response.add_errors();
      d->set_file(file);
      d->set_message("cannot read file");
    } else {
      de::dag::LoadResult result = de::dag::LoadDag(*text, file);
      PrintWarnings(result, file, ctx.json() ? ctx.err() : ctx.out());
      if (result.ok()) {
        response.set_ok(true);
        response.set_dag_id(result.dag->id);
        if (!ctx.json()) {
          ctx.out() << file << ": ok (dag " << result.dag->id << ", "
                    << TaskCount(result.dag->tasks.size()) << ")\n";
          if (next > 0) PrintNextIntervals(*result.dag, absl::Now(), std::nullopt, next, ctx.out());
        }
      } else {
        all_ok = false;
        for (const auto& e : result.errors) {
          auto* d = response.add_errors();
          d->set_file(e.file.empty() ? file : e.file);
          d->set_line(e.line);
          d->set_column(e.column);
          d->set_message(e.message);
        }
      }
    }
    if (ctx.json()) {
      json_docs.push_back(ToJson(response));
    } else {
      for (const auto& d : response.errors()) ctx.out() << DiagnosticLine(d, file) << "\n";
    }
  }
  if (ctx.json()) ctx.out() << JsonArray(json_docs);
  return all_ok ? kExitOk : kExitFailed;
}

int Submit(Context& ctx, const std::vector<std::string>& files) {
  bool all_ok = true;
  std::vector<std::string> json_docs;
  for (const auto& file : files) {
    auto text = ReadFile(file);
    if (!text.ok()) {
      all_ok = false;
      ctx.err() << file << ": cannot read file\n";
      continue;
    }
    // The server validates too; warnings are only known locally, so print them here.
    PrintWarnings(de::dag::LoadDag(*text, file), file, ctx.err());
    de::v1::SubmitDagRequest request;
    request.set_yaml(*text);
    request.set_source(file);
    de::v1::SubmitDagResponse response;
    grpc::Status status = ctx.client().Call(
        [&](auto* stub, auto* c) { return stub->SubmitDag(c, request, &response); });
    if (!status.ok()) {
      int code = ctx.client().Report(status, ctx.err());
      if (code == kExitUnreachable) return code;
      all_ok = false;
      continue;
    }
    if (ctx.json()) {
      json_docs.push_back(ToJson(response));
      if (response.errors_size() > 0) all_ok = false;
      continue;
    }
    if (response.errors_size() > 0) {
      all_ok = false;
      for (const auto& d : response.errors()) ctx.out() << DiagnosticLine(d, file) << "\n";
      continue;
    }
    ctx.out() << (response.changed() ? "submitted " : "unchanged ") << response.dag_id()
              << " version " << response.version() << "\n";
  }
  if (ctx.json()) ctx.out() << JsonArray(json_docs);
  return all_ok ? kExitOk : kExitFailed;
}

// "2024-01-02 03:00 +01:00 Europe/Berlin, created 2024-01-03 03:00 +01:00"; "-" for none.
std::string NextRun(const de::v1::DagSummary& s) {
  if (s.next_run_logical_date_ms() == 0) return "-";
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(s.timezone().empty() ? "UTC" : s.timezone(), &tz)) tz = absl::UTCTimeZone();
  std::string out = absl::StrCat(FormatLocal(absl::FromUnixMillis(s.next_run_logical_date_ms()), tz),
                                 " ", tz.name());
  if (s.next_run_created_at_ms() != 0) {
    absl::StrAppend(&out, ", created ",
                    FormatLocal(absl::FromUnixMillis(s.next_run_created_at_ms()), tz));
  }
  return out;
}

int List(Context& ctx) {
  de::v1::ListDagsRequest request;
  de::v1::ListDagsResponse response;
  grpc::Status status =
      ctx.client().Call([&](auto* stub, auto* c) { return stub->ListDags(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  Table table({"DAG", "VERSION", "PAUSED", "SCHEDULE", "TASKS", "LAST RUN", "LAST STATE",
               "NEXT RUN", "DESCRIPTION"});
  for (const auto& d : response.dags()) {
    table.AddRow({d.dag_id(), absl::StrCat(d.version()), d.paused() ? "yes" : "no",
                  d.schedule().empty() ? "(manual)" : d.schedule(), absl::StrCat(d.task_count()),
                  FormatTime(d.last_run_logical_date_ms()),
                  d.last_run_state().empty() ? "-" : d.last_run_state(),
                  NextRun(d), Abbreviate(d.description(), 50)});
  }
  table.Print(ctx.out());
  return kExitOk;
}

int Show(Context& ctx, const std::string& dag_id, int version, bool yaml_only, int next) {
  de::v1::GetDagRequest request;
  request.set_dag_id(dag_id);
  request.set_version(version);
  de::v1::Dag dag;
  grpc::Status status =
      ctx.client().Call([&](auto* stub, auto* c) { return stub->GetDag(c, request, &dag); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(dag);
  if (yaml_only) {
    ctx.out() << dag.yaml();
    if (!dag.yaml().empty() && dag.yaml().back() != '\n') ctx.out() << "\n";
    return kExitOk;
  }
  const auto& s = dag.summary();
  std::vector<std::string> versions;
  for (int v : dag.versions()) versions.push_back(absl::StrCat(v));
  auto& out = ctx.out();
  out << "dag:          " << s.dag_id() << "\n"
      << "version:      " << s.version() << " (stored: " << absl::StrJoin(versions, ", ") << ")\n"
      << "paused:       " << (s.paused() ? "yes" : "no") << "\n"
      << "schedule:     " << (s.schedule().empty() ? "(manual only)" : s.schedule())
      << (s.timezone().empty() ? "" : absl::StrCat(" (", s.timezone(), ")")) << "\n";
  if (!s.description().empty()) out << "description:  " << s.description() << "\n";
  if (!dag.source().empty()) out << "source:       " << dag.source() << "\n";
  out << "updated:      " << FormatTime(s.updated_at_ms()) << "\n";
  if (!s.last_run_state().empty()) {
    out << "last run:     " << FormatTime(s.last_run_logical_date_ms()) << " " << s.last_run_state()
        << "\n";
  }
  if (s.next_run_logical_date_ms() != 0) out << "next run:     " << NextRun(s) << "\n";
  out << "\n";
  Table tasks({"TASK", "TYPE", "NEEDS", "TRIGGER RULE", "RETRIES", "TIMEOUT", "POOL"});
  for (const auto& t : dag.tasks()) {
    tasks.AddRow({t.task_id(), t.type(), t.needs().empty() ? "-" : absl::StrJoin(t.needs(), ","),
                  t.trigger_rule().empty() ? "all_success" : t.trigger_rule(),
                  absl::StrCat(t.retries()),
                  t.timeout_ms() > 0 ? FormatDuration(t.timeout_ms()) : "-", t.pool()});
  }
  tasks.Print(out);
  if (next > 0 && !s.schedule().empty()) {
    // The intervals need start_date and end_date, which only the YAML holds.
    de::dag::LoadResult loaded = de::dag::LoadDag(dag.yaml(), dag.source());
    out << "\n";
    if (!loaded.ok()) {
      out << "next runs: not shown: this dectl does not load the stored YAML ("
          << loaded.errors.front().ToString() << ")\n";
      return kExitOk;
    }
    std::optional<absl::Time> first;
    if (s.next_run_logical_date_ms() != 0) {
      first = absl::FromUnixMillis(s.next_run_logical_date_ms());
    }
    PrintNextIntervals(*loaded.dag, absl::Now(), first, next, out);
  }
  return kExitOk;
}

int Delete(Context& ctx, const std::string& dag_id, bool yes) {
  auto confirmed = Confirm(
      ctx, absl::StrCat("delete DAG ", dag_id, " with all its versions, runs and logs?"), yes);
  if (!confirmed.ok()) return ctx.UsageError(confirmed.status());
  if (!*confirmed) return ctx.Failed(absl::StrCat("DAG ", dag_id, " not deleted"));
  de::v1::DeleteDagRequest request;
  request.set_dag_id(dag_id);
  de::v1::DeleteDagResponse response;
  grpc::Status status = ctx.client().Call(
      [&](auto* stub, auto* c) { return stub->DeleteDag(c, request, &response); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(response);
  ctx.out() << "deleted " << dag_id << " (" << response.runs_deleted() << " runs, "
            << response.log_dirs_deleted() << " log folders)\n";
  return kExitOk;
}

int SetPaused(Context& ctx, const std::string& dag_id, bool paused) {
  de::v1::SetDagPausedRequest request;
  request.set_dag_id(dag_id);
  request.set_paused(paused);
  de::v1::DagSummary summary;
  grpc::Status status = ctx.client().Call(
      [&](auto* stub, auto* c) { return stub->SetDagPaused(c, request, &summary); });
  if (!status.ok()) return ctx.client().Report(status, ctx.err());
  if (ctx.json()) return ctx.PrintJson(summary);
  ctx.out() << (summary.paused() ? "paused " : "unpaused ") << summary.dag_id() << "\n";
  return kExitOk;
}

void AddPause(CLI::App& parent, Context& ctx, bool paused) {
  auto dag_id = std::make_shared<std::string>();
  CLI::App* sub = parent.add_subcommand(
      paused ? "pause" : "unpause",
      paused ? "stop scheduling new runs of a DAG" : "resume scheduling a DAG");
  sub->add_option("DAG", *dag_id, "DAG id")->required();
  OnRun(sub, ctx, [&ctx, dag_id, paused] { return SetPaused(ctx, *dag_id, paused); });
}

}  // namespace

void AddDagCommands(CLI::App& app, Context& ctx) {
  CLI::App* dag = app.add_subcommand("dag", "validate, submit and inspect DAGs");
  dag->require_subcommand(1);

  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* validate =
      dag->add_subcommand("validate", "check DAG files offline (no server needed)");
  validate->add_option("FILE", *files, "DAG YAML files")->required();
  auto validate_next = std::make_shared<int>(0);
  validate->add_option("--next", *validate_next, "print the next N data intervals")
      ->check(CLI::Range(0, 10000));
  OnRun(validate, ctx, [&ctx, files, validate_next] { return Validate(ctx, *files, *validate_next); });

  auto submit_files = std::make_shared<std::vector<std::string>>();
  CLI::App* submit = dag->add_subcommand("submit", "validate and store DAG files");
  submit->add_option("FILE", *submit_files, "DAG YAML files")->required();
  OnRun(submit, ctx, [&ctx, submit_files] { return Submit(ctx, *submit_files); });

  CLI::App* list = dag->add_subcommand("list", "list DAGs");
  OnRun(list, ctx, [&ctx] { return List(ctx); });

  struct ShowArgs {
    std::string dag_id;
    int version = 0;
    bool yaml = false;
    int next = 5;
  };
  auto show_args = std::make_shared<ShowArgs>();
  CLI::App* show = dag->add_subcommand("show", "show a DAG and its tasks");
  show->add_option("DAG", show_args->dag_id, "DAG id")->required();
  show->add_option("--version", show_args->version, "version (default: latest)")
      ->check(CLI::Range(1, 1000000));
  show->add_flag("--yaml", show_args->yaml, "print only the YAML of that version");
  show->add_option("--next", show_args->next, "data intervals to print (0: none)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  OnRun(show, ctx, [&ctx, show_args] {
    return Show(ctx, show_args->dag_id, show_args->version, show_args->yaml, show_args->next);
  });

  auto delete_id = std::make_shared<std::string>();
  auto delete_yes = std::make_shared<bool>(false);
  CLI::App* del =
      dag->add_subcommand("delete", "delete a DAG with all its versions, runs and logs");
  del->add_option("DAG", *delete_id, "DAG id")->required();
  del->add_flag("--yes,-y", *delete_yes, "do not ask for confirmation (needed without a terminal)");
  OnRun(del, ctx, [&ctx, delete_id, delete_yes] { return Delete(ctx, *delete_id, *delete_yes); });

  AddDagRenderCommand(*dag, ctx);
  AddDagTestCommand(*dag, ctx);
  AddPause(*dag, ctx, true);
  AddPause(*dag, ctx, false);
  AddPause(app, ctx, true);
  AddPause(app, ctx, false);
}

}  // namespace de::cli
