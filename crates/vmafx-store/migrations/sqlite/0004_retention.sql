-- Pruning ended jobs by age (`--retain`) reads them by their end time.
CREATE INDEX jobs_finished ON jobs (finished_ms) WHERE finished_ms IS NOT NULL;
