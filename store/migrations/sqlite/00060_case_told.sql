-- +goose Up
-- What the sweep last told each (seller, metric)'s case: a breach found again at
-- the same figures while its case is open is not told again (each tell is a round
-- trip to Temporal and a timeline entry saying nothing new).
CREATE TABLE case_told (
    seller_id      TEXT NOT NULL,
    metric         TEXT NOT NULL,
    evaluation_id  TEXT NOT NULL,
    status         TEXT NOT NULL,
    numerator      BIGINT NOT NULL,
    denominator    BIGINT NOT NULL,
    told_at        BIGINT NOT NULL,
    PRIMARY KEY (seller_id, metric)
);

-- +goose Down
DROP TABLE case_told;
