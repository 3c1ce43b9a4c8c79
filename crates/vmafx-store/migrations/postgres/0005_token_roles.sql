-- Tokens with roles and names, and per-node credentials: `kind` is admin, submit, read, join
-- (node.token: registers nodes) or node (one node's credential, `node_id`). A revoked token
-- stays listed with the time it was revoked and is refused.
ALTER TABLE tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN node_id TEXT;
ALTER TABLE tokens ADD COLUMN revoked_ms BIGINT;
UPDATE tokens SET kind = 'join', name = 'join' WHERE kind = 'node';
UPDATE tokens SET name = 'admin' WHERE kind = 'admin';
CREATE INDEX tokens_by_node ON tokens (node_id);
-- Who submitted a job (the token's name): a submit token may cancel its own jobs only.
ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
