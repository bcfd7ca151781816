-- +goose Up
-- What an evaluation has to tell the cases, queued by its shards with their facts
-- and told once every shard's facts are stored: a breach or recovery waits for
-- no other seller's figures, the facts wait for no case. told_at is set once
-- Temporal took it; an evaluation's progress counts both.
CREATE TABLE case_tells (
    evaluation_id  TEXT NOT NULL,
    seller_id      TEXT NOT NULL,
    metric         TEXT NOT NULL,
    workflow_id    TEXT NOT NULL,
    observation    TEXT NOT NULL,
    told_at        BIGINT,
    PRIMARY KEY (evaluation_id, seller_id, metric)
);
CREATE INDEX case_tells_untold ON case_tells (evaluation_id) WHERE told_at IS NULL;

-- +goose Down
DROP TABLE case_tells;
