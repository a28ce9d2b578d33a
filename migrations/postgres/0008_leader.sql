-- PostgreSQL version of ../0008_leader.sql: the same table, plus the fence.
-- Several schedulers may share one PostgreSQL database; the one whose lease row is current leads.
-- Every connection of a scheduler sets `de.epoch` to the epoch it leads with (-1 on a standby).
-- A statement trigger on every table refuses a write whose connection's epoch is not the one in
-- de_leader: a deposed leader's late writes are refused by the database itself. The check takes
-- a share lock on the lease row, so a takeover (which updates it) waits for writes in flight,
-- and every write after the takeover sees the new epoch. Connections without de.epoch (psql,
-- maintenance) are not fenced. A table added by a later migration must call de_fence_table().
CREATE TABLE de_leader (
  id             BIGINT PRIMARY KEY CHECK (id = 1),
  holder         TEXT COLLATE "C" NOT NULL,
  address        TEXT COLLATE "C" NOT NULL,
  http_address   TEXT COLLATE "C" NOT NULL,
  epoch          BIGINT NOT NULL,
  expires_at_ms  BIGINT NOT NULL,
  since_ms       BIGINT NOT NULL
);

CREATE FUNCTION de_fence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  mine TEXT := current_setting('de.epoch', true);
  leader_epoch BIGINT;
BEGIN
  IF mine IS NULL OR mine = '' OR mine = '0' OR current_setting('de.fenced', true) = '1' THEN
    RETURN NULL;   -- unfenced, or checked already in this transaction (the share lock holds)
  END IF;
  SELECT epoch INTO leader_epoch FROM de_leader WHERE id = 1 FOR SHARE;
  IF leader_epoch IS NULL OR leader_epoch <> mine::bigint THEN
    RAISE EXCEPTION 'fenced: this scheduler (epoch %) is not the leader (epoch %)', mine,
      coalesce(leader_epoch::text, 'none') USING ERRCODE = 'DEF01';
  END IF;
  PERFORM set_config('de.fenced', '1', true);   -- until the transaction ends
  RETURN NULL;
END $$;

CREATE FUNCTION de_fence_table(t TEXT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                 'FOR EACH STATEMENT EXECUTE FUNCTION de_fence()', t || '_fence', t);
END $$;

SELECT de_fence_table(t) FROM unnest(ARRAY['dags', 'dag_versions', 'runs', 'task_instances',
  'attempts', 'workers', 'backfills', 'alert_outbox', 'auth_tokens', 'audit_log', 'variables',
  'secrets']) AS t;
