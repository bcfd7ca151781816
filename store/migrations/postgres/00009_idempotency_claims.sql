-- +goose Up
-- Idempotency keys are claimed before the work (state 'pending') and completed
-- with the first answer ('done'), so concurrent requests with one key cannot both
-- act. The scope names what the key was used on. Answers are kept as the appeal's
-- JSON, without the HTTP envelope.
ALTER TABLE idempotency_keys ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
ALTER TABLE idempotency_keys DROP COLUMN status;
UPDATE idempotency_keys SET body = (body::jsonb -> 'appeal')::text WHERE body::jsonb ? 'appeal';
UPDATE idempotency_keys SET scope = body::jsonb ->> 'case_id' WHERE body::jsonb ? 'case_id';

-- +goose Down
ALTER TABLE idempotency_keys ADD COLUMN status INTEGER NOT NULL DEFAULT 201;
UPDATE idempotency_keys SET body = json_build_object('appeal', body::json)::text WHERE state = 'done';
DELETE FROM idempotency_keys WHERE state <> 'done';
ALTER TABLE idempotency_keys DROP COLUMN state;
ALTER TABLE idempotency_keys DROP COLUMN scope;
