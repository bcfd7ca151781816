-- +goose Up
-- Buyers' reports of violations, forwarded by the marketplace, and how a
-- reviewer decided each: dismissed with a message, or a policy case opened
-- (case_id). A seller sees a report only through the case it led to.
CREATE TABLE reports (
    id           TEXT PRIMARY KEY,
    seller_id    TEXT NOT NULL REFERENCES sellers (id),
    listing_id   TEXT,
    category     TEXT NOT NULL,
    description  TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    decided_at   BIGINT,
    decided_by   TEXT,
    message      TEXT,
    case_id      TEXT
);
CREATE INDEX reports_status ON reports (status, created_at);

-- +goose Down
DROP TABLE reports;
