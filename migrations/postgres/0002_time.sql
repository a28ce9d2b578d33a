-- PostgreSQL version of ../0002_time.sql: the same schema (see server/store/README.md). Differences
-- from SQLite: BIGINT for INTEGER, identity columns for AUTOINCREMENT, TEXT COLLATE "C" (byte
-- order, as SQLite sorts).
-- Schedules, backfills and waits.

-- At most one scheduled-or-backfill run per DAG and data interval: catchup after downtime and
-- overlapping backfills can never create an interval twice. (Manual runs may repeat a date.)
CREATE UNIQUE INDEX runs_one_per_interval ON runs(dag_id, logical_date)
  WHERE run_type IN ('scheduled', 'backfill');
CREATE INDEX runs_by_backfill ON runs(backfill_id) WHERE backfill_id IS NOT NULL;

CREATE TABLE backfills (
  backfill_id TEXT COLLATE "C" PRIMARY KEY,
  dag_id      TEXT COLLATE "C" NOT NULL REFERENCES dags(dag_id) ON DELETE CASCADE,
  dag_version BIGINT NOT NULL,
  from_date   BIGINT NOT NULL,
  to_date     BIGINT NOT NULL,
  rerun       TEXT COLLATE "C" NOT NULL,            -- none failed all
  reverse     BIGINT NOT NULL,
  max_active  BIGINT NOT NULL,
  conf        TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  state       TEXT COLLATE "C" NOT NULL,            -- running success failed cancelled
  total       BIGINT NOT NULL,         -- intervals in the range
  cursor      BIGINT NOT NULL DEFAULT 0,  -- intervals handled so far, in processing order
  kept        BIGINT NOT NULL DEFAULT 0,  -- intervals whose existing run was kept as it was
  created_at  BIGINT NOT NULL,
  ended_at    BIGINT
);
