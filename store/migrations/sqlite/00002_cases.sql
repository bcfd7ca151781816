-- +goose Up
-- The read model of the case lifecycle. The CaseWorkflow owns every change; an
-- activity writes the case row, its timeline entry, the appeal, the rating ledger
-- and the mail to send in one transaction.

CREATE TABLE cases (
    id            TEXT PRIMARY KEY,
    workflow_id   TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    seller_id     TEXT NOT NULL REFERENCES sellers (id),
    kind          TEXT NOT NULL,
    metric        TEXT,
    listing_id    TEXT,
    violation     TEXT,
    action        TEXT NOT NULL,
    state         TEXT NOT NULL,
    enforcement   TEXT NOT NULL,
    opened_at     DATETIME NOT NULL,
    deadline      DATETIME,
    closed_at     DATETIME,
    appeals_used  INTEGER NOT NULL DEFAULT 0,
    max_appeals   INTEGER NOT NULL,
    escalated     BOOLEAN NOT NULL DEFAULT 0,
    evidence      TEXT NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE INDEX cases_seller_state ON cases (seller_id, state);
CREATE INDEX cases_state ON cases (state, opened_at);

-- Append-only: the timeline and the audit trail are one thing.
CREATE TABLE case_events (
    case_id     TEXT NOT NULL REFERENCES cases (id),
    seq         INTEGER NOT NULL,
    at          DATETIME NOT NULL,
    type        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    detail      TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE appeals (
    id                   TEXT PRIMARY KEY,
    case_id              TEXT NOT NULL REFERENCES cases (id),
    seller_id            TEXT NOT NULL REFERENCES sellers (id),
    status               TEXT NOT NULL,
    root_cause           TEXT NOT NULL,
    corrective_actions   TEXT NOT NULL,
    preventive_measures  TEXT NOT NULL,
    submitted_at         DATETIME NOT NULL,
    decided_at           DATETIME,
    decided_by           TEXT REFERENCES reviewers (id),
    reason_code          TEXT,
    message              TEXT,
    review_due           DATETIME
);
CREATE INDEX appeals_status_submitted ON appeals (status, submitted_at);
CREATE INDEX appeals_case ON appeals (case_id, submitted_at);

-- Mail is recorded with the change that causes it, under a unique key, and sent
-- afterwards; a retried send skips what the SMTP server already accepted.
CREATE TABLE outbox (
    key          TEXT PRIMARY KEY,
    case_id      TEXT,
    template     TEXT NOT NULL,
    recipients   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    text_body    TEXT NOT NULL,
    html_body    TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    sent_at      DATETIME,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE INDEX outbox_case ON outbox (case_id);

-- The first answer to a request with an Idempotency-Key, returned again on retry.
CREATE TABLE idempotency_keys (
    principal     TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    DATETIME NOT NULL,
    PRIMARY KEY (principal, key)
);

-- Every change of a seller's rating, with its cause.
CREATE TABLE rating_ledger (
    seller_id  TEXT NOT NULL REFERENCES sellers (id),
    key        TEXT NOT NULL,
    at         DATETIME NOT NULL,
    delta      INTEGER NOT NULL,
    cause      TEXT NOT NULL,
    case_id    TEXT,
    PRIMARY KEY (seller_id, key)
);

-- +goose Down
DROP TABLE rating_ledger;
DROP TABLE idempotency_keys;
DROP TABLE outbox;
DROP TABLE appeals;
DROP TABLE case_events;
DROP TABLE cases;
