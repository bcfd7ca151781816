-- +goose Up
-- The batch of mail one shard of a sweep or a tier evaluation queued: the
-- workflow hands the worker this name, not the keys, so its history stays the
-- same size however much mail a shard queues (a marketplace's first sweep
-- queues hundreds of invitations a shard, and the keys of 1,000 shards took an
-- evaluation's history past Temporal's 50 MB limit).
ALTER TABLE outbox ADD COLUMN batch TEXT;
CREATE INDEX outbox_batch ON outbox (batch) WHERE batch IS NOT NULL;

-- +goose Down
DROP INDEX outbox_batch;
ALTER TABLE outbox DROP COLUMN batch;
