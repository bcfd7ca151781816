-- +goose Up
-- A reviewer's address is unique whatever its case: sign-in looks accounts up by
-- the lower-cased address, so R1@M.example beside r1@m.example got both links.
-- Sellers keep no such rule: one business may run several seller accounts from
-- one address, and sign-in offers a link for each.
-- Reviewers that already differ only in case make this fail: change one's
-- address first.
ALTER TABLE reviewers DROP CONSTRAINT reviewers_email_key;
CREATE UNIQUE INDEX reviewers_email_lower ON reviewers (lower(email));

-- +goose Down
DROP INDEX reviewers_email_lower;
ALTER TABLE reviewers ADD CONSTRAINT reviewers_email_key UNIQUE (email);
