-- +goose Up
-- Files a seller or a reviewer attaches to a case (PDF, PNG, JPEG, at most 10 MiB),
-- kept in the database with the case; appeals may list them.
CREATE TABLE attachments (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases (id),
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    data          BYTEA NOT NULL,
    uploaded_by   TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id, created_at);

CREATE TABLE appeal_attachments (
    appeal_id      TEXT NOT NULL REFERENCES appeals (id),
    attachment_id  TEXT NOT NULL REFERENCES attachments (id),
    PRIMARY KEY (appeal_id, attachment_id)
);

-- +goose Down
DROP TABLE appeal_attachments;
DROP TABLE attachments;
