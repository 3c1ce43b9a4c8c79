-- Jobs, their work items (frame segments) and the leases nodes hold on them.
-- Times are Unix milliseconds. `fence` is the fencing token of an item's current lease.
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,          -- submission order (FIFO within a priority)
    id TEXT NOT NULL UNIQUE,
    idempotency_key TEXT UNIQUE,
    spec TEXT NOT NULL,                             -- ScoreJobSpec as JSON
    state TEXT NOT NULL,
    priority INTEGER NOT NULL,
    total_frames INTEGER NOT NULL,
    submitted_ms INTEGER NOT NULL,
    started_ms INTEGER,
    finished_ms INTEGER,
    error TEXT
);
CREATE INDEX jobs_state ON jobs (state, seq);

CREATE TABLE work_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL REFERENCES jobs (id),
    idx INTEGER NOT NULL,
    start_frame INTEGER NOT NULL,
    frames INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before_ms INTEGER NOT NULL DEFAULT 0,      -- backoff after a lost lease
    lease_node TEXT,
    lease_expires_ms INTEGER,
    fence INTEGER NOT NULL DEFAULT 0,
    result BLOB,                                    -- the segment result (protobuf vmafx.v1.Scores)
    last_error TEXT,
    UNIQUE (job_id, idx)
);
CREATE INDEX work_items_state ON work_items (state, not_before_ms);
CREATE INDEX work_items_lease ON work_items (state, lease_expires_ms);

-- Fencing tokens come from one counter so that a token is never reused, even across items.
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (name, value) VALUES ('fence', 0);

CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    capabilities TEXT NOT NULL,                     -- JSON
    registered_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    draining INTEGER NOT NULL DEFAULT 0
);

-- API tokens by SHA-256 of the secret; `kind` is admin or node.
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
