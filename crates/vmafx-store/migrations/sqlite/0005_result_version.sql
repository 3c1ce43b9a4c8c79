-- Results are written in an encoding the store owns (src/codec.rs); each row says which
-- version. Rows written before this column existed use version 1's layout.
ALTER TABLE work_items ADD COLUMN result_version INTEGER NOT NULL DEFAULT 1;
