-- Variables (plain values) and secrets (AES-256-GCM, sealed with the scheduler's key file; the
-- plaintext is never stored). Templates reach them as {{ var.NAME }} and {{ secret.NAME }}.

CREATE TABLE variables (
  name        TEXT PRIMARY KEY,
  value       TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE secrets (
  name        TEXT PRIMARY KEY,
  key_id      TEXT NOT NULL,     -- which key sealed it: hex of the first 8 bytes of SHA-256(key)
  nonce       TEXT NOT NULL,     -- hex, 12 bytes
  sealed      TEXT NOT NULL,     -- hex, ciphertext then the 16-byte GCM tag (the name is the AAD)
  updated_at  INTEGER NOT NULL
);
