-- +goose Up
-- Notifications to the marketplace. Each change it is told of (a case's state, a
-- seller's status, a tier, a program) is one row of webhook_events, written in
-- the transaction of the change; each endpoint subscribed to its type gets one
-- row of webhook_deliveries in the same transaction. seq orders a seller's events
-- as their transactions committed (a seller's changes are written one at a time).
-- The secret is kept as it is: it signs every delivery with HMAC, so it must be
-- readable (see README, Webhooks).
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE webhook_events (
    seq        BIGSERIAL PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    seller_id  TEXT NOT NULL,
    at         BIGINT NOT NULL,
    body       TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    webhook_id        TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_seq         BIGINT NOT NULL REFERENCES webhook_events (seq),
    event_id          TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    seller_id         TEXT NOT NULL,
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_status_code  INTEGER,
    last_error        TEXT,
    next_attempt_at   BIGINT NOT NULL,
    first_attempt_at  BIGINT,
    delivered_at      BIGINT,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (webhook_id, event_seq)
);
CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (webhook_id, event_id);
-- The dispatcher's question: each seller's oldest pending delivery.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, seller_id, event_seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_listed ON webhook_deliveries (webhook_id, status, event_seq);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhooks;
