-- A pull must walk the dispatch index in order. With a second index on the requirement key,
-- the planner (on fresh, churning statistics) picked it and sorted every pending item per
-- pull: 3 ms instead of 0.1 ms with 5,000 items pending. The requirement keys of pending work
-- are read only when a controller starts (then announced with each submission).
DROP INDEX work_items_requirement;
