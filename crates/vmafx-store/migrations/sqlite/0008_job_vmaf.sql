-- The pooled VMAF of a succeeded job, written once when it ends, so that listing jobs shows
-- their scores without reassembling every job's frames.
ALTER TABLE jobs ADD COLUMN vmaf REAL;
