-- +goose Up
-- Requests for sign-in links, counted per address whether or not an account
-- has it, and per requesting client. A request takes its address's row lock
-- (the upsert of signin_addresses) before counting, so concurrent requests,
-- from any number of serve processes, never pass a limit together.
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
