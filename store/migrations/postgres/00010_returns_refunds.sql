-- +goose Up
-- Round 2's facts: an order's first return and its first refund by each refunder
-- (only the seller's counts in refund_rate, so a marketplace refund must not hide
-- it). An expired order is a cancellation with cancelled_by = 'expired'.
ALTER TABLE orders
    ADD COLUMN returned_at BIGINT,
    ADD COLUMN seller_refund_at BIGINT,
    ADD COLUMN marketplace_refund_at BIGINT;

-- The expired orders of the last 30 days as of the evaluation, shown apart in
-- HEALTH. 0 is exact for every row written before: no event could say "expired".
ALTER TABLE seller_health ADD COLUMN expired_orders BIGINT NOT NULL DEFAULT 0;

-- A metric's document now carries the ids behind a breach as
-- "evidence": {"order_ids": […]} (response_rate: {"order_ids": [], "message_ids": […]})
-- on every bad metric, in seller_health as in the snapshots. Old snapshots had
-- them as "evidence_ids" (null on metrics not in breach): rewritten to the new shape.
UPDATE seller_snapshots SET metrics = (
    SELECT json_agg(CASE WHEN d.m->>'status' = 'bad' THEN (d.m - 'evidence_ids') || jsonb_build_object('evidence',
               CASE WHEN d.m->>'metric' = 'response_rate'
                    THEN jsonb_build_object('order_ids', '[]'::jsonb, 'message_ids', CASE WHEN jsonb_typeof(d.m->'evidence_ids') = 'array' THEN d.m->'evidence_ids' ELSE '[]'::jsonb END)
                    ELSE jsonb_build_object('order_ids', CASE WHEN jsonb_typeof(d.m->'evidence_ids') = 'array' THEN d.m->'evidence_ids' ELSE '[]'::jsonb END) END)
                    ELSE d.m - 'evidence_ids' END ORDER BY d.i)::text
    FROM jsonb_array_elements(seller_snapshots.metrics::jsonb) WITH ORDINALITY AS d(m, i))
WHERE metrics LIKE '%"evidence_ids"%';

-- The latest health was written without evidence; its evaluation's snapshot has
-- it, and is otherwise the same document.
UPDATE seller_health SET metrics = s.metrics
FROM seller_snapshots s
WHERE s.evaluation_id = seller_health.evaluation_id AND s.seller_id = seller_health.seller_id AND s.metrics LIKE '%"evidence"%';

-- +goose Down
-- The documents keep their new shape; the store before this migration ignores
-- the keys it does not know.
ALTER TABLE seller_health DROP COLUMN expired_orders;
ALTER TABLE orders
    DROP COLUMN returned_at,
    DROP COLUMN seller_refund_at,
    DROP COLUMN marketplace_refund_at;
