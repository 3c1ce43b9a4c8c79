-- What a node needs to run an item (canonical JSON of vmafx_core::Requirements; '' = any
-- node), so that a pull selects only items the pulling node can run.
ALTER TABLE work_items ADD COLUMN requirement TEXT NOT NULL DEFAULT '';
CREATE INDEX work_items_requirement ON work_items (state, requirement);
