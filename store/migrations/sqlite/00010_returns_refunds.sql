-- +goose Up
-- Round 2's facts: an order's first return and its first refund by each refunder
-- (only the seller's counts in refund_rate, so a marketplace refund must not hide
-- it). An expired order is a cancellation with cancelled_by = 'expired'.
ALTER TABLE orders ADD COLUMN returned_at BIGINT;
ALTER TABLE orders ADD COLUMN seller_refund_at BIGINT;
ALTER TABLE orders ADD COLUMN marketplace_refund_at BIGINT;

-- The expired orders of the last 30 days as of the evaluation, shown apart in
-- HEALTH. 0 is exact for every row written before: no event could say "expired".
ALTER TABLE seller_health ADD COLUMN expired_orders BIGINT NOT NULL DEFAULT 0;

-- A metric's document now carries the ids behind a breach as
-- "evidence": {"order_ids": […]} (response_rate: {"order_ids": [], "message_ids": […]})
-- on every bad metric, in seller_health as in the snapshots. Old snapshots had
-- them as "evidence_ids" (null on metrics not in breach): rewritten to the new shape.
UPDATE seller_snapshots SET metrics = (
    SELECT json_group_array(json(CASE WHEN json_extract(d.value, '$.status') = 'bad'
               THEN json_set(json_remove(d.value, '$.evidence_ids'), '$.evidence', json(CASE WHEN json_extract(d.value, '$.metric') = 'response_rate'
                    THEN json_object('order_ids', json('[]'), 'message_ids', json(CASE WHEN json_type(d.value, '$.evidence_ids') = 'array' THEN json_extract(d.value, '$.evidence_ids') ELSE '[]' END))
                    ELSE json_object('order_ids', json(CASE WHEN json_type(d.value, '$.evidence_ids') = 'array' THEN json_extract(d.value, '$.evidence_ids') ELSE '[]' END)) END))
               ELSE json_remove(d.value, '$.evidence_ids') END) ORDER BY d.key)
    FROM json_each(seller_snapshots.metrics) AS d)
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
ALTER TABLE orders DROP COLUMN returned_at;
ALTER TABLE orders DROP COLUMN seller_refund_at;
ALTER TABLE orders DROP COLUMN marketplace_refund_at;
