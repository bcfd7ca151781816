-- +goose Up
-- One snapshot row per seller and evaluation instead of one per metric: the six
-- metrics (and, for breaches, the ids behind them) as one JSON document, like the
-- one seller_health holds. A sweep writes a sixth of the rows, and a trend reads
-- a seller's documents in one index range. No foreign keys, for the reasons
-- given in migration 4: only the sweep writes here, for rows it has just read.
CREATE TABLE seller_snapshots (
    evaluation_id  TEXT NOT NULL,
    seller_id      TEXT NOT NULL,
    evaluated_at   BIGINT NOT NULL,
    metrics        TEXT NOT NULL,
    PRIMARY KEY (evaluation_id, seller_id)
);
CREATE INDEX seller_snapshots_trend ON seller_snapshots (seller_id, evaluated_at);

-- The history so far, folded into documents in the metrics' order, in the shape
-- the API shows a metric (store.MetricDoc).
INSERT INTO seller_snapshots (evaluation_id, seller_id, evaluated_at, metrics)
SELECT evaluation_id, seller_id, MAX(window_end),
       json_group_array(json_object('metric', metric, 'title', CASE metric WHEN 'odr' THEN 'Order Defect Rate' WHEN 'cancel_rate' THEN 'Pre-fulfilment Cancel Rate' WHEN 'late_shipment_rate' THEN 'Late Shipment Rate' WHEN 'valid_tracking_rate' THEN 'Valid Tracking Rate' WHEN 'on_time_delivery_rate' THEN 'On-Time Delivery Rate' WHEN 'response_rate' THEN 'Response Rate' END,
           'numerator', numerator, 'denominator', denominator, 'value', value,
           'target', json_object('op', target_op, 'value', target_value), 'window_days', window_days,
           'window_start', strftime('%Y-%m-%dT%H:%M:%fZ', window_start / 1000.0, 'unixepoch'), 'window_end', strftime('%Y-%m-%dT%H:%M:%fZ', window_end / 1000.0, 'unixepoch'),
           'status', status, 'evidence_ids', json(evidence_ids))
           ORDER BY CASE metric WHEN 'odr' THEN 1 WHEN 'cancel_rate' THEN 2 WHEN 'late_shipment_rate' THEN 3 WHEN 'valid_tracking_rate' THEN 4 WHEN 'on_time_delivery_rate' THEN 5 ELSE 6 END)
FROM metric_snapshots
GROUP BY evaluation_id, seller_id;

DROP TABLE metric_snapshots;

-- +goose Down
-- The table comes back empty: the history stays in seller_snapshots' documents.
CREATE TABLE metric_snapshots (
    evaluation_id  TEXT NOT NULL,
    seller_id      TEXT NOT NULL,
    metric         TEXT NOT NULL,
    numerator      BIGINT NOT NULL,
    denominator    BIGINT NOT NULL,
    value          DOUBLE PRECISION,
    status         TEXT NOT NULL,
    target_op      TEXT NOT NULL,
    target_value   DOUBLE PRECISION NOT NULL,
    window_days    INTEGER NOT NULL,
    window_start   BIGINT NOT NULL,
    window_end     BIGINT NOT NULL,
    evidence_ids   TEXT,
    PRIMARY KEY (evaluation_id, seller_id, metric)
);
CREATE INDEX metric_snapshots_trend ON metric_snapshots (seller_id, metric, window_end);
DROP TABLE seller_snapshots;
