-- de schema, version 1. Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE dags (
  dag_id         TEXT PRIMARY KEY,
  latest_version INTEGER NOT NULL,
  paused         INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);

-- Every submitted version of every DAG; runs reference the version they started with.
CREATE TABLE dag_versions (
  dag_id     TEXT NOT NULL REFERENCES dags(dag_id) ON DELETE CASCADE,
  version    INTEGER NOT NULL,
  yaml       TEXT NOT NULL,
  source     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (dag_id, version)
);

CREATE TABLE runs (
  run_id         TEXT PRIMARY KEY,
  dag_id         TEXT NOT NULL REFERENCES dags(dag_id) ON DELETE CASCADE,
  dag_version    INTEGER NOT NULL,
  run_type       TEXT NOT NULL,            -- manual scheduled backfill
  state          TEXT NOT NULL,            -- waiting queued running success failed cancelled
  logical_date   INTEGER NOT NULL,
  interval_start INTEGER NOT NULL,
  interval_end   INTEGER NOT NULL,
  conf           TEXT NOT NULL DEFAULT '{}',
  reason         TEXT NOT NULL DEFAULT '',
  backfill_id    TEXT,
  created_at     INTEGER NOT NULL,
  started_at     INTEGER,
  ended_at       INTEGER
);
CREATE INDEX runs_by_dag ON runs(dag_id, logical_date);
CREATE INDEX runs_by_state ON runs(state);

CREATE TABLE task_instances (
  run_id        TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  task_id       TEXT NOT NULL,
  state         TEXT NOT NULL,   -- scheduled queued running success failed up_for_retry upstream_failed skipped cancelled
  try_number    INTEGER NOT NULL DEFAULT 0,
  max_tries     INTEGER NOT NULL,
  lost_count    INTEGER NOT NULL DEFAULT 0,
  next_retry_at INTEGER,
  queued_at     INTEGER,
  started_at    INTEGER,
  ended_at      INTEGER,
  worker        TEXT NOT NULL DEFAULT '',
  error         TEXT NOT NULL DEFAULT '',
  counters      TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, task_id)
);

-- Every attempt of every task instance; attempt_id is the fencing token.
CREATE TABLE attempts (
  attempt_id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id     TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  task_id    TEXT NOT NULL,
  try_number INTEGER NOT NULL,
  worker     TEXT NOT NULL,
  state      TEXT NOT NULL,      -- running success failed timed_out lost cancelled
  started_at INTEGER NOT NULL,
  ended_at   INTEGER,
  exit_code  INTEGER,
  error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attempts_by_ti ON attempts(run_id, task_id);
CREATE INDEX attempts_by_state ON attempts(state);

CREATE TABLE workers (
  name       TEXT PRIMARY KEY,
  slots      INTEGER NOT NULL,
  pools      TEXT NOT NULL,
  version    TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL,
  state      TEXT NOT NULL
);
