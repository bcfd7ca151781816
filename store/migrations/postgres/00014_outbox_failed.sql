-- +goose Up
-- A mail the relay refused for good, or that could not be delivered for the
-- policy's mail.give_up_after, ends failed (failed_at set) instead of being
-- dropped: reviewers see it and may send it again. The id names a mail in the
-- API (keys hold slashes); rows written before get one here.
ALTER TABLE outbox ADD COLUMN id TEXT;
ALTER TABLE outbox ADD COLUMN failed_at BIGINT;
UPDATE outbox SET id = 'mail_' || substr(md5(key), 1, 24) WHERE id IS NULL;
CREATE UNIQUE INDEX outbox_id ON outbox (id);
-- Listing failed mail and the metrics' counts by status read these.
CREATE INDEX outbox_failed ON outbox (failed_at, id) WHERE failed_at IS NOT NULL;
CREATE INDEX outbox_pending ON outbox (created_at) WHERE sent_at IS NULL;

-- +goose Down
DROP INDEX outbox_pending;
DROP INDEX outbox_failed;
DROP INDEX outbox_id;
ALTER TABLE outbox DROP COLUMN failed_at;
ALTER TABLE outbox DROP COLUMN id;
