-- PostgreSQL version of ../0006_vars_secrets.sql: the same schema (see server/store/README.md). Differences
-- from SQLite: BIGINT for INTEGER, identity columns for AUTOINCREMENT, TEXT COLLATE "C" (byte
-- order, as SQLite sorts).
-- Variables (plain values) and secrets (AES-256-GCM, sealed with the scheduler's key file; the
-- plaintext is never stored). Templates reach them as {{ var.NAME }} and {{ secret.NAME }}.

CREATE TABLE variables (
  name        TEXT COLLATE "C" PRIMARY KEY,
  value       TEXT COLLATE "C" NOT NULL,
  updated_at  BIGINT NOT NULL
);

CREATE TABLE secrets (
  name        TEXT COLLATE "C" PRIMARY KEY,
  key_id      TEXT COLLATE "C" NOT NULL,     -- which key sealed it: hex of the first 8 bytes of SHA-256(key)
  nonce       TEXT COLLATE "C" NOT NULL,     -- hex, 12 bytes
  sealed      TEXT COLLATE "C" NOT NULL,     -- hex, ciphertext then the 16-byte GCM tag (the name is the AAD)
  updated_at  BIGINT NOT NULL
);
