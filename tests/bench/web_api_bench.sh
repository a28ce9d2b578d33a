#!/usr/bin/env bash
# Server time of the web page's heaviest read: the grid of a DAG with 1,000 runs x 50 tasks
# (GET /api/v1/dags/D/grid?limit=1000, and the full-message form runs?dag=D&tasks=1), and the DAG
# list and one run for comparison.
# Fills a real store (a scheduler creates the schema and the DAG; runs and task instances are
# inserted with sqlite3 while it is stopped), restarts the scheduler, and reports the median of
# REPS requests (curl's time to the last byte on loopback). Bar: < 100 ms.
# Usage: tests/bench/web_api_bench.sh [BUILD_DIR]   (env RUNS, TASKS, REPS)
set -euo pipefail
BUILD=${1:-build}
RUNS=${RUNS:-1000} TASKS=${TASKS:-50} REPS=${REPS:-15}
SCHED=$BUILD/server/de-scheduler DECTL=$BUILD/cli/dectl
TMP=$(mktemp -d)
trap 'kill $SPID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT
start() {
  rm -f "$TMP/home/scheduler.addr"
  "$SCHED" --home "$TMP/home" --listen 127.0.0.1:0 --http 127.0.0.1:0 >>"$TMP/s.log" 2>&1 &
  SPID=$!
  for _ in $(seq 1 600); do [ -s "$TMP/home/scheduler.addr" ] && break; sleep 0.1; done
}
{
  echo "dag: grid_bench"
  echo "schedule: null"
  echo "tasks:"
  for t in $(seq 1 "$TASKS"); do
    echo "  - {id: t$t, type: noop$( [ "$t" -gt 1 ] && echo ", needs: [t$((t - 1))]")}"
  done
} >"$TMP/dag.yaml"
start
"$DECTL" --server "$(cat "$TMP/home/scheduler.addr")" dag submit "$TMP/dag.yaml" >/dev/null
kill $SPID; wait $SPID || true
sqlite3 "$TMP/home/de.db" <<SQL
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < $RUNS)
INSERT INTO runs (run_id, dag_id, dag_version, run_type, state, logical_date, interval_start,
                  interval_end, created_at, started_at, ended_at)
SELECT 'grid_bench__manual__' || n, 'grid_bench', 1, 'manual',
       CASE WHEN n % 17 = 0 THEN 'failed' ELSE 'success' END,
       1700000000000 + n * 3600000, 1700000000000 + n * 3600000, 1700000000000 + n * 3600000,
       1700000000000 + n * 3600000, 1700000000000 + n * 3600000, 1700000000000 + n * 3600000 + 90000
FROM r;
WITH RECURSIVE t(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM t WHERE k < $TASKS)
INSERT INTO task_instances (run_id, task_id, state, try_number, max_tries, queued_at, started_at,
                            ended_at, worker)
SELECT run_id, 't' || k, CASE WHEN state = 'failed' AND k = $TASKS THEN 'failed' ELSE 'success' END,
       1, 1, logical_date + k * 1000, logical_date + k * 1000, logical_date + k * 1000 + 900, 'w1'
FROM runs, t WHERE dag_id = 'grid_bench';
SQL
start
HTTP=$(cat "$TMP/home/http.addr")
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {   # name path
  curl -s -o "$TMP/out" "http://$HTTP$2"   # warm up (and check)
  local bytes; bytes=$(wc -c <"$TMP/out")
  local ms; ms=$(for _ in $(seq 1 "$REPS"); do
    curl -s -o /dev/null -w '%{time_total}\n' "http://$HTTP$2"; done |
    awk '{printf "%.1f\n", $1 * 1000}' | median)
  printf '%-40s median %7s ms  %9s bytes\n' "$1" "$ms" "$bytes"
}
echo "web API server time, $RUNS runs x $TASKS tasks, median of $REPS (loopback curl)"
measure "grid (runs?tasks=1&limit=$RUNS)" "/api/v1/runs?dag=grid_bench&tasks=1&limit=$RUNS"
measure "grid, 25 columns (the page default)" "/api/v1/runs?dag=grid_bench&tasks=1&limit=25"
measure "the page's grid (dags/D/grid?limit=$RUNS)" "/api/v1/dags/grid_bench/grid?limit=$RUNS"
measure "the page's grid, 25 columns (default)" "/api/v1/dags/grid_bench/grid"
measure "DAG list (/api/v1/dags)" "/api/v1/dags"
measure "one run (/api/v1/runs/RUN)" "/api/v1/runs/grid_bench__manual__500"
