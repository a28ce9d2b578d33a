-- Deadlines (DAG `sla:`, task `deadline:`), computed when the run is created (or, for
-- `after: run_start`, when it starts), and when they were missed: fired exactly once per run.
ALTER TABLE runs ADD COLUMN deadline_at INTEGER;
ALTER TABLE runs ADD COLUMN deadline_missed_at INTEGER;
ALTER TABLE task_instances ADD COLUMN deadline_at INTEGER;
ALTER TABLE task_instances ADD COLUMN deadline_missed_at INTEGER;
