-- PostgreSQL version of ../0003_deadlines.sql: the same schema (see server/store/README.md). Differences
-- from SQLite: BIGINT for INTEGER, identity columns for AUTOINCREMENT, TEXT COLLATE "C" (byte
-- order, as SQLite sorts).
-- Deadlines (DAG `sla:`, task `deadline:`), computed when the run is created (or, for
-- `after: run_start`, when it starts), and when they were missed: fired exactly once per run.
ALTER TABLE runs ADD COLUMN deadline_at BIGINT;
ALTER TABLE runs ADD COLUMN deadline_missed_at BIGINT;
ALTER TABLE task_instances ADD COLUMN deadline_at BIGINT;
ALTER TABLE task_instances ADD COLUMN deadline_missed_at BIGINT;
