# Sourced by scheduler_bench.sh (SEED_TASKS=N): fills a stopped, migrated store with N finished
# task instances of realistic history, written as SQL straight into the real schema:
#   SEED_DAGS (50) daily DAGs of 10 chained noop tasks, each with N / (SEED_DAGS * 10) runs, one a
#   day up to yesterday (so none is due and catchup creates nothing), ~2% failed (t5 failed after a
#   retry, t6..t9 upstream_failed), ~3% of the other tasks succeeded on their second try; one
#   attempt per try; an alert_outbox delivery per failed run. Log files are not in the database
#   (DE_HOME/logs) and are not seeded.
# Functions: seed_dag_yaml DAG START_DATE; seed_sql DIALECT(sqlite|postgres) -> the SQL on stdout.

SEED_DAGS=${SEED_DAGS:-50}
SEED_TASKS_PER_RUN=10

seed_dag_yaml() {   # DAG START_DATE
  echo "dag: $1"
  echo "schedule: '@daily'"
  echo "start_date: $2"
  echo "catchup: true"
  echo "tasks:"
  echo "  - { id: t0, type: noop }"
  for k in $(seq 1 $((SEED_TASKS_PER_RUN - 1))); do echo "  - { id: t$k, type: noop, needs: [t$((k - 1))] }"; done
}

seed_runs_per_dag() { echo $(( (SEED_TASKS + SEED_DAGS * SEED_TASKS_PER_RUN - 1) / (SEED_DAGS * SEED_TASKS_PER_RUN) )); }

# The day (ms) of the first seeded run: the latest is yesterday, UTC.
seed_first_day_ms() {
  local today=$(( $(date -u +%s) / 86400 * 86400 ))
  echo $(( (today - $(seed_runs_per_dag) * 86400) * 1000 ))
}

seed_sql() {   # DIALECT
  local runs first ts yaml q
  runs=$(seed_runs_per_dag); first=$(seed_first_day_ms)
  if [ "$1" = sqlite ]; then
    ts="strftime('%Y%m%dT%H%M%SZ', r.logical_date / 1000, 'unixepoch')"
    echo "PRAGMA synchronous=OFF; PRAGMA journal_mode=WAL;"
  else
    ts="to_char(to_timestamp(r.logical_date / 1000) AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS\"Z\"')"
    echo "SET synchronous_commit = off;"
  fi
  echo "BEGIN;"
  echo "CREATE TABLE seed_n (i BIGINT PRIMARY KEY);"
  echo "INSERT INTO seed_n(i) WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < $(( runs > SEED_DAGS ? runs : SEED_DAGS ))) SELECT i FROM c;"
  local start; start=$(date -u -d "@$((first / 1000))" +%F)
  for d in $(seq 0 $((SEED_DAGS - 1))); do
    yaml=$(seed_dag_yaml "$(printf 'hist_%02d' "$d")" "$start"); q=${yaml//\'/\'\'}
    echo "INSERT INTO dags(dag_id, latest_version, paused, created_at, updated_at) VALUES ('$(printf 'hist_%02d' "$d")', 1, 0, $first, $first);"
    echo "INSERT INTO dag_versions(dag_id, version, yaml, source, created_at) VALUES ('$(printf 'hist_%02d' "$d")', 1, '$q', 'seed.yaml', $first);"
  done
  # Runs: dag d, day j; failed when (7d + j) % 50 == 0.
  cat <<SQL
CREATE TABLE seed_runs AS SELECT d.dag_id AS dag_id, $first + j.i * 86400000 AS logical_date,
  CASE WHEN (7 * CAST(substr(d.dag_id, 6) AS INTEGER) + j.i) % 50 = 0 THEN 'failed' ELSE 'success' END AS state
  FROM dags d, seed_n j WHERE d.dag_id LIKE 'hist_%' AND j.i < $runs;
INSERT INTO runs(run_id, dag_id, dag_version, run_type, state, logical_date, interval_start,
  interval_end, conf, reason, created_at, started_at, ended_at)
  SELECT r.dag_id || '__scheduled__' || $ts, r.dag_id, 1, 'scheduled', r.state, r.logical_date,
    r.logical_date, r.logical_date + 86400000, '{}',
    CASE WHEN r.state = 'failed' THEN 'task t5 failed' ELSE '' END,
    r.logical_date + 86400000 + 50, r.logical_date + 86400000 + 120,
    r.logical_date + 86400000 + 120 + 600000 FROM seed_runs r;
INSERT INTO task_instances(run_id, task_id, state, try_number, max_tries, queued_at, started_at,
  ended_at, worker, error)
  SELECT r.run_id, 't' || k.i,
    CASE WHEN r.state = 'success' OR k.i < 5 THEN 'success' WHEN k.i = 5 THEN 'failed' ELSE 'upstream_failed' END,
    CASE WHEN r.state = 'failed' AND k.i > 5 THEN 0
         WHEN (r.state = 'failed' AND k.i = 5) OR (r.logical_date / 86400000 + k.i) % 33 = 0 THEN 2 ELSE 1 END,
    2, r.started_at + k.i * 60000, r.started_at + k.i * 60000 + 5, r.started_at + k.i * 60000 + 50000,
    'w' || (k.i % 4 + 1), CASE WHEN r.state = 'failed' AND k.i = 5 THEN 'exit status 1' ELSE '' END
  FROM runs r, seed_n k WHERE r.dag_id LIKE 'hist_%' AND k.i < $SEED_TASKS_PER_RUN;
INSERT INTO attempts(run_id, task_id, try_number, worker, state, started_at, ended_at, exit_code, error)
  SELECT t.run_id, t.task_id, n.i + 1, t.worker,
    CASE WHEN n.i + 1 < t.try_number OR t.state = 'failed' THEN 'failed' ELSE 'success' END,
    t.started_at + n.i * 30000, t.ended_at - (t.try_number - n.i - 1) * 20000,
    CASE WHEN n.i + 1 < t.try_number OR t.state = 'failed' THEN 1 ELSE 0 END, ''
  FROM task_instances t, seed_n n WHERE t.run_id LIKE 'hist\_%' ESCAPE '\\' AND n.i < t.try_number;
INSERT INTO alert_outbox(delivery_id, dag_id, run_id, event, channel, target, body, state, attempts,
  next_attempt_at, last_status, created_at, sent_at)
  SELECT 'seed-' || r.run_id, r.dag_id, r.run_id, 'failure', 'webhook', '{"url":"http://127.0.0.1:9/"}',
    '{}', 'sent', 1, r.ended_at, 200, r.ended_at, r.ended_at + 10
  FROM runs r WHERE r.dag_id LIKE 'hist_%' AND r.state = 'failed';
DROP TABLE seed_runs;
DROP TABLE seed_n;
COMMIT;
SQL
  # PostgreSQL's autovacuum analyzes a table this size soon after; SQLite never does by itself.
  if [ "$1" = postgres ]; then echo "ANALYZE;"; fi
}
