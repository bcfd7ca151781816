-- +goose Up
-- Sign-in by emailed link, browser sessions, and reviewers claiming appeals.

-- A one-time sign-in link: only its hash is kept; valid 15 minutes, used once.
CREATE TABLE login_tokens (
    token_hash   TEXT PRIMARY KEY,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL,
    seller_id    TEXT REFERENCES sellers (id),
    reviewer_id  TEXT REFERENCES reviewers (id),
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    used_at      DATETIME
);
CREATE INDEX login_tokens_email ON login_tokens (email, created_at);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    role         TEXT NOT NULL,
    seller_id    TEXT REFERENCES sellers (id),
    reviewer_id  TEXT REFERENCES reviewers (id),
    csrf         TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL
);

ALTER TABLE appeals ADD COLUMN claimed_by TEXT REFERENCES reviewers (id);
ALTER TABLE appeals ADD COLUMN claimed_at DATETIME;

-- +goose Down
ALTER TABLE appeals DROP COLUMN claimed_at;
ALTER TABLE appeals DROP COLUMN claimed_by;
DROP TABLE sessions;
DROP TABLE login_tokens;
