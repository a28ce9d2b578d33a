-- Mapped tasks (for_each): a mapped task keeps its own row (its state sums up its instances) and
-- gets one row per item, task_id 'TASK[i]', when it is expanded at run time. The primary key
-- (run_id, task_id) makes an expansion happen at most once per run: expanding again would insert
-- the same keys. map_index is NULL on every row that is not an instance.
ALTER TABLE task_instances ADD COLUMN map_index INTEGER;
ALTER TABLE task_instances ADD COLUMN map_item TEXT;
