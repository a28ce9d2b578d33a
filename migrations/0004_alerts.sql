-- Alert deliveries (the outbox). A row is inserted in the same transaction as the state change
-- that caused it and sent later by the scheduler's alert sender thread, with retries.
-- `target` is the channel's configuration as JSON with secrets still as ${ENV} references (they
-- are expanded only when sending); `body` is the exact JSON sent (PagerDuty's routing_key is
-- filled in at send time).

CREATE TABLE alert_outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id     TEXT NOT NULL UNIQUE,            -- X-De-Delivery-Id: the idempotency key
  dag_id          TEXT NOT NULL,
  run_id          TEXT NOT NULL DEFAULT '',
  task_id         TEXT NOT NULL DEFAULT '',
  event           TEXT NOT NULL,                   -- failure task_failure retry success ... test
  channel         TEXT NOT NULL,                   -- webhook slack pagerduty command
  target          TEXT NOT NULL,
  body            TEXT NOT NULL,
  state           TEXT NOT NULL DEFAULT 'pending', -- pending sent failed
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_status     INTEGER,                         -- HTTP status (or exit code) of the last try
  last_error      TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER
);
CREATE INDEX alert_outbox_due ON alert_outbox(state, next_attempt_at);
CREATE INDEX alert_outbox_by_dag ON alert_outbox(dag_id, id);
