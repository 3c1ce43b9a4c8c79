-- Dispatch order (priority, then submission, then segment) copied onto each work item, with
-- an index in that order, so that choosing the next item reads the first index entry instead
-- of sorting every pending item.
ALTER TABLE work_items ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE work_items ADD COLUMN job_seq INTEGER NOT NULL DEFAULT 0;
UPDATE work_items SET
    priority = (SELECT j.priority FROM jobs j WHERE j.id = work_items.job_id),
    job_seq = (SELECT j.seq FROM jobs j WHERE j.id = work_items.job_id);
CREATE INDEX work_items_dispatch ON work_items (state, priority DESC, job_seq, idx);
