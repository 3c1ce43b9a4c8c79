-- Each job counts its items and those not done, so that reading a job is one row (no COUNT
-- over its items) and the completion that takes `items_left` to 0 ends it.
ALTER TABLE jobs ADD COLUMN items_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN items_left INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET
    items_total = (SELECT COUNT(*) FROM work_items w WHERE w.job_id = jobs.id),
    items_left = (SELECT COUNT(*) FROM work_items w WHERE w.job_id = jobs.id AND w.state != 'done');
