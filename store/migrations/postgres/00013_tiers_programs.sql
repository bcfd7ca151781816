-- +goose Up
-- Tiers: one evaluation of every seller per quarter, and each seller's tier of
-- each quarter with the standing behind it (criteria, what the next tier needs);
-- programs: where each seller stands with each invitation-only program. Instants
-- are Unix milliseconds, as everywhere.
CREATE TABLE tier_evaluations (
    id                 TEXT PRIMARY KEY,
    quarter            TEXT NOT NULL,
    status             TEXT NOT NULL,
    trigger            TEXT NOT NULL,
    sellers_total      INTEGER NOT NULL DEFAULT 0,
    sellers_evaluated  INTEGER NOT NULL DEFAULT 0,
    changed            INTEGER NOT NULL DEFAULT 0,
    error              TEXT,
    started_at         BIGINT NOT NULL,
    finished_at        BIGINT
);

CREATE TABLE seller_tiers (
    seller_id      TEXT NOT NULL REFERENCES sellers (id),
    quarter        TEXT NOT NULL,
    tier           TEXT NOT NULL,
    previous       TEXT NOT NULL,
    standing       TEXT NOT NULL,
    evaluation_id  TEXT NOT NULL,
    evaluated_at   BIGINT NOT NULL,
    PRIMARY KEY (seller_id, quarter)
);

CREATE TABLE seller_programs (
    seller_id    TEXT NOT NULL REFERENCES sellers (id),
    program      TEXT NOT NULL,
    status       TEXT NOT NULL,
    criteria     TEXT NOT NULL,
    invited_at   BIGINT,
    answered_at  BIGINT,
    revoked_at   BIGINT,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (seller_id, program)
);
CREATE INDEX seller_programs_status ON seller_programs (program, status);

-- +goose Down
DROP TABLE seller_programs;
DROP TABLE seller_tiers;
DROP TABLE tier_evaluations;
