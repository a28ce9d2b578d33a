-- Placeholder on branch ops-alerts: keeps migrations numbered in sequence until the ops-metrics
-- branch (which owns 0003_deadlines.sql) is merged; its file replaces this one.
SELECT 1;
