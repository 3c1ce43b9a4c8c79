-- Every requirement key ever submitted, so that a controller starting (or catching up) reads
-- a handful of keys instead of scanning every pending item for them.
CREATE TABLE requirement_keys (key TEXT PRIMARY KEY);
INSERT OR IGNORE INTO requirement_keys (key) SELECT DISTINCT requirement FROM work_items;
