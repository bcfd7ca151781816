package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/accounthealth/accounthealth/health"
)

// The conditions behind each metric, written once and used both to count (for
// every seller of a shard in one pass over their orders) and to list the evidence.
// Named parameters: @now and @<metric>_from, the start of the metric's window.
const (
	// NULL-safe on purpose: it is also used under NOT, where a NULL would drop the row.
	defect = `(COALESCE(o.feedback_rating, 0) IN (1, 2) OR COALESCE(o.claim_outcome, 'denied') <> 'denied' OR o.chargeback_at IS NOT NULL)`

	cancelledBeforeShipping = `(o.cancelled_at IS NOT NULL AND o.cancelled_at < @now AND (o.shipped_at IS NULL OR o.cancelled_at < o.shipped_at))`

	odrDen = `(o.placed_at >= @odr_from AND o.placed_at < @now)`
	odrNum = odrDen + ` AND ` + defect

	cancelDen = `(o.placed_at >= @cancel_rate_from AND o.placed_at < @now)`
	cancelNum = cancelDen + ` AND o.cancelled_by = 'seller' AND ` + cancelledBeforeShipping

	lateDen = `(o.ship_by >= @late_shipment_rate_from AND o.ship_by < @now AND NOT ` + cancelledBeforeShipping + `)`
	lateNum = lateDen + ` AND (o.shipped_at IS NULL OR o.shipped_at > o.ship_by OR o.shipped_at >= @now)`

	trackDen = `(o.shipped_at >= @valid_tracking_rate_from AND o.shipped_at < @now)`
	trackNum = trackDen + ` AND o.tracking_number IS NOT NULL AND o.tracking_number <> '' AND o.first_scan_at IS NOT NULL AND o.first_scan_at < @now`

	otdDen = `(o.first_scan_at IS NOT NULL AND o.first_scan_at < @now AND o.deliver_by >= @on_time_delivery_rate_from AND o.deliver_by < @now)`
	otdNum = otdDen + ` AND o.delivered_at IS NOT NULL AND o.delivered_at <= o.deliver_by AND o.delivered_at < @now`

	// Defect-free orders shipped in the rating's lookback earn rating points.
	ratingShipped = `(o.shipped_at >= @rating_from AND o.shipped_at < @now AND NOT ` + defect + `)`

	// Messages received in [now - window, now - 24h): younger ones may still be answered in time.
	respDen = `(m.needs_response AND m.received_at >= @response_rate_from AND m.received_at < @response_due)`
	respNum = respDen + ` AND m.responded_at IS NOT NULL AND m.responded_at <= m.received_at + 86400000 AND m.responded_at < @now`
)

// orderMetrics are the order-based metrics with their conditions, in column
// order. evidence picks the orders behind a breach: the numerator's for the "at
// most" metrics, the orders that failed for the "at least" ones.
var orderMetrics = []struct {
	id                 health.MetricID
	num, den, evidence string
}{
	{health.ODR, odrNum, odrDen, odrNum},
	{health.CancelRate, cancelNum, cancelDen, cancelNum},
	{health.LateShipmentRate, lateNum, lateDen, lateNum},
	{health.ValidTrackingRate, trackNum, trackDen, trackDen + ` AND NOT (` + trackNum + `)`},
	{health.OnTimeDeliveryRate, otdNum, otdDen, otdDen + ` AND NOT (` + otdNum + `)`},
}

// The evidence of a poor response rate is the messages left unanswered in time.
const respEvidence = `NOT (` + respNum + `)`

// idList aggregates ids, in a stable order, into a JSON array (NULL when none):
// ids may hold any character, so no separator would be safe.
func idList(d Dialect, id, order, cond string) string {
	agg := "json_agg"
	if d == SQLite {
		agg = "json_group_array"
	}
	return fmt.Sprintf("%s(%s ORDER BY %s, %s) FILTER (WHERE %s)", agg, id, order, id, cond)
}

// orderMetricsSQL counts every order metric of a shard's sellers and lists the
// evidence ids in the same pass, so each order row is read at most once. The ids
// are listed for every seller, as breaches are only known once counted; they are
// few, since failures are.
func orderMetricsSQL(d Dialect, shardCond string) string {
	var b strings.Builder
	b.WriteString("SELECT o.seller_id")
	for _, m := range orderMetrics {
		fmt.Fprintf(&b, ",\n  COUNT(CASE WHEN %s THEN 1 END),\n  COUNT(CASE WHEN %s THEN 1 END)", m.num, m.den)
	}
	fmt.Fprintf(&b, ",\n  COUNT(CASE WHEN %s THEN 1 END)", ratingShipped)
	for _, m := range orderMetrics {
		fmt.Fprintf(&b, ",\n  %s", idList(d, "o.order_id", "o.placed_at", m.evidence))
	}
	// Only orders that can fall in some window are read.
	fmt.Fprintf(&b, "\nFROM orders o\nWHERE %s AND (o.placed_at >= @earliest OR o.ship_by >= @earliest OR o.shipped_at >= @earliest OR o.deliver_by >= @earliest)\nGROUP BY o.seller_id", shardCond)
	return b.String()
}

func messageMetricsSQL(d Dialect, shardCond string) string {
	return `SELECT m.seller_id, COUNT(CASE WHEN ` + respNum + ` THEN 1 END), COUNT(*), ` +
		idList(d, "m.message_id", "m.received_at", respEvidence) + `
FROM buyer_messages m
WHERE ` + shardCond + ` AND ` + respDen + `
GROUP BY m.seller_id`
}

// Shard is a set of sellers evaluated together: either an inclusive range of ids
// or an explicit list.
type Shard struct {
	From string   `json:"from,omitempty"`
	To   string   `json:"to,omitempty"`
	IDs  []string `json:"ids,omitempty"`
}

func (sh Shard) where(col string) (string, []sql.NamedArg) {
	if sh.IDs != nil {
		return col + " IN @ids", []sql.NamedArg{sql.Named("ids", sh.IDs)}
	}
	return col + " >= @from_id AND " + col + " <= @to_id", []sql.NamedArg{sql.Named("from_id", sh.From), sql.Named("to_id", sh.To)}
}

// MetricResult is one metric of one seller at one instant.
type MetricResult struct {
	Metric      health.MetricID
	Numerator   int64
	Denominator int64
	Value       *float64
	Status      health.Status
	Policy      health.MetricPolicy
	WindowStart time.Time
	WindowEnd   time.Time
	EvidenceIDs []string // the orders (or messages) behind the numerator; filled for breaches
}

// SellerMetrics is the evaluation of one seller.
type SellerMetrics struct {
	SellerID          string
	Metrics           []MetricResult // in health.Metrics order
	DefectFreeShipped int64
}

// Breaches are the metrics in breach.
func (sm SellerMetrics) Breaches() []MetricResult {
	var out []MetricResult
	for _, m := range sm.Metrics {
		if m.Status == health.Bad {
			out = append(out, m)
		}
	}
	return out
}

// ComputeMetrics evaluates every seller of the shard at now, set-based: one pass
// over their orders and one over their messages, each also listing the ids a
// breach would cite.
func (s *Store) ComputeMetrics(ctx context.Context, sh Shard, now time.Time, p health.Policy) ([]SellerMetrics, error) {
	db := s.read.WithContext(ctx)
	shardSellers, shardArgs := sh.where("id")
	ids, err := queryStrings(db, "SELECT id FROM sellers WHERE "+shardSellers+" ORDER BY id", toAny(shardArgs)...)
	if err != nil {
		return nil, fmt.Errorf("list shard sellers: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	args := windowArgs(now, p)
	type counts struct {
		num, den   [6]int64
		evidence   [6]sql.NullString // JSON arrays of ids, decoded only for breaches
		defectFree int64
	}
	bySeller := make(map[string]*counts, len(ids))
	for _, id := range ids {
		bySeller[id] = &counts{}
	}

	// scan reads one grouped query, row by row into dst, and applies each row to
	// its seller (skipping a seller created after the shard's list was read).
	scan := func(what, q string, args []sql.NamedArg, dst []any, apply func(c *counts)) error {
		rows, err := db.Raw(q, toAny(args)...).Rows()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		defer rows.Close()
		var seller string
		dst = append([]any{&seller}, dst...)
		for rows.Next() {
			if err := rows.Scan(dst...); err != nil {
				return fmt.Errorf("scan %s: %w", what, err)
			}
			if c := bySeller[seller]; c != nil {
				apply(c)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}

	var row counts
	var dst []any
	for i := range orderMetrics {
		dst = append(dst, &row.num[i], &row.den[i])
	}
	dst = append(dst, &row.defectFree)
	for i := range orderMetrics {
		dst = append(dst, &row.evidence[i])
	}
	cond, cargs := sh.where("o.seller_id")
	err = scan("order metrics", orderMetricsSQL(s.dialect, cond), append(args, cargs...), dst, func(c *counts) { *c = row })
	if err != nil {
		return nil, err
	}
	resp := len(orderMetrics) // the response rate's column
	cond, cargs = sh.where("m.seller_id")
	err = scan("response metrics", messageMetricsSQL(s.dialect, cond), append(args, cargs...),
		[]any{&row.num[resp], &row.den[resp], &row.evidence[resp]}, func(c *counts) {
			c.num[resp], c.den[resp], c.evidence[resp] = row.num[resp], row.den[resp], row.evidence[resp]
		})
	if err != nil {
		return nil, err
	}

	out := make([]SellerMetrics, 0, len(ids))
	for _, id := range ids {
		c := bySeller[id]
		sm := SellerMetrics{SellerID: id, DefectFreeShipped: c.defectFree}
		for i, m := range health.Metrics {
			mp := p.Metrics[m]
			r := MetricResult{Metric: m, Numerator: c.num[i], Denominator: c.den[i], Policy: mp,
				WindowStart: now.Add(-mp.Window()), WindowEnd: now}
			r.Value, r.Status = mp.Judge(r.Numerator, r.Denominator)
			if r.Status == health.Bad {
				if r.EvidenceIDs, err = evidenceIDs(c.evidence[i]); err != nil {
					return nil, fmt.Errorf("evidence of %s for %s: %w", m, id, err)
				}
			}
			sm.Metrics = append(sm.Metrics, r)
		}
		out = append(out, sm)
	}
	return out, nil
}

// MaxEvidenceIDs bounds the ids kept behind one breach; the counts stay exact.
const MaxEvidenceIDs = 1000

func evidenceIDs(list sql.NullString) ([]string, error) {
	ids := []string{}
	if !list.Valid {
		return ids, nil
	}
	if err := json.Unmarshal([]byte(list.String), &ids); err != nil {
		return nil, err
	}
	return ids[:min(len(ids), MaxEvidenceIDs)], nil
}

// windowArgs are the named bounds of every window at now.
func windowArgs(now time.Time, p health.Policy) []sql.NamedArg {
	args := []sql.NamedArg{
		sql.Named("now", ms(now)),
		sql.Named("rating_from", ms(now.Add(-health.RatingLookback))),
		sql.Named("response_due", ms(now.Add(-24*time.Hour))),
	}
	earliest := now.Add(-health.RatingLookback)
	for _, m := range health.Metrics {
		from := now.Add(-p.Metrics[m].Window())
		if from.Before(earliest) {
			earliest = from
		}
		args = append(args, sql.Named(string(m)+"_from", ms(from)))
	}
	return append(args, sql.Named("earliest", ms(earliest)))
}

func toAny(args []sql.NamedArg) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}
