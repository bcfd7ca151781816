-- +goose Up
-- The latest metrics of each seller as one JSON document, written by the sweep:
-- the health page reads one row instead of six snapshots. NULL (rows written
-- before this column existed) reads as "not evaluated yet" until the next sweep.
ALTER TABLE seller_health ADD COLUMN metrics TEXT;

-- +goose Down
ALTER TABLE seller_health DROP COLUMN metrics;
