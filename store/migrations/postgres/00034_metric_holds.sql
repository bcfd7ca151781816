-- +goose Up
-- What a reviewer's withdrawal of a metric case leaves behind (health.Hold): the
-- metric's figures when the reviewer withdrew it. While the metric is no worse,
-- a breach of it opens no new case; seeing it within target, or a new case of
-- it, ends the hold.
CREATE TABLE metric_holds (
    seller_id     TEXT NOT NULL,
    metric        TEXT NOT NULL,
    case_id       TEXT NOT NULL,
    withdrawn_at  BIGINT NOT NULL,
    numerator     BIGINT NOT NULL,
    denominator   BIGINT NOT NULL,
    value         DOUBLE PRECISION,
    PRIMARY KEY (seller_id, metric)
);

-- +goose Down
DROP TABLE metric_holds;
