-- +goose Up
-- A reviewer's claim on a suspension waiting for confirmation, as appeals have.
ALTER TABLE cases ADD COLUMN claimed_by TEXT REFERENCES reviewers (id);
ALTER TABLE cases ADD COLUMN claimed_at BIGINT;

-- +goose Down
ALTER TABLE cases DROP COLUMN claimed_at;
ALTER TABLE cases DROP COLUMN claimed_by;
