-- +goose Up
-- Times that metrics compare (orders, buyer messages, metric windows) are stored as
-- Unix milliseconds: the same set-based SQL then runs unchanged on Postgres and SQLite.

CREATE TABLE sellers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE reviewers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);

-- Only a SHA-256 of each key is kept; the key itself is shown once, at creation.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    key_hash     TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'seller')),
    seller_id    TEXT REFERENCES sellers (id),
    reviewer_id  TEXT REFERENCES reviewers (id),
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);

-- Every event id ever accepted, so a repeat is a duplicate that changes nothing.
CREATE TABLE processed_events (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    at           BIGINT NOT NULL,
    received_at  BIGINT NOT NULL
);

CREATE TABLE orders (
    order_id         TEXT PRIMARY KEY,
    seller_id        TEXT NOT NULL REFERENCES sellers (id),
    placed_at        BIGINT NOT NULL,
    ship_by          BIGINT NOT NULL,
    deliver_by       BIGINT NOT NULL,
    shipped_at       BIGINT,
    tracking_number  TEXT,
    carrier          TEXT,
    first_scan_at    BIGINT,
    delivered_at     BIGINT,
    cancelled_at     BIGINT,
    cancelled_by     TEXT,
    claim_outcome    TEXT,
    claim_at         BIGINT,
    chargeback_at    BIGINT,
    feedback_rating  INTEGER,
    feedback_at      BIGINT
);
CREATE INDEX orders_seller_placed ON orders (seller_id, placed_at);

CREATE TABLE buyer_messages (
    message_id      TEXT PRIMARY KEY,
    seller_id       TEXT NOT NULL REFERENCES sellers (id),
    received_at     BIGINT NOT NULL,
    needs_response  BOOLEAN NOT NULL,
    responded_at    BIGINT
);
CREATE INDEX buyer_messages_seller_received ON buyer_messages (seller_id, received_at);

CREATE TABLE evaluations (
    id                 TEXT PRIMARY KEY,
    status             TEXT NOT NULL,
    trigger            TEXT NOT NULL,
    seller_ids         TEXT,
    as_of              BIGINT,
    sellers_total      INTEGER NOT NULL DEFAULT 0,
    sellers_evaluated  INTEGER NOT NULL DEFAULT 0,
    breaches           INTEGER NOT NULL DEFAULT 0,
    error              TEXT,
    started_at         TIMESTAMPTZ NOT NULL,
    finished_at        TIMESTAMPTZ
);

-- One row per seller, metric and evaluation: the history a trend is drawn from.
CREATE TABLE metric_snapshots (
    evaluation_id  TEXT NOT NULL REFERENCES evaluations (id),
    seller_id      TEXT NOT NULL REFERENCES sellers (id),
    metric         TEXT NOT NULL,
    numerator      BIGINT NOT NULL,
    denominator    BIGINT NOT NULL,
    value          DOUBLE PRECISION,
    status         TEXT NOT NULL,
    target_op      TEXT NOT NULL,
    target_value   DOUBLE PRECISION NOT NULL,
    window_days    INTEGER NOT NULL,
    window_start   BIGINT NOT NULL,
    window_end     BIGINT NOT NULL,
    evidence_ids   TEXT,
    PRIMARY KEY (evaluation_id, seller_id, metric)
);
CREATE INDEX metric_snapshots_trend ON metric_snapshots (seller_id, metric, window_end);

-- The latest evaluation of each seller: what the health endpoint reads first.
CREATE TABLE seller_health (
    seller_id            TEXT PRIMARY KEY REFERENCES sellers (id),
    evaluation_id        TEXT NOT NULL REFERENCES evaluations (id),
    evaluated_at         BIGINT NOT NULL,
    defect_free_shipped  BIGINT NOT NULL,
    rating_bonus         INTEGER NOT NULL
);

-- +goose Down
DROP TABLE seller_health;
DROP TABLE metric_snapshots;
DROP TABLE evaluations;
DROP TABLE buyer_messages;
DROP TABLE orders;
DROP TABLE processed_events;
DROP TABLE api_keys;
DROP TABLE reviewers;
DROP TABLE sellers;
