#!/usr/bin/env bash
# Scheduling throughput and latency of de-scheduler with real workers (DESIGN.md section 9):
#   fan-out: one root and N noop tasks that need it, 4 workers -> task completions per second
#   chain:   M noop tasks in a line -> median ready->running hop (previous task's end -> start)
# Every transition is committed to SQLite (WAL) before anyone is told of it, as in production.
# Usage: tests/bench/scheduler_bench.sh [BUILD_DIR]   env: FANOUT (10000), CHAIN (1000), REPS (3),
#   WORKERS (4), SLOTS (8 per worker), WATCH (1: an operator polls `dectl runs show` of the fan-out
#   run every 50 ms while it runs, as `dectl trigger --wait` or a dashboard would), METRICS (1: the
#   scheduler serves /metrics on a free port and curl scrapes it every second during the runs, as
#   Prometheus would; 0: --http '' turns HTTP and metrics off), SYNC (full: every commit on disk
#   before anyone is told, the scheduler's default; normal: --sync normal; unset: both, one after
#   the other), STORE (sqlite: DE_HOME/de.db; postgres: a
#   throwaway PostgreSQL server, tests/bench/pg_serve), SEED_TASKS (0; N: N finished task
#   instances of history written into the store before the scheduler starts, history_seed.sh).
#   Prints the scheduler's startup time (start -> listening, Recover included). Not run by ctest.
#   Needs jq, curl (and sqlite3 or psql to seed).
set -euo pipefail
# Without SYNC: both durability modes, one after the other, each on a fresh home.
if [ -z "${SYNC:-}" ]; then
  for mode in full normal; do echo "== --sync $mode"; SYNC=$mode "$0" "$@"; done
  exit 0
fi
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build-release}"
if [ -z "${1:-}" ]; then BUILD_DIR=build-release BUILD_TYPE=Release "$ROOT/scripts/build.sh" >/dev/null; fi
FANOUT=${FANOUT:-10000}; CHAIN=${CHAIN:-1000}; REPS=${REPS:-3}; WORKERS=${WORKERS:-4}; SLOTS=${SLOTS:-8}
WORK="$(mktemp -d "${TMPDIR:-/tmp}/de-sched-bench-XXXXXX")"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

METRICS=${METRICS:-1}
SYNC=${SYNC:-full}
STORE=${STORE:-sqlite}
SEED_TASKS=${SEED_TASKS:-0}
HTTP_FLAG=127.0.0.1:0; [ "$METRICS" = 1 ] || HTTP_FLAG=""
STORE_FLAG=()
if [ "$STORE" = postgres ]; then
  "$BUILD/tests/bench/pg_serve" > "$WORK/pg.url" 2>"$WORK/pg.log" & PIDS+=($!)
  for _ in $(seq 600); do [ -s "$WORK/pg.url" ] && break; sleep 0.05; done
  [ -s "$WORK/pg.url" ] || { echo "PostgreSQL did not start:" >&2; cat "$WORK/pg.log" >&2; exit 1; }
  STORE_FLAG=(--store "$(cat "$WORK/pg.url")")
fi
start_scheduler() {   # sets ADDR and STARTUP_MS (start -> listening)
  rm -f "$WORK/home/scheduler.addr"
  local t0; t0=$(date +%s%N)
  "$BUILD/server/de-scheduler" --home "$WORK/home" --listen 127.0.0.1:0 --http "$HTTP_FLAG" \
    "${STORE_FLAG[@]}" --sync "$SYNC" --log-level warn 2>>"$WORK/scheduler.log" & PIDS+=($!)
  SCHED_PID=$!
  for _ in $(seq 6000); do [ -f "$WORK/home/scheduler.addr" ] && break; sleep 0.01; done
  [ -f "$WORK/home/scheduler.addr" ] || { echo "scheduler did not start:" >&2; cat "$WORK/scheduler.log" >&2; exit 1; }
  STARTUP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
  ADDR=$(cat "$WORK/home/scheduler.addr")
}
if [ "$SEED_TASKS" -gt 0 ]; then   # migrate (a first start), stop, write the history, start again
  # shellcheck source=tests/bench/history_seed.sh
  . "$ROOT/tests/bench/history_seed.sh"
  start_scheduler; kill "$SCHED_PID"; wait "$SCHED_PID" 2>/dev/null || true
  t0=$(date +%s)
  if [ "$STORE" = postgres ]; then
    seed_sql postgres | psql -q -v ON_ERROR_STOP=1 "$(cat "$WORK/pg.url")" >"$WORK/seed.log" 2>&1
  else
    seed_sql sqlite | sqlite3 -bail "$WORK/home/de.db" >"$WORK/seed.log" 2>&1
  fi || { echo "seeding failed:" >&2; cat "$WORK/seed.log" >&2; exit 1; }
  echo "seeded $SEED_TASKS finished task instances ($SEED_DAGS DAGs x $(seed_runs_per_dag) daily runs) in $(( $(date +%s) - t0 )) s"
fi
start_scheduler
echo "scheduler startup (start -> listening, Recover included): $STARTUP_MS ms"
if [ "$METRICS" = 1 ]; then   # a scraper, as Prometheus with a 1 s interval
  (while curl -fsS "http://$(cat "$WORK/home/http.addr")/metrics" >/dev/null; do sleep 1; done) &
  PIDS+=($!)
fi
export DE_SERVER=$ADDR
for i in $(seq "$WORKERS"); do
  "$BUILD/worker/de-worker" --scheduler "$ADDR" --name "w$i" --slots "$SLOTS" --log-level warn \
    2>"$WORK/worker-$i.log" & PIDS+=($!)
done
DECTL="$BUILD/cli/dectl"
for _ in $(seq 300); do
  [ "$("$DECTL" -o json workers | jq '[.workers[] | select(.state == "connected")] | length')" = "$WORKERS" ] && break
  sleep 0.05
done

{ echo "dag: fanout"; echo "max_active_tasks: 100000"; echo "tasks:"; echo "  - { id: root, type: noop }"
  for i in $(seq "$FANOUT"); do echo "  - { id: t$i, type: noop, needs: [root] }"; done; } > "$WORK/fanout.yaml"
{ echo "dag: chain"; echo "tasks:"; echo "  - { id: t0, type: noop }"
  for i in $(seq "$CHAIN"); do echo "  - { id: t$i, type: noop, needs: [t$((i - 1))] }"; done; } > "$WORK/chain.yaml"
"$DECTL" dag submit "$WORK/fanout.yaml" "$WORK/chain.yaml" >"$WORK/submit.txt" 2>&1 \
  || { echo "dag submit failed:" >&2; cat "$WORK/submit.txt" >&2; exit 1; }

run_and_wait() {   # prints the run's JSON once it has ended
  local id watcher=""
  id=$("$DECTL" trigger "$1" | tail -1)
  if [ "${WATCH:-0}" = 1 ]; then
    (while "$DECTL" -o json runs show "$id" >/dev/null; do sleep 0.05; done) & watcher=$!
  fi
  while true; do   # a cheap poll (the run row only), then one full read
    case $("$DECTL" -o json runs list "$1" --limit 1 | jq -r '.runs[0].state') in
      success|failed|cancelled) break ;;
    esac
    sleep 0.05
  done
  [ -z "$watcher" ] || { kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null || true; }
  "$DECTL" -o json runs show "$id" > "$WORK/run.json"
  [ "$(jq -r .state "$WORK/run.json")" = success ] || { echo "run $id did not succeed" >&2; exit 1; }
  cat "$WORK/run.json"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "de-scheduler at $ADDR ($STORE, $SEED_TASKS seeded task instances, --sync $SYNC, metrics $([ "$METRICS" = 1 ] && echo "on, scraped every 1 s" || echo off)), $WORKERS workers x $SLOTS slots, noop tasks, $(nproc) cores; medians of $REPS runs"
rates=(); hops=(); means=(); p99s=()
for r in $(seq "$REPS"); do
  run_and_wait fanout > "$WORK/f.json"
  # Completions per second over the fan-out tasks: from the first start to the last end.
  rate=$(jq -r '[.tasks[] | select(.task_id != "root")] as $t
    | ($t | map(.started_at_ms | tonumber) | min) as $s | ($t | map(.ended_at_ms | tonumber) | max) as $e
    | ($t | length) / ((($e - $s) | if . < 1 then 1 else . end) / 1000)' "$WORK/f.json")
  rates+=("$rate")
  run_and_wait chain > "$WORK/c.json"
  jq -r '.tasks | sort_by(.task_id | ltrimstr("t") | tonumber) as $t
    | [range(1; $t | length) | ($t[.].started_at_ms | tonumber) - ($t[. - 1].ended_at_ms | tonumber)] | .[]' \
    "$WORK/c.json" > "$WORK/hops"
  hops+=("$(median < "$WORK/hops")")
  means+=("$(awk '{ s += $1 } END { printf "%.3f", s / NR }' "$WORK/hops")")
  p99s+=("$(sort -n "$WORK/hops" | awk '{ a[NR] = $1 } END { print a[int(NR * 0.99)] }')")
done
printf 'fan-out %d tasks: %s completions/s (median; runs: %s)\n' "$FANOUT" \
  "$(printf '%s\n' "${rates[@]}" | median | xargs printf '%.0f')" "$(printf '%.0f ' "${rates[@]}")"
printf 'chain %d tasks: median ready->running hop %s ms (runs: %s; p99: %s ms); mean hop %s ms (runs: %s)\n' \
  "$CHAIN" "$(printf '%s\n' "${hops[@]}" | median)" "${hops[*]}" "${p99s[*]}" \
  "$(printf '%s\n' "${means[@]}" | median)" "${means[*]}"
echo "bars (DESIGN.md 9): >= 5000 completions/s; median hop <= 2 ms. Airflow publishes ~1 s per hop, Temporal ~40 ms per step."
