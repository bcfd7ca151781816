-- +goose Up
-- The conversation on a case between its seller and the reviewers; each message
-- is on the case's timeline and mailed to the other side.
CREATE TABLE case_messages (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases (id),
    author          TEXT NOT NULL, -- seller:<id> or reviewer:<id>
    author_name     TEXT NOT NULL,
    body            TEXT NOT NULL,
    attachment_ids  TEXT NOT NULL, -- JSON array
    at              BIGINT NOT NULL
);
CREATE INDEX case_messages_case ON case_messages (case_id, at);

-- +goose Down
DROP TABLE case_messages;
