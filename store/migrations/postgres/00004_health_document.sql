-- +goose Up
-- The latest metrics of each seller as one JSON document, written by the sweep:
-- the health page reads one row instead of six snapshots. NULL (rows written
-- before this column existed) reads as "not evaluated yet" until the next sweep.
ALTER TABLE seller_health ADD COLUMN metrics TEXT;

-- Snapshots are written only by the sweep, for sellers it has just read and an
-- evaluation it has just recorded, and sellers are never deleted: the two foreign
-- keys checked nothing the writer does not already guarantee, and their checks
-- were a third of the cost of storing a shard. (SQLite keeps them: it cannot drop
-- a constraint without rebuilding the table, and it is not where sweeps are big.)
ALTER TABLE metric_snapshots
    DROP CONSTRAINT metric_snapshots_evaluation_id_fkey,
    DROP CONSTRAINT metric_snapshots_seller_id_fkey;

-- +goose Down
ALTER TABLE metric_snapshots
    ADD CONSTRAINT metric_snapshots_evaluation_id_fkey FOREIGN KEY (evaluation_id) REFERENCES evaluations (id),
    ADD CONSTRAINT metric_snapshots_seller_id_fkey FOREIGN KEY (seller_id) REFERENCES sellers (id);
ALTER TABLE seller_health DROP COLUMN metrics;
