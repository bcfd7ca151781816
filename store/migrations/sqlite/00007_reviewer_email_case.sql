-- +goose Up
-- A reviewer's address is unique whatever its case: sign-in looks accounts up by
-- the lower-cased address, so R1@M.example beside r1@m.example got both links.
-- Sellers keep no such rule: one business may run several seller accounts from
-- one address, and sign-in offers a link for each.
-- Reviewers that already differ only in case make this fail: change one's
-- address first. (The column's own UNIQUE stays: dropping it means rebuilding
-- the table, and this index implies it.)
CREATE UNIQUE INDEX reviewers_email_lower ON reviewers (lower(email));

-- +goose Down
DROP INDEX reviewers_email_lower;
