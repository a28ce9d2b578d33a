#!/usr/bin/env bash
# Checks a finished chaos run (tests/chaos/run_chaos.sh) from its database and execution records.
# Usage: check.sh WORK_DIR   (WORK_DIR/home/de.db, WORK_DIR/records, WORK_DIR/kills.tsv,
#                             WORK_DIR/triggers.txt; the scheduler and the workers are stopped)
#
# What is asserted:
#   - every acknowledged trigger has its run, and every run ended in success (retries: 5 for
#     the planted failures; attempts lost with a killed worker are retried and use up no retry);
#   - no task instance lost: each run has its 25 task instances, all success;
#   - no success counted twice: at most one attempt in state success per task instance, and each
#     success is backed by an execution of that try that ran to its end with exit code 0;
#   - no execution outlived its worker (the guard kills the task when its worker dies);
#   - every worker drained at once on SIGTERM at the end (CHAOS_UNDRAINED, from run_chaos.sh);
#   - no two executions of one task instance overlap in time.
#
# What "overlap" means. An execution is the life of one task process, from its first record
# (`start`) to its death. Its death is taken as: its `end` record when it exited on its own; the
# moment its worker was kill -9ed when it was still alive then (its last record is at most 500 ms
# older: it died with the worker, the guard taking its process group down); otherwise its last
# record plus one tick (100 ms): its own live worker stopped it (fenced after a reconnect,
# cancelled). Two executions of one task instance overlap when these intervals intersect at all.
# Leases do not excuse an overlap: the scheduler hands a task instance to a new attempt only
# after the old attempt's lease lapsed or its worker reported its end, and a worker must not keep
# running an attempt the scheduler may already have given away; the fencing token (attempt id)
# protects the database from a late report, not the task's side effects from a second copy.
# "Certain overlaps" count only what was observed (start to last record), so no estimate of a
# death time can produce one. Re-executions that do not overlap (a task that finished, whose
# worker died before its result was committed, runs again) are at-least-once execution, allowed,
# and counted as `re-executions`.
set -euo pipefail
WORK=${1:?usage: check.sh WORK_DIR}
DB=$WORK/home/de.db
TASKS_PER_RUN=${CHAOS_TASKS_PER_RUN:-10}
A=$WORK/analysis.db
rm -f "$A"

# One row per execution file: file run task try start pid gen last end rc (-1: none).
find "$WORK/records" -type f -print0 | xargs -0 -r awk '
  function flush() { if (file != "") print file "\t" run "\t" task "\t" try "\t" start "\t" pid "\t" gen "\t" last "\t" endns "\t" rc }
  FNR == 1 { flush(); file = FILENAME; run = ""; task = ""; try = -1; start = -1; pid = -1; gen = ""; last = -1; endns = -1; rc = -1 }
  $1 == "start" { run = $2; task = $3; try = $4; start = $5; pid = $6; gen = $7; last = $5 }
  $1 == "tick" { last = $2 }
  $1 == "end" { last = $2; endns = $2; rc = $3 }
  END { flush() }' >"$WORK/executions.tsv"

sqlite3 "$A" <<EOF
.mode tabs
CREATE TABLE ex(file TEXT, run_id TEXT, task TEXT, try INTEGER, start INTEGER, pid INTEGER,
                gen TEXT, last INTEGER, end_ns INTEGER, rc INTEGER);
.import $WORK/executions.tsv ex
CREATE TABLE kills(victim TEXT, gen TEXT, at INTEGER);
.separator " "
.import $WORK/kills.tsv kills
CREATE TABLE triggers(chaos_id TEXT);
.import $WORK/triggers.txt triggers
UPDATE ex SET end_ns = NULL WHERE end_ns = -1;
UPDATE ex SET rc = NULL WHERE rc = -1;
ATTACH '$DB' AS d;
CREATE TABLE e AS
  SELECT ex.*, k.at AS killed_at,
    CASE
      WHEN end_ns IS NOT NULL THEN end_ns
      WHEN k.at IS NOT NULL AND k.at <= last + 500000000 THEN max(k.at, last)
      ELSE last + 100000000
    END AS death,
    CASE
      WHEN end_ns IS NOT NULL THEN 'ended'
      WHEN k.at IS NOT NULL AND k.at <= last + 500000000 THEN 'with_worker'
      ELSE 'by_worker'
    END AS how
  FROM ex LEFT JOIN kills k ON k.gen = ex.gen;
CREATE INDEX e_ti ON e(run_id, task);
CREATE TABLE overlaps AS
  SELECT a.run_id, a.task, a.try AS try_a, b.try AS try_b, a.gen AS gen_a, b.gen AS gen_b,
         a.start AS start_a, a.death AS death_a, a.how AS how_a,
         b.start AS start_b, b.death AS death_b, b.how AS how_b,
         (a.start < b.last AND b.start < a.last) AS certain
  FROM e a JOIN e b ON a.run_id = b.run_id AND a.task = b.task AND a.file < b.file
  WHERE a.start < b.death AND b.start < a.death;
EOF
q() { sqlite3 "$A" "ATTACH '$DB' AS d; $1"; }

runs=$(q "SELECT count(*) FROM d.runs")
bad_runs=$(q "SELECT count(*) FROM d.runs WHERE state <> 'success'")
untriggered=$(q "SELECT count(*) FROM triggers t WHERE NOT EXISTS
  (SELECT 1 FROM d.runs r WHERE json_extract(r.conf, '$.conf.chaos_id') = t.chaos_id)")
tis=$(q "SELECT count(*) FROM d.task_instances")
lost=$(q "SELECT ($runs * $TASKS_PER_RUN) - count(*) FROM d.task_instances WHERE state = 'success'")
dup=$(q "SELECT count(*) FROM (SELECT 1 FROM d.attempts WHERE state = 'success'
  GROUP BY run_id, task_id HAVING count(*) > 1)")
phantom=$(q "SELECT count(*) FROM d.attempts a WHERE a.state = 'success' AND NOT EXISTS
  (SELECT 1 FROM e WHERE e.run_id = a.run_id AND e.task = a.task_id AND e.try = a.try_number
   AND e.end_ns IS NOT NULL AND e.rc = 0)")
attempts=$(q "SELECT count(*) FROM d.attempts")
lost_attempts=$(q "SELECT count(*) FROM d.attempts WHERE state = 'lost'")
executions=$(q "SELECT count(*) FROM e")
with_worker=$(q "SELECT count(*) FROM e WHERE how = 'with_worker'")
by_worker=$(q "SELECT count(*) FROM e WHERE how = 'by_worker'")
orphans=$(q "SELECT count(*) FROM e WHERE killed_at IS NOT NULL AND last > killed_at + 500000000")
reexec=$(q "SELECT count(*) FROM (SELECT 1 FROM e WHERE rc = 0 GROUP BY run_id, task HAVING count(*) > 1)")
overlaps=$(q "SELECT count(*) FROM overlaps")
certain=$(q "SELECT count(*) FROM overlaps WHERE certain")
kills=$(($(wc -l <"$WORK/kills.tsv")))

echo "chaos: seed=${CHAOS_SEED:-?} rounds=${CHAOS_ROUNDS:-?} kills=$kills" \
  "(scheduler=${CHAOS_KILLS_SCHED:-?} workers=${CHAOS_KILLS_WORKER:-?}) runs=$runs" \
  "task_instances=$tis attempts=$attempts (lost=$lost_attempts) executions=$executions" \
  "(died_with_worker=$with_worker stopped_by_worker=$by_worker re-executed_tis=$reexec)" \
  "duplicate_successes=$dup overlaps=$overlaps (certain=$certain) lost_tis=$lost" \
  "runs_not_success=$bad_runs missing_runs=$untriggered phantom_successes=$phantom orphans=$orphans" \
  "undrained_workers=${CHAOS_UNDRAINED:-0}"

failed=0
problem() { echo "chaos: FAIL: $1" >&2; failed=1; }
[ "$runs" -gt 0 ] || problem "no runs at all"
[ "$untriggered" -eq 0 ] || problem "$untriggered acknowledged triggers have no run"
if [ "$bad_runs" -ne 0 ]; then
  problem "$bad_runs runs did not succeed:"
  q "SELECT r.run_id, r.state, ti.task_id, ti.state, ti.lost_count, ti.error FROM d.runs r
     JOIN d.task_instances ti USING (run_id) WHERE r.state <> 'success' AND ti.state <> 'success'
     LIMIT 10" >&2
fi
[ "$lost" -eq 0 ] || problem "$lost task instances are missing or not success"
if [ "$dup" -ne 0 ]; then
  problem "$dup task instances have more than one successful attempt:"
  q "SELECT run_id, task_id, group_concat(attempt_id || '/' || try_number || '@' || worker, ' ')
     FROM d.attempts WHERE state = 'success' GROUP BY run_id, task_id HAVING count(*) > 1 LIMIT 10" >&2
fi
[ "${CHAOS_UNDRAINED:-0}" -eq 0 ] || problem "${CHAOS_UNDRAINED} workers did not drain on SIGTERM"
[ "$phantom" -eq 0 ] || problem "$phantom successful attempts have no execution that ended with 0"
[ "$orphans" -eq 0 ] || problem "$orphans executions were still recording 500 ms after their worker's kill"
if [ "$overlaps" -ne 0 ]; then
  problem "$overlaps pairs of executions of one task instance overlap ($certain certainly):"
  q "SELECT run_id, task, 'try ' || try_a || ' on ' || gen_a || ' (' || how_a || ')',
       'try ' || try_b || ' on ' || gen_b || ' (' || how_b || ')',
       'overlap ' || ((min(death_a, death_b) - max(start_a, start_b)) / 1000000) || ' ms',
       'certain=' || certain
     FROM overlaps LIMIT 10" >&2
fi
exit "$failed"
