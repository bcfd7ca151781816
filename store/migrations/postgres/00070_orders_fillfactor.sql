-- +goose Up
-- An order is written when placed and updated by each later event (shipped,
-- scanned, delivered, feedback, claims), mostly in later batches. On a full page
-- each update moves the row and adds an entry to every index of orders; room on
-- the page lets Postgres update in place (HOT) and leave the indexes alone.
-- Applies to pages written from now on.
ALTER TABLE orders SET (fillfactor = 80);

-- +goose Down
ALTER TABLE orders RESET (fillfactor);
