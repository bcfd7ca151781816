-- +goose Up
-- The defects of an order removed by upheld disputes, as bits (health.Defect.Bit):
-- the metric SQL leaves them out.
ALTER TABLE orders ADD COLUMN excused_defects INTEGER NOT NULL DEFAULT 0;

CREATE TABLE disputes (
    id                TEXT PRIMARY KEY,
    order_id          TEXT NOT NULL REFERENCES orders (order_id),
    seller_id         TEXT NOT NULL REFERENCES sellers (id),
    defect            TEXT,             -- NULL: every defect the order had
    defects           INTEGER NOT NULL, -- the bits of the defects it covers
    status            TEXT NOT NULL,
    reason            TEXT NOT NULL,
    message           TEXT NOT NULL,
    case_id           TEXT REFERENCES cases (id),
    created_at        BIGINT NOT NULL,
    decided_at        BIGINT,
    decided_by        TEXT REFERENCES reviewers (id),
    decision_message  TEXT
);
CREATE INDEX disputes_status ON disputes (status, created_at);
CREATE INDEX disputes_seller ON disputes (seller_id, created_at);
CREATE INDEX disputes_case ON disputes (case_id);

-- One dispute per order and defect, ever: a second while one is open is refused,
-- and a denied one is not reopened.
CREATE TABLE dispute_defects (
    order_id    TEXT NOT NULL,
    defect      TEXT NOT NULL,
    dispute_id  TEXT NOT NULL REFERENCES disputes (id),
    PRIMARY KEY (order_id, defect)
);

-- +goose Down
DROP TABLE dispute_defects;
DROP TABLE disputes;
ALTER TABLE orders DROP COLUMN excused_defects;
