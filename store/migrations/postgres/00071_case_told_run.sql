-- +goose Up
-- The case run that took what the sweep told: a breach told to a run that has
-- not written its case row yet is a case opening, not a breach without a case.
ALTER TABLE case_told ADD COLUMN run_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE case_told DROP COLUMN run_id;
