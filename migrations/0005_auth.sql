-- Security: bearer tokens (only the SHA-256 of each token is stored, never the token) and the
-- audit trail of every call that changes something.

CREATE TABLE auth_tokens (
  name          TEXT PRIMARY KEY,
  role          TEXT NOT NULL,                 -- admin operator viewer worker
  token_sha256  TEXT NOT NULL UNIQUE,          -- hex SHA-256 of the token
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL DEFAULT 0,    -- 0 = never
  last_used_at  INTEGER NOT NULL DEFAULT 0     -- 0 = never (written at most once a minute)
);

-- One row per mutating call. The row is written (outcome 'pending') before the change runs and
-- completed with the outcome after it, so a change that happened always has its row.
CREATE TABLE audit_log (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  who       TEXT NOT NULL,
  role      TEXT NOT NULL DEFAULT '',
  peer      TEXT NOT NULL DEFAULT '',
  method    TEXT NOT NULL,
  dag_id    TEXT NOT NULL DEFAULT '',
  args      TEXT NOT NULL DEFAULT '{}',
  outcome   TEXT NOT NULL DEFAULT 'pending',  -- pending ok or a gRPC status code name
  error     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_dag ON audit_log(dag_id, at);
