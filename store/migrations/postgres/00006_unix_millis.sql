-- +goose Up
-- Every stored instant is Unix milliseconds (BIGINT), as the metrics' times
-- already were: one representation on both databases, compared in SQL as numbers
-- and read back alike (the store's models keep time.Time through the "unixms"
-- serializer). Converted exactly to the millisecond, rounding down as Go's
-- UnixMilli does.
ALTER TABLE sellers
    ALTER COLUMN created_at TYPE BIGINT USING floor(extract(epoch FROM created_at) * 1000)::bigint;
ALTER TABLE reviewers
    ALTER COLUMN created_at TYPE BIGINT USING floor(extract(epoch FROM created_at) * 1000)::bigint;
ALTER TABLE api_keys
    ALTER COLUMN created_at TYPE BIGINT USING floor(extract(epoch FROM created_at) * 1000)::bigint,
    ALTER COLUMN revoked_at TYPE BIGINT USING floor(extract(epoch FROM revoked_at) * 1000)::bigint;
ALTER TABLE evaluations
    ALTER COLUMN started_at TYPE BIGINT USING floor(extract(epoch FROM started_at) * 1000)::bigint,
    ALTER COLUMN finished_at TYPE BIGINT USING floor(extract(epoch FROM finished_at) * 1000)::bigint;
ALTER TABLE cases
    ALTER COLUMN opened_at TYPE BIGINT USING floor(extract(epoch FROM opened_at) * 1000)::bigint,
    ALTER COLUMN deadline TYPE BIGINT USING floor(extract(epoch FROM deadline) * 1000)::bigint,
    ALTER COLUMN closed_at TYPE BIGINT USING floor(extract(epoch FROM closed_at) * 1000)::bigint,
    ALTER COLUMN updated_at TYPE BIGINT USING floor(extract(epoch FROM updated_at) * 1000)::bigint;
ALTER TABLE case_events
    ALTER COLUMN at TYPE BIGINT USING floor(extract(epoch FROM at) * 1000)::bigint;
ALTER TABLE appeals
    ALTER COLUMN submitted_at TYPE BIGINT USING floor(extract(epoch FROM submitted_at) * 1000)::bigint,
    ALTER COLUMN decided_at TYPE BIGINT USING floor(extract(epoch FROM decided_at) * 1000)::bigint,
    ALTER COLUMN review_due TYPE BIGINT USING floor(extract(epoch FROM review_due) * 1000)::bigint,
    ALTER COLUMN claimed_at TYPE BIGINT USING floor(extract(epoch FROM claimed_at) * 1000)::bigint;
ALTER TABLE outbox
    ALTER COLUMN created_at TYPE BIGINT USING floor(extract(epoch FROM created_at) * 1000)::bigint,
    ALTER COLUMN sent_at TYPE BIGINT USING floor(extract(epoch FROM sent_at) * 1000)::bigint;
ALTER TABLE idempotency_keys
    ALTER COLUMN created_at TYPE BIGINT USING floor(extract(epoch FROM created_at) * 1000)::bigint;
ALTER TABLE rating_ledger
    ALTER COLUMN at TYPE BIGINT USING floor(extract(epoch FROM at) * 1000)::bigint;
ALTER TABLE login_tokens
    ALTER COLUMN created_at TYPE BIGINT USING floor(extract(epoch FROM created_at) * 1000)::bigint,
    ALTER COLUMN expires_at TYPE BIGINT USING floor(extract(epoch FROM expires_at) * 1000)::bigint,
    ALTER COLUMN used_at TYPE BIGINT USING floor(extract(epoch FROM used_at) * 1000)::bigint;
ALTER TABLE sessions
    ALTER COLUMN created_at TYPE BIGINT USING floor(extract(epoch FROM created_at) * 1000)::bigint,
    ALTER COLUMN expires_at TYPE BIGINT USING floor(extract(epoch FROM expires_at) * 1000)::bigint;

-- +goose Down
ALTER TABLE sessions
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING to_timestamp(created_at / 1000.0),
    ALTER COLUMN expires_at TYPE TIMESTAMPTZ USING to_timestamp(expires_at / 1000.0);
ALTER TABLE login_tokens
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING to_timestamp(created_at / 1000.0),
    ALTER COLUMN expires_at TYPE TIMESTAMPTZ USING to_timestamp(expires_at / 1000.0),
    ALTER COLUMN used_at TYPE TIMESTAMPTZ USING to_timestamp(used_at / 1000.0);
ALTER TABLE rating_ledger
    ALTER COLUMN at TYPE TIMESTAMPTZ USING to_timestamp(at / 1000.0);
ALTER TABLE idempotency_keys
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING to_timestamp(created_at / 1000.0);
ALTER TABLE outbox
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING to_timestamp(created_at / 1000.0),
    ALTER COLUMN sent_at TYPE TIMESTAMPTZ USING to_timestamp(sent_at / 1000.0);
ALTER TABLE appeals
    ALTER COLUMN submitted_at TYPE TIMESTAMPTZ USING to_timestamp(submitted_at / 1000.0),
    ALTER COLUMN decided_at TYPE TIMESTAMPTZ USING to_timestamp(decided_at / 1000.0),
    ALTER COLUMN review_due TYPE TIMESTAMPTZ USING to_timestamp(review_due / 1000.0),
    ALTER COLUMN claimed_at TYPE TIMESTAMPTZ USING to_timestamp(claimed_at / 1000.0);
ALTER TABLE case_events
    ALTER COLUMN at TYPE TIMESTAMPTZ USING to_timestamp(at / 1000.0);
ALTER TABLE cases
    ALTER COLUMN opened_at TYPE TIMESTAMPTZ USING to_timestamp(opened_at / 1000.0),
    ALTER COLUMN deadline TYPE TIMESTAMPTZ USING to_timestamp(deadline / 1000.0),
    ALTER COLUMN closed_at TYPE TIMESTAMPTZ USING to_timestamp(closed_at / 1000.0),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING to_timestamp(updated_at / 1000.0);
ALTER TABLE evaluations
    ALTER COLUMN started_at TYPE TIMESTAMPTZ USING to_timestamp(started_at / 1000.0),
    ALTER COLUMN finished_at TYPE TIMESTAMPTZ USING to_timestamp(finished_at / 1000.0);
ALTER TABLE api_keys
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING to_timestamp(created_at / 1000.0),
    ALTER COLUMN revoked_at TYPE TIMESTAMPTZ USING to_timestamp(revoked_at / 1000.0);
ALTER TABLE reviewers
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING to_timestamp(created_at / 1000.0);
ALTER TABLE sellers
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING to_timestamp(created_at / 1000.0);
