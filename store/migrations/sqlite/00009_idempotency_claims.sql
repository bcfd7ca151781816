-- +goose Up
-- Idempotency keys are claimed before the work (state 'pending') and completed
-- with the first answer ('done'), so concurrent requests with one key cannot both
-- act. The scope names what the key was used on. Answers are kept as the appeal's
-- JSON, without the HTTP envelope.
ALTER TABLE idempotency_keys ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
ALTER TABLE idempotency_keys DROP COLUMN status;
UPDATE idempotency_keys SET body = json_extract(body, '$.appeal') WHERE json_type(body, '$.appeal') = 'object';
UPDATE idempotency_keys SET scope = json_extract(body, '$.case_id') WHERE json_type(body, '$.case_id') = 'text';

-- +goose Down
ALTER TABLE idempotency_keys ADD COLUMN status INTEGER NOT NULL DEFAULT 201;
UPDATE idempotency_keys SET body = json_object('appeal', json(body)) WHERE state = 'done';
DELETE FROM idempotency_keys WHERE state <> 'done';
ALTER TABLE idempotency_keys DROP COLUMN state;
ALTER TABLE idempotency_keys DROP COLUMN scope;
