-- +goose Up
-- Requests for sign-in links, counted per address whether or not an account
-- has it, and per requesting client. A request counts inside one write
-- transaction (the store begins them IMMEDIATE: SQLite's single writer), so
-- concurrent requests never pass a limit together.
CREATE TABLE signin_addresses (
    email    TEXT PRIMARY KEY,
    last_at  BIGINT NOT NULL  -- Unix milliseconds, as every stored instant
);

CREATE TABLE signin_requests (
    email   TEXT NOT NULL,
    client  TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX signin_requests_email ON signin_requests (email, at);

-- +goose Down
DROP TABLE signin_requests;
DROP TABLE signin_addresses;
