-- The queue on PostgreSQL: the same records as the SQLite schema (migrations/sqlite), every
-- integer 64-bit. Times are Unix milliseconds. Several controllers share these tables.
CREATE TABLE jobs (
    seq BIGSERIAL PRIMARY KEY,                      -- submission order (FIFO within a priority)
    id TEXT NOT NULL UNIQUE,
    idempotency_key TEXT UNIQUE,
    spec TEXT NOT NULL,                             -- ScoreJobSpec as JSON
    state TEXT NOT NULL,
    priority BIGINT NOT NULL,
    total_frames BIGINT NOT NULL,
    submitted_ms BIGINT NOT NULL,
    started_ms BIGINT,
    finished_ms BIGINT,
    error TEXT,
    items_total BIGINT NOT NULL,
    -- Items not done yet: the completion that takes it to 0 ends the job. Updating it locks the
    -- job's row, so concurrent completions of its last items cannot both miss the end.
    items_left BIGINT NOT NULL
);
CREATE INDEX jobs_state ON jobs (state, seq);
CREATE INDEX jobs_finished ON jobs (finished_ms) WHERE finished_ms IS NOT NULL;

CREATE TABLE work_items (
    id BIGSERIAL PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs (id),
    idx BIGINT NOT NULL,
    start_frame BIGINT NOT NULL,
    frames BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    not_before_ms BIGINT NOT NULL DEFAULT 0,        -- backoff after a lost or failed attempt
    lease_node TEXT,
    lease_expires_ms BIGINT,
    fence BIGINT NOT NULL DEFAULT 0,                -- token of the current lease
    result BYTEA,                                   -- src/codec.rs, in version result_version
    result_version BIGINT NOT NULL DEFAULT 1,
    last_error TEXT,
    priority BIGINT NOT NULL,                       -- the job's, copied for the dispatch index
    job_seq BIGINT NOT NULL,
    requirement TEXT NOT NULL DEFAULT '',           -- vmafx_core::Requirements::key
    UNIQUE (job_id, idx)
);
-- Dispatch reads the first pending entry in order; only pending items are indexed.
CREATE INDEX work_items_dispatch ON work_items (priority DESC, job_seq, idx) WHERE state = 'pending';
CREATE INDEX work_items_requirement ON work_items (requirement) WHERE state = 'pending';
CREATE INDEX work_items_lease ON work_items (lease_expires_ms) WHERE state = 'leased';

-- Fencing tokens: a sequence never hands out a value twice, even across crashes.
CREATE SEQUENCE fence_seq;

CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    capabilities TEXT NOT NULL,                     -- JSON
    registered_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    draining BOOLEAN NOT NULL DEFAULT FALSE
);

-- API tokens by SHA-256 of the secret; `kind` is admin or node. Every controller on this
-- database accepts every token here.
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
