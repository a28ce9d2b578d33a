-- PostgreSQL version of ../0007_mapped_tasks.sql: the same schema (see server/store/README.md).
-- Differences from SQLite: BIGINT for INTEGER, TEXT COLLATE "C" (byte order, as SQLite sorts).
-- Mapped tasks (for_each): a mapped task keeps its own row and gets one row per item, task_id
-- 'TASK[i]', when it is expanded at run time. map_index is NULL on every row that is not an instance.
ALTER TABLE task_instances ADD COLUMN map_index BIGINT;
ALTER TABLE task_instances ADD COLUMN map_item TEXT COLLATE "C";
