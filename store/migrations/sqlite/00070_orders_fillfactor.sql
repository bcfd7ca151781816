-- +goose Up
-- Postgres leaves room on the pages of orders for their updates (see the
-- postgres migration); SQLite has no such setting.
SELECT 1;

-- +goose Down
SELECT 1;
