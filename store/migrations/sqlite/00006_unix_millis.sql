-- +goose Up
-- Every stored instant is Unix milliseconds (BIGINT), as the metrics' times
-- already were: one representation on both databases, compared in SQL as numbers
-- and read back alike (the store's models keep time.Time through the "unixms"
-- serializer).
--
-- The DATETIME columns hold text as the driver wrote it: Go's time.Time.String()
-- ("2006-01-02 15:04:05.999999999 -0700 MST", perhaps with a monotonic " m=+…"
-- after it), or a layout SQLite reads ("…T…", "+07:00", "Z"). Each value is
-- converted exactly to the millisecond (rounding down, as Go's UnixMilli does)
-- into a scratch table first; a value it cannot read fails the migration rather
-- than turning into NULL.
--
-- SQLite changes a column's type only by rebuilding its table. Foreign keys stay
-- on (the pragma cannot change inside the migration's transaction) but deferred:
-- a parent's rows are dropped and put back before the commit checks them.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE instants_v6 (
    tbl  TEXT NOT NULL,
    col  TEXT NOT NULL,
    rid  INTEGER NOT NULL,
    ms   INTEGER CHECK (ms IS NOT NULL),
    PRIMARY KEY (tbl, col, rid)
);

-- sec: the whole seconds of "YYYY-MM-DD HH:MM:SS" (or with "T"); rest: what
-- follows, an optional ".fraction" then an optional zone; digits: the
-- fraction's digits; zone: the text after them. A value that is not text has
-- no sec, hence no ms.
WITH raw (tbl, col, rid, v) AS (
    SELECT 'sellers', 'created_at', rowid, created_at FROM sellers WHERE created_at IS NOT NULL
    UNION ALL SELECT 'reviewers', 'created_at', rowid, created_at FROM reviewers WHERE created_at IS NOT NULL
    UNION ALL SELECT 'api_keys', 'created_at', rowid, created_at FROM api_keys WHERE created_at IS NOT NULL
    UNION ALL SELECT 'api_keys', 'revoked_at', rowid, revoked_at FROM api_keys WHERE revoked_at IS NOT NULL
    UNION ALL SELECT 'evaluations', 'started_at', rowid, started_at FROM evaluations WHERE started_at IS NOT NULL
    UNION ALL SELECT 'evaluations', 'finished_at', rowid, finished_at FROM evaluations WHERE finished_at IS NOT NULL
    UNION ALL SELECT 'cases', 'opened_at', rowid, opened_at FROM cases WHERE opened_at IS NOT NULL
    UNION ALL SELECT 'cases', 'deadline', rowid, deadline FROM cases WHERE deadline IS NOT NULL
    UNION ALL SELECT 'cases', 'closed_at', rowid, closed_at FROM cases WHERE closed_at IS NOT NULL
    UNION ALL SELECT 'cases', 'updated_at', rowid, updated_at FROM cases WHERE updated_at IS NOT NULL
    UNION ALL SELECT 'case_events', 'at', rowid, at FROM case_events WHERE at IS NOT NULL
    UNION ALL SELECT 'appeals', 'submitted_at', rowid, submitted_at FROM appeals WHERE submitted_at IS NOT NULL
    UNION ALL SELECT 'appeals', 'decided_at', rowid, decided_at FROM appeals WHERE decided_at IS NOT NULL
    UNION ALL SELECT 'appeals', 'review_due', rowid, review_due FROM appeals WHERE review_due IS NOT NULL
    UNION ALL SELECT 'appeals', 'claimed_at', rowid, claimed_at FROM appeals WHERE claimed_at IS NOT NULL
    UNION ALL SELECT 'outbox', 'created_at', rowid, created_at FROM outbox WHERE created_at IS NOT NULL
    UNION ALL SELECT 'outbox', 'sent_at', rowid, sent_at FROM outbox WHERE sent_at IS NOT NULL
    UNION ALL SELECT 'idempotency_keys', 'created_at', rowid, created_at FROM idempotency_keys WHERE created_at IS NOT NULL
    UNION ALL SELECT 'rating_ledger', 'at', rowid, at FROM rating_ledger WHERE at IS NOT NULL
    UNION ALL SELECT 'login_tokens', 'created_at', rowid, created_at FROM login_tokens WHERE created_at IS NOT NULL
    UNION ALL SELECT 'login_tokens', 'expires_at', rowid, expires_at FROM login_tokens WHERE expires_at IS NOT NULL
    UNION ALL SELECT 'login_tokens', 'used_at', rowid, used_at FROM login_tokens WHERE used_at IS NOT NULL
    UNION ALL SELECT 'sessions', 'created_at', rowid, created_at FROM sessions WHERE created_at IS NOT NULL
    UNION ALL SELECT 'sessions', 'expires_at', rowid, expires_at FROM sessions WHERE expires_at IS NOT NULL
),
split AS (
    SELECT tbl, col, rid, CASE WHEN typeof(v) = 'text' THEN unixepoch(substr(v, 1, 19)) END AS sec, substr(v, 20) AS rest FROM raw
),
fraction AS (
    SELECT tbl, col, rid, sec,
           CASE WHEN rest LIKE '.%' THEN substr(rest, 2, length(rest) - 1 - length(ltrim(substr(rest, 2), '0123456789'))) ELSE '' END AS digits,
           ltrim(CASE WHEN rest LIKE '.%' THEN ltrim(substr(rest, 2), '0123456789') ELSE rest END) AS zone
    FROM split
)
INSERT INTO instants_v6 (tbl, col, rid, ms)
SELECT tbl, col, rid,
       sec * 1000 + CAST(substr(digits || '000', 1, 3) AS INTEGER)
       - CASE
           WHEN zone = '' OR zone LIKE 'Z%' OR zone LIKE 'UTC%' THEN 0
           WHEN substr(zone, 1, 1) IN ('+', '-') AND substr(zone, 2, 2) GLOB '[0-9][0-9]' THEN
             (CASE substr(zone, 1, 1) WHEN '-' THEN -1 ELSE 1 END) * 60000 *
             (CAST(substr(zone, 2, 2) AS INTEGER) * 60 + CAST(CASE WHEN substr(zone, 4, 1) = ':' THEN substr(zone, 5, 2) ELSE substr(zone, 4, 2) END AS INTEGER))
         END
FROM fraction;


-- sellers
CREATE TEMP TABLE sellers_v6 AS
SELECT id, name, email,
       (SELECT ms FROM instants_v6 WHERE tbl = 'sellers' AND col = 'created_at' AND rid = t.rowid) AS created_at
FROM sellers t;
DROP TABLE sellers;
CREATE TABLE sellers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO sellers (id, name, email, created_at)
SELECT id, name, email, created_at FROM temp.sellers_v6;
DROP TABLE temp.sellers_v6;

-- reviewers
CREATE TEMP TABLE reviewers_v6 AS
SELECT id, name, email,
       (SELECT ms FROM instants_v6 WHERE tbl = 'reviewers' AND col = 'created_at' AND rid = t.rowid) AS created_at
FROM reviewers t;
DROP TABLE reviewers;
CREATE TABLE reviewers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
INSERT INTO reviewers (id, name, email, created_at)
SELECT id, name, email, created_at FROM temp.reviewers_v6;
DROP TABLE temp.reviewers_v6;

-- api_keys
CREATE TEMP TABLE api_keys_v6 AS
SELECT id, key_hash, role, seller_id, reviewer_id,
       (SELECT ms FROM instants_v6 WHERE tbl = 'api_keys' AND col = 'created_at' AND rid = t.rowid) AS created_at,
       (SELECT ms FROM instants_v6 WHERE tbl = 'api_keys' AND col = 'revoked_at' AND rid = t.rowid) AS revoked_at
FROM api_keys t;
DROP TABLE api_keys;
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    key_hash    TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'seller')),
    seller_id   TEXT REFERENCES sellers (id),
    reviewer_id TEXT REFERENCES reviewers (id),
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
INSERT INTO api_keys (id, key_hash, role, seller_id, reviewer_id, created_at, revoked_at)
SELECT id, key_hash, role, seller_id, reviewer_id, created_at, revoked_at FROM temp.api_keys_v6;
DROP TABLE temp.api_keys_v6;

-- evaluations
CREATE TEMP TABLE evaluations_v6 AS
SELECT id, status, trigger, seller_ids, as_of, sellers_total, sellers_evaluated, breaches, error,
       (SELECT ms FROM instants_v6 WHERE tbl = 'evaluations' AND col = 'started_at' AND rid = t.rowid) AS started_at,
       (SELECT ms FROM instants_v6 WHERE tbl = 'evaluations' AND col = 'finished_at' AND rid = t.rowid) AS finished_at
FROM evaluations t;
DROP TABLE evaluations;
CREATE TABLE evaluations (
    id                TEXT PRIMARY KEY,
    status            TEXT NOT NULL,
    trigger           TEXT NOT NULL,
    seller_ids        TEXT,
    as_of             BIGINT,
    sellers_total     INTEGER NOT NULL DEFAULT 0,
    sellers_evaluated INTEGER NOT NULL DEFAULT 0,
    breaches          INTEGER NOT NULL DEFAULT 0,
    error             TEXT,
    started_at        BIGINT NOT NULL,
    finished_at       BIGINT
);
INSERT INTO evaluations (id, status, trigger, seller_ids, as_of, sellers_total, sellers_evaluated, breaches, error, started_at, finished_at)
SELECT id, status, trigger, seller_ids, as_of, sellers_total, sellers_evaluated, breaches, error, started_at, finished_at FROM temp.evaluations_v6;
DROP TABLE temp.evaluations_v6;

-- cases
CREATE TEMP TABLE cases_v6 AS
SELECT id, workflow_id, run_id, seller_id, kind, metric, listing_id, violation, action, state, enforcement, appeals_used, max_appeals, escalated, evidence,
       (SELECT ms FROM instants_v6 WHERE tbl = 'cases' AND col = 'opened_at' AND rid = t.rowid) AS opened_at,
       (SELECT ms FROM instants_v6 WHERE tbl = 'cases' AND col = 'deadline' AND rid = t.rowid) AS deadline,
       (SELECT ms FROM instants_v6 WHERE tbl = 'cases' AND col = 'closed_at' AND rid = t.rowid) AS closed_at,
       (SELECT ms FROM instants_v6 WHERE tbl = 'cases' AND col = 'updated_at' AND rid = t.rowid) AS updated_at
FROM cases t;
DROP TABLE cases;
CREATE TABLE cases (
    id           TEXT PRIMARY KEY,
    workflow_id  TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    seller_id    TEXT NOT NULL REFERENCES sellers (id),
    kind         TEXT NOT NULL,
    metric       TEXT,
    listing_id   TEXT,
    violation    TEXT,
    action       TEXT NOT NULL,
    state        TEXT NOT NULL,
    enforcement  TEXT NOT NULL,
    opened_at    BIGINT NOT NULL,
    deadline     BIGINT,
    closed_at    BIGINT,
    appeals_used INTEGER NOT NULL DEFAULT 0,
    max_appeals  INTEGER NOT NULL,
    escalated    BOOLEAN NOT NULL DEFAULT 0,
    evidence     TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);
INSERT INTO cases (id, workflow_id, run_id, seller_id, kind, metric, listing_id, violation, action, state, enforcement, opened_at, deadline, closed_at, appeals_used, max_appeals, escalated, evidence, updated_at)
SELECT id, workflow_id, run_id, seller_id, kind, metric, listing_id, violation, action, state, enforcement, opened_at, deadline, closed_at, appeals_used, max_appeals, escalated, evidence, updated_at FROM temp.cases_v6;
DROP TABLE temp.cases_v6;
CREATE INDEX cases_seller_state ON cases (seller_id, state);
CREATE INDEX cases_state ON cases (state, opened_at);

-- case_events
CREATE TEMP TABLE case_events_v6 AS
SELECT case_id, seq, type, actor, from_state, to_state, detail,
       (SELECT ms FROM instants_v6 WHERE tbl = 'case_events' AND col = 'at' AND rid = t.rowid) AS at
FROM case_events t;
DROP TABLE case_events;
CREATE TABLE case_events (
    case_id    TEXT NOT NULL REFERENCES cases (id),
    seq        INTEGER NOT NULL,
    at         BIGINT NOT NULL,
    type       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    detail     TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
INSERT INTO case_events (case_id, seq, at, type, actor, from_state, to_state, detail)
SELECT case_id, seq, at, type, actor, from_state, to_state, detail FROM temp.case_events_v6;
DROP TABLE temp.case_events_v6;

-- appeals
CREATE TEMP TABLE appeals_v6 AS
SELECT id, case_id, seller_id, status, root_cause, corrective_actions, preventive_measures, decided_by, reason_code, message, claimed_by,
       (SELECT ms FROM instants_v6 WHERE tbl = 'appeals' AND col = 'submitted_at' AND rid = t.rowid) AS submitted_at,
       (SELECT ms FROM instants_v6 WHERE tbl = 'appeals' AND col = 'decided_at' AND rid = t.rowid) AS decided_at,
       (SELECT ms FROM instants_v6 WHERE tbl = 'appeals' AND col = 'review_due' AND rid = t.rowid) AS review_due,
       (SELECT ms FROM instants_v6 WHERE tbl = 'appeals' AND col = 'claimed_at' AND rid = t.rowid) AS claimed_at
FROM appeals t;
DROP TABLE appeals;
CREATE TABLE appeals (
    id                  TEXT PRIMARY KEY,
    case_id             TEXT NOT NULL REFERENCES cases (id),
    seller_id           TEXT NOT NULL REFERENCES sellers (id),
    status              TEXT NOT NULL,
    root_cause          TEXT NOT NULL,
    corrective_actions  TEXT NOT NULL,
    preventive_measures TEXT NOT NULL,
    submitted_at        BIGINT NOT NULL,
    decided_at          BIGINT,
    decided_by          TEXT REFERENCES reviewers (id),
    reason_code         TEXT,
    message             TEXT,
    review_due          BIGINT,
    claimed_by          TEXT REFERENCES reviewers (id),
    claimed_at          BIGINT
);
INSERT INTO appeals (id, case_id, seller_id, status, root_cause, corrective_actions, preventive_measures, submitted_at, decided_at, decided_by, reason_code, message, review_due, claimed_by, claimed_at)
SELECT id, case_id, seller_id, status, root_cause, corrective_actions, preventive_measures, submitted_at, decided_at, decided_by, reason_code, message, review_due, claimed_by, claimed_at FROM temp.appeals_v6;
DROP TABLE temp.appeals_v6;
CREATE INDEX appeals_status_submitted ON appeals (status, submitted_at);
CREATE INDEX appeals_case ON appeals (case_id, submitted_at);

-- outbox
CREATE TEMP TABLE outbox_v6 AS
SELECT key, case_id, template, recipients, subject, text_body, html_body, attempts, last_error,
       (SELECT ms FROM instants_v6 WHERE tbl = 'outbox' AND col = 'created_at' AND rid = t.rowid) AS created_at,
       (SELECT ms FROM instants_v6 WHERE tbl = 'outbox' AND col = 'sent_at' AND rid = t.rowid) AS sent_at
FROM outbox t;
DROP TABLE outbox;
CREATE TABLE outbox (
    key        TEXT PRIMARY KEY,
    case_id    TEXT,
    template   TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject    TEXT NOT NULL,
    text_body  TEXT NOT NULL,
    html_body  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at    BIGINT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
INSERT INTO outbox (key, case_id, template, recipients, subject, text_body, html_body, created_at, sent_at, attempts, last_error)
SELECT key, case_id, template, recipients, subject, text_body, html_body, created_at, sent_at, attempts, last_error FROM temp.outbox_v6;
DROP TABLE temp.outbox_v6;
CREATE INDEX outbox_case ON outbox (case_id);

-- idempotency_keys
CREATE TEMP TABLE idempotency_keys_v6 AS
SELECT principal, key, request_hash, status, body,
       (SELECT ms FROM instants_v6 WHERE tbl = 'idempotency_keys' AND col = 'created_at' AND rid = t.rowid) AS created_at
FROM idempotency_keys t;
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    principal    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (principal, key)
);
INSERT INTO idempotency_keys (principal, key, request_hash, status, body, created_at)
SELECT principal, key, request_hash, status, body, created_at FROM temp.idempotency_keys_v6;
DROP TABLE temp.idempotency_keys_v6;

-- rating_ledger
CREATE TEMP TABLE rating_ledger_v6 AS
SELECT seller_id, key, delta, cause, case_id,
       (SELECT ms FROM instants_v6 WHERE tbl = 'rating_ledger' AND col = 'at' AND rid = t.rowid) AS at
FROM rating_ledger t;
DROP TABLE rating_ledger;
CREATE TABLE rating_ledger (
    seller_id TEXT NOT NULL REFERENCES sellers (id),
    key       TEXT NOT NULL,
    at        BIGINT NOT NULL,
    delta     INTEGER NOT NULL,
    cause     TEXT NOT NULL,
    case_id   TEXT,
    PRIMARY KEY (seller_id, key)
);
INSERT INTO rating_ledger (seller_id, key, at, delta, cause, case_id)
SELECT seller_id, key, at, delta, cause, case_id FROM temp.rating_ledger_v6;
DROP TABLE temp.rating_ledger_v6;

-- login_tokens
CREATE TEMP TABLE login_tokens_v6 AS
SELECT token_hash, email, role, seller_id, reviewer_id,
       (SELECT ms FROM instants_v6 WHERE tbl = 'login_tokens' AND col = 'created_at' AND rid = t.rowid) AS created_at,
       (SELECT ms FROM instants_v6 WHERE tbl = 'login_tokens' AND col = 'expires_at' AND rid = t.rowid) AS expires_at,
       (SELECT ms FROM instants_v6 WHERE tbl = 'login_tokens' AND col = 'used_at' AND rid = t.rowid) AS used_at
FROM login_tokens t;
DROP TABLE login_tokens;
CREATE TABLE login_tokens (
    token_hash  TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    seller_id   TEXT REFERENCES sellers (id),
    reviewer_id TEXT REFERENCES reviewers (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
INSERT INTO login_tokens (token_hash, email, role, seller_id, reviewer_id, created_at, expires_at, used_at)
SELECT token_hash, email, role, seller_id, reviewer_id, created_at, expires_at, used_at FROM temp.login_tokens_v6;
DROP TABLE temp.login_tokens_v6;
CREATE INDEX login_tokens_email ON login_tokens (email, created_at);

-- sessions
CREATE TEMP TABLE sessions_v6 AS
SELECT id_hash, role, seller_id, reviewer_id, csrf,
       (SELECT ms FROM instants_v6 WHERE tbl = 'sessions' AND col = 'created_at' AND rid = t.rowid) AS created_at,
       (SELECT ms FROM instants_v6 WHERE tbl = 'sessions' AND col = 'expires_at' AND rid = t.rowid) AS expires_at
FROM sessions t;
DROP TABLE sessions;
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    seller_id   TEXT REFERENCES sellers (id),
    reviewer_id TEXT REFERENCES reviewers (id),
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
INSERT INTO sessions (id_hash, role, seller_id, reviewer_id, csrf, created_at, expires_at)
SELECT id_hash, role, seller_id, reviewer_id, csrf, created_at, expires_at FROM temp.sessions_v6;
DROP TABLE temp.sessions_v6;

DROP TABLE temp.instants_v6;

-- +goose Down
-- Back to DATETIME text, in a layout the driver reads ("2006-01-02 15:04:05.000+00:00").
PRAGMA defer_foreign_keys = ON;

-- sessions
CREATE TEMP TABLE sessions_v6 AS
SELECT id_hash, role, seller_id, reviewer_id, csrf,
       strftime('%Y-%m-%d %H:%M:%S', (created_at - ((created_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((created_at % 1000) + 1000) % 1000) || '+00:00' AS created_at,
       strftime('%Y-%m-%d %H:%M:%S', (expires_at - ((expires_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((expires_at % 1000) + 1000) % 1000) || '+00:00' AS expires_at
FROM sessions t;
DROP TABLE sessions;
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    seller_id   TEXT REFERENCES sellers (id),
    reviewer_id TEXT REFERENCES reviewers (id),
    csrf        TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL
);
INSERT INTO sessions (id_hash, role, seller_id, reviewer_id, csrf, created_at, expires_at)
SELECT id_hash, role, seller_id, reviewer_id, csrf, created_at, expires_at FROM temp.sessions_v6;
DROP TABLE temp.sessions_v6;

-- login_tokens
CREATE TEMP TABLE login_tokens_v6 AS
SELECT token_hash, email, role, seller_id, reviewer_id,
       strftime('%Y-%m-%d %H:%M:%S', (created_at - ((created_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((created_at % 1000) + 1000) % 1000) || '+00:00' AS created_at,
       strftime('%Y-%m-%d %H:%M:%S', (expires_at - ((expires_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((expires_at % 1000) + 1000) % 1000) || '+00:00' AS expires_at,
       strftime('%Y-%m-%d %H:%M:%S', (used_at - ((used_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((used_at % 1000) + 1000) % 1000) || '+00:00' AS used_at
FROM login_tokens t;
DROP TABLE login_tokens;
CREATE TABLE login_tokens (
    token_hash  TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    seller_id   TEXT REFERENCES sellers (id),
    reviewer_id TEXT REFERENCES reviewers (id),
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    used_at     DATETIME
);
INSERT INTO login_tokens (token_hash, email, role, seller_id, reviewer_id, created_at, expires_at, used_at)
SELECT token_hash, email, role, seller_id, reviewer_id, created_at, expires_at, used_at FROM temp.login_tokens_v6;
DROP TABLE temp.login_tokens_v6;
CREATE INDEX login_tokens_email ON login_tokens (email, created_at);

-- rating_ledger
CREATE TEMP TABLE rating_ledger_v6 AS
SELECT seller_id, key, delta, cause, case_id,
       strftime('%Y-%m-%d %H:%M:%S', (at - ((at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((at % 1000) + 1000) % 1000) || '+00:00' AS at
FROM rating_ledger t;
DROP TABLE rating_ledger;
CREATE TABLE rating_ledger (
    seller_id TEXT NOT NULL REFERENCES sellers (id),
    key       TEXT NOT NULL,
    at        DATETIME NOT NULL,
    delta     INTEGER NOT NULL,
    cause     TEXT NOT NULL,
    case_id   TEXT,
    PRIMARY KEY (seller_id, key)
);
INSERT INTO rating_ledger (seller_id, key, at, delta, cause, case_id)
SELECT seller_id, key, at, delta, cause, case_id FROM temp.rating_ledger_v6;
DROP TABLE temp.rating_ledger_v6;

-- idempotency_keys
CREATE TEMP TABLE idempotency_keys_v6 AS
SELECT principal, key, request_hash, status, body,
       strftime('%Y-%m-%d %H:%M:%S', (created_at - ((created_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((created_at % 1000) + 1000) % 1000) || '+00:00' AS created_at
FROM idempotency_keys t;
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    principal    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (principal, key)
);
INSERT INTO idempotency_keys (principal, key, request_hash, status, body, created_at)
SELECT principal, key, request_hash, status, body, created_at FROM temp.idempotency_keys_v6;
DROP TABLE temp.idempotency_keys_v6;

-- outbox
CREATE TEMP TABLE outbox_v6 AS
SELECT key, case_id, template, recipients, subject, text_body, html_body, attempts, last_error,
       strftime('%Y-%m-%d %H:%M:%S', (created_at - ((created_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((created_at % 1000) + 1000) % 1000) || '+00:00' AS created_at,
       strftime('%Y-%m-%d %H:%M:%S', (sent_at - ((sent_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((sent_at % 1000) + 1000) % 1000) || '+00:00' AS sent_at
FROM outbox t;
DROP TABLE outbox;
CREATE TABLE outbox (
    key        TEXT PRIMARY KEY,
    case_id    TEXT,
    template   TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject    TEXT NOT NULL,
    text_body  TEXT NOT NULL,
    html_body  TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    sent_at    DATETIME,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
INSERT INTO outbox (key, case_id, template, recipients, subject, text_body, html_body, created_at, sent_at, attempts, last_error)
SELECT key, case_id, template, recipients, subject, text_body, html_body, created_at, sent_at, attempts, last_error FROM temp.outbox_v6;
DROP TABLE temp.outbox_v6;
CREATE INDEX outbox_case ON outbox (case_id);

-- appeals
CREATE TEMP TABLE appeals_v6 AS
SELECT id, case_id, seller_id, status, root_cause, corrective_actions, preventive_measures, decided_by, reason_code, message, claimed_by,
       strftime('%Y-%m-%d %H:%M:%S', (submitted_at - ((submitted_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((submitted_at % 1000) + 1000) % 1000) || '+00:00' AS submitted_at,
       strftime('%Y-%m-%d %H:%M:%S', (decided_at - ((decided_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((decided_at % 1000) + 1000) % 1000) || '+00:00' AS decided_at,
       strftime('%Y-%m-%d %H:%M:%S', (review_due - ((review_due % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((review_due % 1000) + 1000) % 1000) || '+00:00' AS review_due,
       strftime('%Y-%m-%d %H:%M:%S', (claimed_at - ((claimed_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((claimed_at % 1000) + 1000) % 1000) || '+00:00' AS claimed_at
FROM appeals t;
DROP TABLE appeals;
CREATE TABLE appeals (
    id                  TEXT PRIMARY KEY,
    case_id             TEXT NOT NULL REFERENCES cases (id),
    seller_id           TEXT NOT NULL REFERENCES sellers (id),
    status              TEXT NOT NULL,
    root_cause          TEXT NOT NULL,
    corrective_actions  TEXT NOT NULL,
    preventive_measures TEXT NOT NULL,
    submitted_at        DATETIME NOT NULL,
    decided_at          DATETIME,
    decided_by          TEXT REFERENCES reviewers (id),
    reason_code         TEXT,
    message             TEXT,
    review_due          DATETIME,
    claimed_by          TEXT REFERENCES reviewers (id),
    claimed_at          DATETIME
);
INSERT INTO appeals (id, case_id, seller_id, status, root_cause, corrective_actions, preventive_measures, submitted_at, decided_at, decided_by, reason_code, message, review_due, claimed_by, claimed_at)
SELECT id, case_id, seller_id, status, root_cause, corrective_actions, preventive_measures, submitted_at, decided_at, decided_by, reason_code, message, review_due, claimed_by, claimed_at FROM temp.appeals_v6;
DROP TABLE temp.appeals_v6;
CREATE INDEX appeals_status_submitted ON appeals (status, submitted_at);
CREATE INDEX appeals_case ON appeals (case_id, submitted_at);

-- case_events
CREATE TEMP TABLE case_events_v6 AS
SELECT case_id, seq, type, actor, from_state, to_state, detail,
       strftime('%Y-%m-%d %H:%M:%S', (at - ((at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((at % 1000) + 1000) % 1000) || '+00:00' AS at
FROM case_events t;
DROP TABLE case_events;
CREATE TABLE case_events (
    case_id    TEXT NOT NULL REFERENCES cases (id),
    seq        INTEGER NOT NULL,
    at         DATETIME NOT NULL,
    type       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    detail     TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
INSERT INTO case_events (case_id, seq, at, type, actor, from_state, to_state, detail)
SELECT case_id, seq, at, type, actor, from_state, to_state, detail FROM temp.case_events_v6;
DROP TABLE temp.case_events_v6;

-- cases
CREATE TEMP TABLE cases_v6 AS
SELECT id, workflow_id, run_id, seller_id, kind, metric, listing_id, violation, action, state, enforcement, appeals_used, max_appeals, escalated, evidence,
       strftime('%Y-%m-%d %H:%M:%S', (opened_at - ((opened_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((opened_at % 1000) + 1000) % 1000) || '+00:00' AS opened_at,
       strftime('%Y-%m-%d %H:%M:%S', (deadline - ((deadline % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((deadline % 1000) + 1000) % 1000) || '+00:00' AS deadline,
       strftime('%Y-%m-%d %H:%M:%S', (closed_at - ((closed_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((closed_at % 1000) + 1000) % 1000) || '+00:00' AS closed_at,
       strftime('%Y-%m-%d %H:%M:%S', (updated_at - ((updated_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((updated_at % 1000) + 1000) % 1000) || '+00:00' AS updated_at
FROM cases t;
DROP TABLE cases;
CREATE TABLE cases (
    id           TEXT PRIMARY KEY,
    workflow_id  TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    seller_id    TEXT NOT NULL REFERENCES sellers (id),
    kind         TEXT NOT NULL,
    metric       TEXT,
    listing_id   TEXT,
    violation    TEXT,
    action       TEXT NOT NULL,
    state        TEXT NOT NULL,
    enforcement  TEXT NOT NULL,
    opened_at    DATETIME NOT NULL,
    deadline     DATETIME,
    closed_at    DATETIME,
    appeals_used INTEGER NOT NULL DEFAULT 0,
    max_appeals  INTEGER NOT NULL,
    escalated    BOOLEAN NOT NULL DEFAULT 0,
    evidence     TEXT NOT NULL,
    updated_at   DATETIME NOT NULL
);
INSERT INTO cases (id, workflow_id, run_id, seller_id, kind, metric, listing_id, violation, action, state, enforcement, opened_at, deadline, closed_at, appeals_used, max_appeals, escalated, evidence, updated_at)
SELECT id, workflow_id, run_id, seller_id, kind, metric, listing_id, violation, action, state, enforcement, opened_at, deadline, closed_at, appeals_used, max_appeals, escalated, evidence, updated_at FROM temp.cases_v6;
DROP TABLE temp.cases_v6;
CREATE INDEX cases_seller_state ON cases (seller_id, state);
CREATE INDEX cases_state ON cases (state, opened_at);

-- evaluations
CREATE TEMP TABLE evaluations_v6 AS
SELECT id, status, trigger, seller_ids, as_of, sellers_total, sellers_evaluated, breaches, error,
       strftime('%Y-%m-%d %H:%M:%S', (started_at - ((started_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((started_at % 1000) + 1000) % 1000) || '+00:00' AS started_at,
       strftime('%Y-%m-%d %H:%M:%S', (finished_at - ((finished_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((finished_at % 1000) + 1000) % 1000) || '+00:00' AS finished_at
FROM evaluations t;
DROP TABLE evaluations;
CREATE TABLE evaluations (
    id                TEXT PRIMARY KEY,
    status            TEXT NOT NULL,
    trigger           TEXT NOT NULL,
    seller_ids        TEXT,
    as_of             BIGINT,
    sellers_total     INTEGER NOT NULL DEFAULT 0,
    sellers_evaluated INTEGER NOT NULL DEFAULT 0,
    breaches          INTEGER NOT NULL DEFAULT 0,
    error             TEXT,
    started_at        DATETIME NOT NULL,
    finished_at       DATETIME
);
INSERT INTO evaluations (id, status, trigger, seller_ids, as_of, sellers_total, sellers_evaluated, breaches, error, started_at, finished_at)
SELECT id, status, trigger, seller_ids, as_of, sellers_total, sellers_evaluated, breaches, error, started_at, finished_at FROM temp.evaluations_v6;
DROP TABLE temp.evaluations_v6;

-- api_keys
CREATE TEMP TABLE api_keys_v6 AS
SELECT id, key_hash, role, seller_id, reviewer_id,
       strftime('%Y-%m-%d %H:%M:%S', (created_at - ((created_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((created_at % 1000) + 1000) % 1000) || '+00:00' AS created_at,
       strftime('%Y-%m-%d %H:%M:%S', (revoked_at - ((revoked_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((revoked_at % 1000) + 1000) % 1000) || '+00:00' AS revoked_at
FROM api_keys t;
DROP TABLE api_keys;
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    key_hash    TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'seller')),
    seller_id   TEXT REFERENCES sellers (id),
    reviewer_id TEXT REFERENCES reviewers (id),
    created_at  DATETIME NOT NULL,
    revoked_at  DATETIME
);
INSERT INTO api_keys (id, key_hash, role, seller_id, reviewer_id, created_at, revoked_at)
SELECT id, key_hash, role, seller_id, reviewer_id, created_at, revoked_at FROM temp.api_keys_v6;
DROP TABLE temp.api_keys_v6;

-- reviewers
CREATE TEMP TABLE reviewers_v6 AS
SELECT id, name, email,
       strftime('%Y-%m-%d %H:%M:%S', (created_at - ((created_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((created_at % 1000) + 1000) % 1000) || '+00:00' AS created_at
FROM reviewers t;
DROP TABLE reviewers;
CREATE TABLE reviewers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL UNIQUE,
    created_at DATETIME NOT NULL
);
INSERT INTO reviewers (id, name, email, created_at)
SELECT id, name, email, created_at FROM temp.reviewers_v6;
DROP TABLE temp.reviewers_v6;

-- sellers
CREATE TEMP TABLE sellers_v6 AS
SELECT id, name, email,
       strftime('%Y-%m-%d %H:%M:%S', (created_at - ((created_at % 1000) + 1000) % 1000) / 1000, 'unixepoch') || '.' || printf('%03d', ((created_at % 1000) + 1000) % 1000) || '+00:00' AS created_at
FROM sellers t;
DROP TABLE sellers;
CREATE TABLE sellers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
INSERT INTO sellers (id, name, email, created_at)
SELECT id, name, email, created_at FROM temp.sellers_v6;
DROP TABLE temp.sellers_v6;
