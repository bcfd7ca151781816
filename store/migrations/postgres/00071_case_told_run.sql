-- +goose Up
-- The case run that took what the sweep told: a breach told to a run that has
-- not written its case row yet is a case opening, not a breach without a case.
-- Every shard asks which of its told runs have a case row, hence the index.
ALTER TABLE case_told ADD COLUMN run_id TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_run_id ON cases (run_id);

-- +goose Down
DROP INDEX cases_run_id;
ALTER TABLE case_told DROP COLUMN run_id;
