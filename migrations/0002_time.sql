-- Schedules, backfills and waits.

-- At most one scheduled-or-backfill run per DAG and data interval: catchup after downtime and
-- overlapping backfills can never create an interval twice. (Manual runs may repeat a date.)
CREATE UNIQUE INDEX runs_one_per_interval ON runs(dag_id, logical_date)
  WHERE run_type IN ('scheduled', 'backfill');
CREATE INDEX runs_by_backfill ON runs(backfill_id) WHERE backfill_id IS NOT NULL;

CREATE TABLE backfills (
  backfill_id TEXT PRIMARY KEY,
  dag_id      TEXT NOT NULL REFERENCES dags(dag_id) ON DELETE CASCADE,
  dag_version INTEGER NOT NULL,
  from_date   INTEGER NOT NULL,
  to_date     INTEGER NOT NULL,
  rerun       TEXT NOT NULL,            -- none failed all
  reverse     INTEGER NOT NULL,
  max_active  INTEGER NOT NULL,
  conf        TEXT NOT NULL DEFAULT '{}',
  state       TEXT NOT NULL,            -- running success failed cancelled
  total       INTEGER NOT NULL,         -- intervals in the range
  cursor      INTEGER NOT NULL DEFAULT 0,  -- intervals handled so far, in processing order
  kept        INTEGER NOT NULL DEFAULT 0,  -- intervals whose existing run was kept as it was
  created_at  INTEGER NOT NULL,
  ended_at    INTEGER
);
