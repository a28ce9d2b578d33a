-- The leader lease of schedulers that share one database (issue 12). With SQLite there is only ever
-- one scheduler (DE_HOME is locked), so the table stays empty; it exists so that both dialects
-- have one schema. On PostgreSQL (postgres/0008_leader.sql) every write is also fenced by it.
CREATE TABLE de_leader (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  holder         TEXT NOT NULL,      -- the leader's name (host:pid unless --name)
  address        TEXT NOT NULL,      -- its gRPC address, for standbys to point clients at
  http_address   TEXT NOT NULL,
  epoch          INTEGER NOT NULL,   -- +1 at every change of leader: the fencing token
  expires_at_ms  INTEGER NOT NULL,   -- the database's clock: renewed by the leader, taken after
  since_ms       INTEGER NOT NULL
);
