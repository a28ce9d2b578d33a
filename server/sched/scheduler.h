// The scheduler core: owns the in-memory view of every unfinished run, decides which task
// instances are ready, hands them to connected workers, and applies workers' reports. Every state
// change is committed to SQLite before anyone (worker or client) is told of it.
// Thread-safe: one mutex guards all state; gRPC handler threads and the timer thread call in.
// Every run and task state change passes one function (TransitionRun / TransitionTask,
// transitions.cc) that checks it against the table in states.h, writes it, and emits an Event to
// the registered listeners inside the same transaction (OnCommitted after the commit).
// Implementation files, one concept each: scheduler.cc (loading, recovery, commit), transitions.cc,
// run_state.cc (the run state machine), dispatch.cc (assignments), workers.cc (sessions, logs),
// timers.cc (leases, retries, timeouts, waits, deadlines), time_ops.cc (cron, waits, clear),
// file_wait_ops.cc (waits on data, probed by workers), backfills.cc, operator_ops.cc (operator
// calls and read models).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/dag/dag.h"
#include "common/dag/schedule.h"
#include "common/dag/template.h"
#include "de/v1/operator.pb.h"
#include "de/v1/worker.pb.h"
#include "server/sched/events.h"
#include "server/sched/file_waits.h"
#include "server/sched/observer.h"
#include "server/sched/states.h"
#include "server/store/store.h"
#include "server/vault/vault.h"

namespace de::sched {

struct SchedulerOptions {
  // Task logs: LOGS/RUN/TASK/TRY.log (--logs; DE_HOME/logs by default). Schedulers sharing one
  // PostgreSQL point it at storage they share, so that whichever leads serves every log.
  std::string logs_dir = "./de-home/logs";
  absl::Duration lease = absl::Seconds(10);    // an attempt not heartbeated this long is lost
  absl::Duration heartbeat = absl::Seconds(2); // what workers are told to use
  absl::Duration timeout_grace = absl::Seconds(15);  // after a task timeout, before fencing
  int max_lost = 3;                            // lost attempts (dead workers) retried this often
  std::map<std::string, int> pool_slots;       // pool -> slots; pools not listed are unbounded
  int max_backfill_intervals = 100000;
  // The most bytes of one attempt's log kept under DE_HOME/logs (0 = no limit); workers are
  // told (RegisterAck) and cap at it themselves, keeping the tail with a marker. What a worker
  // sends beyond it (plus a little room for the worker's marker) is dropped here.
  int64_t max_log_bytes = int64_t{100} << 20;
  // `dectl dag test` runs one DAG alone, by hand: no cron runs (scheduled_runs false), and a
  // wait_for on another DAG counts as met (that DAG's runs are not in this store).
  bool scheduled_runs = true;
  bool wait_for_dags = true;
};

// The outbound half of one worker session (implemented by the gRPC layer).
class WorkerChannel {
 public:
  virtual ~WorkerChannel() = default;
  // Enqueues a message; never blocks on the network.
  virtual void Send(const v1::SchedulerMessage& msg) = 0;
  // Ends the session (e.g. a newer session of the same worker replaced it).
  virtual void Close() = 0;
};

// Instances of a for_each task are named "TASK[i]" (mapping.cc).
std::string MappedInstanceId(const std::string& task_id, int map_index);
// ("TASK", i) for "TASK[i]"; nullopt for any other id.
std::optional<std::pair<std::string, int>> ParseMappedInstanceId(std::string_view id);

class Scheduler {
 public:
  Scheduler(std::unique_ptr<store::Store> store, const common::Clock* clock,
            SchedulerOptions options);
  ~Scheduler();

  // Registers a consumer of transition events (metrics, alerts). Call before Recover/Start; the
  // scheduler does not own it, and it must outlive the scheduler.
  void AddEventListener(EventListener* listener);
  // Registers the consumer of timings and state samples (metrics). Same rules as listeners.
  void SetObserver(SchedulerObserver* observer);
  // The variables and secrets that templates reach ({{ var.X }}, {{ secret.X }}): checked at
  // submit and validate, resolved per attempt. Same rules as listeners; without one, a DAG that
  // uses any is refused.
  void SetVault(vault::Vault* vault);
  // Samples queue/pool/worker/DAG gauges into the observer (the timer thread does this about
  // once a second; tests call it directly). Takes the lock briefly; no store access.
  void SampleState();

  // Loads every unfinished run and running attempt from the store. Call once before Start.
  absl::Status Recover();
  // Starts the timer thread (leases, retries, timeouts). Tests with a FakeClock may instead call
  // ProcessTimers() after moving the clock.
  void Start();
  void Stop();
  void ProcessTimers();

  // Durability of what the store committed (store/wal_sync.h): whatever tells a worker or an
  // operator of a commit first waits for it (CommitsDurable: everything committed so far).
  // Thread-safe, no lock taken.
  uint64_t CommitSeq() { return durable_->CommitSeq(); }
  bool AwaitDurable(uint64_t seq) { return durable_->AwaitDurable(seq); }
  absl::Status CommitsDurable() { return durable_->AwaitCommitted(); }

  // ---- Operator API (the gRPC layer maps these 1:1) ----
  v1::ValidateDagResponse ValidateDag(const std::string& yaml, const std::string& source);
  absl::StatusOr<v1::SubmitDagResponse> SubmitDag(const std::string& yaml,
                                                  const std::string& source);
  absl::StatusOr<v1::ListDagsResponse> ListDags();
  absl::StatusOr<v1::Dag> GetDag(const std::string& dag_id, int version);
  absl::StatusOr<v1::DagSummary> SetPaused(const std::string& dag_id, bool paused);
  absl::StatusOr<v1::DeleteDagResponse> DeleteDag(const std::string& dag_id);
  absl::StatusOr<v1::Run> Trigger(const std::string& dag_id, std::optional<absl::Time> date,
                                  const std::map<std::string, std::string>& conf);
  absl::StatusOr<v1::ListRunsResponse> ListRuns(const std::string& dag_id,
                                                const std::string& state, int limit);
  absl::StatusOr<v1::Run> GetRun(const std::string& run_id);
  absl::StatusOr<v1::Run> CancelRun(const std::string& run_id);
  absl::StatusOr<v1::GetTaskLogResponse> GetTaskLog(const v1::GetTaskLogRequest& req);
  absl::StatusOr<v1::ListWorkersResponse> ListWorkers();
  absl::StatusOr<v1::Run> ClearRun(const v1::ClearRunRequest& req);
  absl::StatusOr<v1::Backfill> CreateBackfill(const v1::CreateBackfillRequest& req);
  absl::StatusOr<v1::ListBackfillsResponse> ListBackfills(const std::string& dag_id);
  absl::StatusOr<v1::Backfill> GetBackfill(const std::string& backfill_id);
  absl::StatusOr<v1::Backfill> CancelBackfill(const std::string& backfill_id);
  // dectl db clean (history_clean.cc): finished runs that ended more than older_than_ms ago go
  // with their rows and log folders, kCleanBatchRuns runs per transaction; the scheduling lock is
  // taken per batch only. A dry run counts them and deletes nothing.
  absl::StatusOr<v1::CleanHistoryResponse> CleanHistory(const v1::CleanHistoryRequest& req);
  static constexpr int kCleanBatchRuns = 500;

  // ---- Worker sessions ----
  // A worker opened a session. Returns the ack to send first; assignments follow on `channel`.
  // A name is unique among live sessions: while another session of the name is connected and
  // was heard from within min(lease / 2, 3 heartbeats), the new one is refused (AlreadyExists);
  // after that silence the old session is taken as dead (a worker back from a network drop) and
  // replaced, before the leases of its attempts lapse.
  absl::StatusOr<v1::RegisterAck> RegisterWorker(const v1::Register& reg,
                                                 std::shared_ptr<WorkerChannel> channel,
                                                 uint64_t session_id);
  void OnWorkerMessage(const std::string& worker, uint64_t session_id,
                       const v1::WorkerMessage& msg);
  void OnWorkerDisconnected(const std::string& worker, uint64_t session_id);
  // Ends every worker session (shutdown): workers keep their tasks and reconnect to a successor.
  void CloseWorkerSessions();

  // Store-failure bookkeeping (tests and logs): how often the state was rebuilt from the
  // database after a failed write, and how many worker results are queued, not yet committed.
  int64_t StoreReloads();
  int PendingResults();

 private:
  struct TaskState {
    const dag::TaskSpec* spec = nullptr;
    TiState state = TiState::kScheduled;    // row.state is its string, written by TransitionTask
    store::TaskInstanceRow row;
    int64_t attempt_id = 0;                 // the running attempt, if any
    int64_t last_attempt_id = 0;            // the latest attempt (events and logs name it)
    std::vector<int> upstream;              // indices into ActiveRun::tasks
    std::vector<int> downstream;
    // for_each (mapping.cc). An instance "TASK[i]" (after the DAG's tasks in ActiveRun::tasks)
    // names its mapped task; a mapped task lists its instances and counts them by state.
    int map_parent = -1;
    std::vector<int> instances;
    size_t map_cursor = 0;    // instances before it were considered for admission
    int map_active = 0;       // instances queued, running or up for retry (max_parallel)
    int map_unfinished = 0;   // instances not in a terminal state
    std::optional<std::vector<std::string>> mapper_items;   // a mapper result, until applied
  };
  struct ActiveRun {
    RunState state = RunState::kQueued;      // row.state is its string, written by TransitionRun
    store::RunRow row;
    std::shared_ptr<const dag::DagSpec> dag;
    std::vector<TaskState> tasks;
    std::unordered_map<std::string, int> index;
    absl::Time wait_deadline = absl::InfiniteFuture();   // for state waiting
    absl::Time next_deadline = absl::InfiniteFuture();   // earliest unfired run/task deadline
    int unfinished = 0;   // tasks not in a terminal state (kept by TransitionTask)
  };
  // Per DAG: what the cron scheduler creates next.
  struct DagSchedule {
    int version = 0;
    bool paused = false;
    std::shared_ptr<const dag::DagSpec> spec;
    std::shared_ptr<const dag::Schedule> schedule;    // null = manual only
    std::optional<absl::Time> last_scheduled;         // logical date of the latest scheduled run
    absl::Time next_due = absl::InfiniteFuture();     // when the next interval ends
  };
  struct BackfillState {
    store::BackfillRow row;
    std::vector<int64_t> dates;     // logical dates in processing order
    std::shared_ptr<const dag::DagSpec> spec;          // the DAG version it runs
    std::shared_ptr<const dag::Schedule> schedule;     // that version's schedule
  };
  struct InFlight {
    std::string run_id;
    int task = 0;
    std::string worker;
    absl::Time lease_expires;
    absl::Time deadline = absl::InfiniteFuture();   // timeout + grace
    int try_number = 0;
  };
  struct WorkerState {
    std::string name;
    int slots = 0;
    std::vector<std::string> pools;
    std::string version;
    std::shared_ptr<WorkerChannel> channel;   // null when disconnected
    uint64_t session_id = 0;
    std::set<int64_t> attempts;
    absl::Time connected_at;
    absl::Time last_seen;
    int64_t first_seen_ms = 0;
    bool suspect = false;   // lost an attempt to lease expiry and has been silent since
  };
  // Ready-to-dispatch order: higher priority first, then older.
  struct ReadyKey {
    int backfill;          // 0 for scheduled and manual runs, 1 for backfill runs (go after)
    int neg_priority;
    int64_t queued_at;
    uint64_t seq;
    std::string run_id;
    int task;
    auto operator<=>(const ReadyKey&) const = default;
  };
  // A message to send once the transaction that justifies it has committed.
  struct Outgoing {
    std::shared_ptr<WorkerChannel> channel;
    v1::SchedulerMessage msg;
  };

  absl::StatusOr<std::shared_ptr<const dag::DagSpec>> LoadDagVersion(const std::string& dag_id,
                                                                     int version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadRun(const store::RunRow& row) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Rebuilds the in-memory state (runs, attempts in flight, schedules, backfills) from the
  // database: at startup (Recover) and after a failed step. A run that cannot be loaded because
  // its stored data is corrupt (DataLoss) is failed with reason "data_loss: ..." and logged;
  // every other run is loaded as usual, so one bad row never keeps the scheduler down.
  absl::Status LoadState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fails each of `runs` in the store (Store::FailUnloadableRun), in one transaction.
  void FailUnloadableRuns(const std::vector<store::UnreadableRun>& runs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ActiveRun* FindRun(const std::string& run_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::Run> RunToProto(const std::string& run_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The run's proto from a snapshot of `rows` (read elsewhere), plus the DAG and waits from memory.
  v1::Run RunProtoFromRows(const store::RunRow& row,
                           const std::vector<store::TaskInstanceRow>& tis,
                           const std::vector<store::AttemptRow>& attempts)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The one place where states change (transitions.cc). Each checks the transition table,
  // writes the row (caller holds an open transaction), logs it, and emits an event of `kind`
  // (kTaskState / kRunState unless a retry) with `reason`. An illegal transition is refused with
  // an Internal error (a scheduler bug) and nothing is written.
  absl::Status TransitionTask(ActiveRun& run, int task, TiState to,
                              EventKind kind = EventKind::kTaskState)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status TransitionRun(ActiveRun& run, RunState to) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A run was created in `run.state` (an event with an empty from_state).
  absl::Status EmitRunCreated(ActiveRun& run) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Emits an event that is not a state change (lease lost, wait timeout, deadline miss).
  absl::Status Emit(Event e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Event RunEvent(const ActiveRun& run, EventKind kind) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Event TaskEvent(const ActiveRun& run, int task, EventKind kind) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StartRunIfAllowed(ActiveRun& run) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status OnTaskSucceeded(ActiveRun& run, int task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status OnTaskFailedFinal(ActiveRun& run, int task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status MaybeFinishRun(ActiveRun& run) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends attempt `attempt_id` with `state` and moves its task on (retry, fail, succeed).
  // `retryable` false (a failure retrying cannot fix) fails the task without further retries.
  absl::Status EndAttempt(int64_t attempt_id, const std::string& state, std::optional<int> exit_code,
                          const std::string& error, const std::map<std::string, int64_t>& counters,
                          bool retryable = true) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Enqueue(ActiveRun& run, int task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs queued runs of `dag_id` while max_active_runs allows.
  absl::Status PromoteQueuedRuns(const std::string& dag_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Every write step ends here, `step` being what its writes returned. When the step and the
  // commit succeed, sends `outbox_` and returns OK. Otherwise nothing of the step is kept: rolls
  // back, rebuilds the in-memory state from the database (ReloadAfterFailure) and returns the
  // failure: a refused request (not found, a running task, ...) as the step said it; anything
  // else as "cannot commit WHAT: disk full: ..." (or I/O error, database busy, ...) with its code,
  // and background writes back off.
  absl::Status FinishStep(store::Transaction& tx, const absl::Status& step, const char* what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a failed step (FinishStep only; the step's transaction has been rolled back): rebuilds
  // the state from the database. With `back_off`, background writes (timers, dispatch) wait until
  // store_retry_at_ (backoff doubling from 250 ms to 30 s), so a full disk does not rebuild the
  // state in a loop; the next successful commit ends the backoff.
  void ReloadAfterFailure(bool back_off) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool StoreBackingOff() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Group commit of worker results (results_): applies every queued result (unless the store is
  // backing off) and dispatches what they freed. Called by each thread that queued one and by
  // the timer pass; a thread whose result another thread's batch committed finds nothing to do.
  void DrainResults() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the attempts of the queued results in one transaction and dequeues them once it
  // commits. When the store fails (disk full, I/O) they all stay queued. When one result's own
  // step fails (a bug, a row that does not decode), that one alone is dropped, loudly (its
  // attempt ends by lease, as a lost report), and the others are applied again without it.
  // Returns whether there was anything to apply.
  bool ApplyResults() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Checks newly queued results against their session and running attempt (dropping late or
  // fenced ones, renewing the lease of the others) and returns every accepted result.
  std::vector<v1::TaskResult> AcceptQueuedResults() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the result's attempt with its outcome (no-op when the attempt already ended).
  absl::Status ApplyResult(const v1::TaskResult& r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Assigns ready tasks to workers with free slots (one transaction for the batch).
  void Dispatch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Dispatch's steps inside the caller's open transaction (the worker results' group commit
  // assigns the slots it frees in its own); `wrote`: rows changed.
  absl::Status DispatchSteps(bool* wrote) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool CanTakeWork(const WorkerState& w) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A ready task, and a worker that can take one (not stopping, the store taking writes).
  bool CanDispatch() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fills ctx->variables / ctx->secrets with the values of `refs` ("var.X", "secret.Y").
  absl::Status ResolveExternalRefs(const std::vector<std::string>& refs,
                                   dag::TemplateContext* ctx);
  absl::StatusOr<v1::Assignment> MakeAssignment(ActiveRun& run, int task, int64_t attempt_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Commits `tx`, timing it for the observer; on success hands the pending events to the
  // listeners' OnCommitted; on failure drops them.
  absl::Status CommitEvents(store::Transaction& tx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Deadlines (timers.cc): sets the deadlines of `run` whose anchor is known and not yet set (at
  // creation; run_start anchors when the run starts); fires those that have passed, once.
  void ComputeDeadlines(ActiveRun& run) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status FireDeadlines(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues a Cancel for attempt_id to `worker` (sent after the next commit), if it is connected.
  void QueueCancel(const std::string& worker, int64_t attempt_id, const std::string& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadSchedulesAndBackfills() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The interval the cron scheduler creates next for `ds` (scheduled DAG with a start_date): the
  // one after the latest scheduled run, or with catchup: false the latest complete one if later.
  dag::DataInterval NextInterval(const DagSchedule& ds) const;
  // Logical date of the next scheduled run (0 = none: manual, paused, or past end_date).
  int64_t NextScheduledLogicalDate(const std::string& dag_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets the summary's next run: its logical date and when it is created (its interval's end).
  void FillNextRun(const std::string& dag_id, v1::DagSummary* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RefreshDagSchedule(const std::string& dag_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Creates a run (rows + in-memory state) inside the caller's transaction, then waits, queues or
  // starts it as its DAG's wait_for and limits say.
  absl::StatusOr<ActiveRun*> CreateRun(const std::string& dag_id, int version,
                                       const std::string& run_type, absl::Time logical,
                                       absl::Time start, absl::Time end,
                                       const std::map<std::string, std::string>& conf,
                                       const std::string& backfill_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Cron: creates the runs whose intervals have ended (catchup, max_active_runs, end_date).
  absl::Status CreateScheduledRuns() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Backfills: creates/reruns the next intervals while each backfill's max_active allows.
  absl::Status ProgressBackfills() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ProgressBackfill(BackfillState& b) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::Backfill> BackfillToProto(const store::BackfillRow& row)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits: evaluates a waiting run's wait_for; fills `missing` with human lines.
  absl::StatusOr<bool> WaitsSatisfied(const store::RunRow& run, const dag::DagSpec& spec,
                                      std::vector<std::string>* missing)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Re-checks waiting runs that wait on `upstream_dag` (all waiting runs when empty).
  absl::Status RecheckWaiters(const std::string& upstream_dag) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Decides every `scheduled` task of the run by its trigger rule over its upstream tasks'
  // states (trigger_rules.h): queues those that may run (and whose past allows, if
  // depends_on_past), ends those that never can as upstream_failed or skipped, and decides the
  // downstream tasks of those in turn. Others keep waiting.
  absl::Status QueueReadyTasks(ActiveRun& run) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The same, starting from `candidates` (task indices).
  absl::Status QueueReadyTasks(ActiveRun& run, const std::vector<int>& candidates)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<bool> PastAllows(const ActiveRun& run, int task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends an active run as cancelled (tasks cancelled, attempts cancelled on their workers).
  absl::Status CancelActiveRun(ActiveRun& run, const std::string& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Resets tasks of a run to scheduled (new attempts; history kept) and reactivates the run.
  absl::Status ClearTasks(const std::string& run_id, const std::set<std::string>& task_ids)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Mapped tasks (mapping.cc; the file's header says how they work).
  // A ready for_each task (scheduled, needs met): expands it, or queues its mapper step.
  absl::Status StartMapped(ActiveRun& run, int p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Creates the instances of running for_each task `p` (none: skipped; too many: failed).
  absl::Status ExpandMapped(ActiveRun& run, int p, std::vector<std::string> items)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddInstance(ActiveRun& run, int p, store::TaskInstanceRow row, TiState state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues scheduled instances of `p` while max_parallel allows.
  absl::Status AdmitInstances(ActiveRun& run, int p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Instance `c` reached a terminal state: admits the next, finishes its task when all are done.
  absl::Status OnInstanceFinished(ActiveRun& run, int c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status FinishMappedIfDone(ActiveRun& run, int p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // TransitionTask's bookkeeping of an instance's parent counts.
  void NoteInstanceTransition(ActiveRun& run, int parent, TiState from, TiState to)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // LoadRun: a stored instance row.
  absl::Status LoadInstance(ActiveRun& run, store::TaskInstanceRow row)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A for_each task over a glob or partitions whose items a worker lists (the mapper step).
  bool IsMapperStep(const TaskState& ts) const;
  // Before a result is applied: keeps a successful mapper step's items on its task.
  void TakeMapperItems(const v1::TaskResult& r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The mapper step succeeded: expands with its items.
  absl::Status EndMapperStep(ActiveRun& run, int p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Clearing for_each task `p`: its instances named in `task_ids`, or else all of them.
  absl::Status ClearInstances(ActiveRun& run, int p, const std::set<std::string>& task_ids)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void WriteLog(int64_t attempt_id, int64_t offset, const std::string& data);
  // Bytes of the attempt's log stored so far (0 when none or unknown).
  int64_t StoredLogBytes(int64_t attempt_id);
  // Tells the worker of `q` that its result for `attempt_id` is done with (sent at once: the
  // caller has committed it, or is dropping it).
  void AckResult(const std::string& worker, uint64_t session_id, int64_t attempt_id,
                 bool recorded) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string LogPath(const std::string& run_id, const std::string& task_id, int try_number) const;
  void TimerLoop();
  void ProcessTimersLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fails the waiting runs whose wait_for timed out (wait_timeout event, tasks upstream_failed).
  absl::Status TimeOutWaits(const std::vector<std::string>& run_ids)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fails a waiting run with `reason` (tasks upstream_failed); `timeout` also emits the
  // wait_timeout event.
  absl::Status FailWaitingRun(ActiveRun& run, const std::string& reason, bool timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues a waiting run whose waits are all satisfied (and starts it if limits allow).
  absl::Status ReleaseIfSatisfied(ActiveRun& run) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Data-arrival waits (file_wait_ops.cc; the book is file_waits_, server/sched/file_waits.h).
  // Renders a waiting run's path/glob waits and tracks them.
  void TrackFileWaits(const ActiveRun& run) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // WaitsSatisfied's part for path/glob waits.
  bool FileWaitsSatisfied(const store::RunRow& run, const dag::DagSpec& spec,
                          std::vector<std::string>* missing) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends the probes that are due to connected workers (no store write).
  void SendDueProbes(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves on the waiting runs whose data waits changed (FileWaits::TakeMoved): queued when every
  // wait is satisfied, failed (wait_failed) when a path cannot be checked.
  absl::Status MoveFileWaiters(const std::vector<std::string>& run_ids)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnProbeResult(const std::string& worker, uint64_t session_id, const v1::ProbeResult& r)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SampleStateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string db_path_;
  store::Db* const durable_;   // store_'s connection, for its thread-safe durability calls
  std::unique_ptr<store::Store> store_ ABSL_GUARDED_BY(mu_);
  const common::Clock* clock_;
  const SchedulerOptions options_;

  absl::Mutex mu_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const dag::DagSpec>> dag_cache_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<ActiveRun>> runs_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, InFlight> inflight_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, WorkerState> workers_ ABSL_GUARDED_BY(mu_);
  std::set<ReadyKey> ready_ ABSL_GUARDED_BY(mu_);
  // (run id, task index) -> when its retry is due (ms).
  std::map<std::pair<std::string, int>, int64_t> retry_due_ ABSL_GUARDED_BY(mu_);
  std::vector<Outgoing> outbox_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, DagSchedule> schedules_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, BackfillState> backfills_ ABSL_GUARDED_BY(mu_);   // running ones
  FileWaits file_waits_ ABSL_GUARDED_BY(mu_);   // path/glob waits of waiting runs
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<EventListener*> listeners_ ABSL_GUARDED_BY(mu_);
  SchedulerObserver* observer_ ABSL_GUARDED_BY(mu_) = nullptr;
  vault::Vault* vault_ = nullptr;   // set before Recover, constant after (thread-safe itself)
  std::vector<Event> pending_events_ ABSL_GUARDED_BY(mu_);   // emitted in the open transaction
  absl::Time store_retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration store_backoff_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  int64_t store_reloads_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_sample_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex timer_join_mu_;   // Stop may be called from two threads (a signal, the exit)
  std::thread timer_thread_ ABSL_GUARDED_BY(timer_join_mu_);

  // Read-only operator calls (runs show, runs list, logs) read through a second connection, so a
  // large run being polled never holds the scheduling lock while SQLite reads it.
  absl::Mutex read_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::unique_ptr<store::Store> read_store_ ABSL_GUARDED_BY(read_mu_);
  // The read connection, opened on first use.
  absl::StatusOr<store::Store*> ReadStore() ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_);

  // Worker results, each from its arrival until the transaction that records it commits: one
  // queue for the group commit and for a failing store. A session's thread queues its result
  // without mu_ (so results batch while another thread commits); whichever thread holds mu_
  // next applies them all (DrainResults). While its result is queued an attempt is neither lost
  // (lease) nor re-run, however long the store fails.
  struct QueuedResult {
    std::string worker;
    uint64_t session_id = 0;
    v1::TaskResult result;
    bool accepted = false;   // matched to its session and running attempt (under mu_)
  };
  absl::Mutex results_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::map<int64_t, QueuedResult> results_ ABSL_GUARDED_BY(results_mu_);   // by attempt id

  absl::Mutex log_mu_;
  std::map<int64_t, int> log_fds_ ABSL_GUARDED_BY(log_mu_);
  std::map<int64_t, std::string> log_paths_ ABSL_GUARDED_BY(log_mu_);
  std::set<int64_t> log_capped_ ABSL_GUARDED_BY(log_mu_);   // attempts whose log hit the cap
};

}  // namespace de::sched
