package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
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

// orderMetrics are the order-based metrics with their conditions, in column order.
var orderMetrics = []struct {
	id       health.MetricID
	num, den string
}{
	{health.ODR, odrNum, odrDen},
	{health.CancelRate, cancelNum, cancelDen},
	{health.LateShipmentRate, lateNum, lateDen},
	{health.ValidTrackingRate, trackNum, trackDen},
	{health.OnTimeDeliveryRate, otdNum, otdDen},
}

var orderMetricsSQL = func() string {
	var b strings.Builder
	b.WriteString("SELECT o.seller_id")
	for _, m := range orderMetrics {
		fmt.Fprintf(&b, ",\n  COUNT(CASE WHEN %s THEN 1 END),\n  COUNT(CASE WHEN %s THEN 1 END)", m.num, m.den)
	}
	fmt.Fprintf(&b, ",\n  COUNT(CASE WHEN %s THEN 1 END)", ratingShipped)
	// Only orders that can fall in some window are read; each one once.
	b.WriteString("\nFROM orders o\nWHERE %s AND (o.placed_at >= @earliest OR o.ship_by >= @earliest OR o.shipped_at >= @earliest OR o.deliver_by >= @earliest)\nGROUP BY o.seller_id")
	return b.String()
}()

const messageMetricsSQL = `SELECT m.seller_id, COUNT(CASE WHEN ` + respNum + ` THEN 1 END), COUNT(*)
FROM buyer_messages m
WHERE %s AND ` + respDen + `
GROUP BY m.seller_id`

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
// over their orders and one over their messages, then the evidence for breaches.
func (s *Store) ComputeMetrics(ctx context.Context, sh Shard, now time.Time, p health.Policy) ([]SellerMetrics, error) {
	db := s.db.WithContext(ctx)
	shardSellers, shardArgs := sh.where("id")
	var ids []string
	if err := db.Raw("SELECT id FROM sellers WHERE "+shardSellers+" ORDER BY id", toAny(shardArgs)...).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("list shard sellers: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	args := windowArgs(now, p)
	type counts struct{ num, den [6]int64 }
	bySeller := make(map[string]*counts, len(ids))
	defectFree := map[string]int64{}
	for _, id := range ids {
		bySeller[id] = &counts{}
	}

	cond, cargs := sh.where("o.seller_id")
	rows, err := db.Raw(fmt.Sprintf(orderMetricsSQL, cond), toAny(append(args, cargs...))...).Rows()
	if err != nil {
		return nil, fmt.Errorf("order metrics: %w", err)
	}
	for rows.Next() {
		var seller string
		var v [11]int64
		dst := []any{&seller}
		for i := range v {
			dst = append(dst, &v[i])
		}
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan order metrics: %w", err)
		}
		c := bySeller[seller]
		if c == nil {
			continue // a seller created after the shard's list was read
		}
		for i := range orderMetrics {
			c.num[i], c.den[i] = v[2*i], v[2*i+1]
		}
		defectFree[seller] = v[10]
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("order metrics: %w", err)
	}

	cond, cargs = sh.where("m.seller_id")
	rows, err = db.Raw(fmt.Sprintf(messageMetricsSQL, cond), toAny(append(args, cargs...))...).Rows()
	if err != nil {
		return nil, fmt.Errorf("response metrics: %w", err)
	}
	for rows.Next() {
		var seller string
		var num, den int64
		if err := rows.Scan(&seller, &num, &den); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan response metrics: %w", err)
		}
		if c := bySeller[seller]; c != nil {
			c.num[5], c.den[5] = num, den
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("response metrics: %w", err)
	}

	out := make([]SellerMetrics, 0, len(ids))
	inBreach := map[health.MetricID][]string{}
	for _, id := range ids {
		c := bySeller[id]
		sm := SellerMetrics{SellerID: id, DefectFreeShipped: defectFree[id]}
		for i, m := range health.Metrics {
			mp := p.Metrics[m]
			r := MetricResult{Metric: m, Numerator: c.num[i], Denominator: c.den[i], Policy: mp,
				WindowStart: now.Add(-mp.Window()), WindowEnd: now}
			r.Value, r.Status = mp.Judge(r.Numerator, r.Denominator)
			if r.Status == health.Bad {
				inBreach[m] = append(inBreach[m], id)
			}
			sm.Metrics = append(sm.Metrics, r)
		}
		out = append(out, sm)
	}
	evidence, err := s.evidence(ctx, inBreach, args)
	if err != nil {
		return nil, err
	}
	for i := range out {
		for j := range out[i].Metrics {
			r := &out[i].Metrics[j]
			if r.Status == health.Bad {
				r.EvidenceIDs = evidence[r.Metric][out[i].SellerID]
			}
		}
	}
	return out, nil
}

// MaxEvidenceIDs bounds the ids kept behind one breach; the counts stay exact.
const MaxEvidenceIDs = 1000

// evidence lists, per metric and seller in breach, the ids behind the numerator.
func (s *Store) evidence(ctx context.Context, inBreach map[health.MetricID][]string, args []sql.NamedArg) (map[health.MetricID]map[string][]string, error) {
	out := map[health.MetricID]map[string][]string{}
	for m, sellers := range inBreach {
		var q string
		switch m {
		case health.ResponseRate:
			// The evidence of a poor response rate is the messages left unanswered in time.
			q = `SELECT m.seller_id, m.message_id FROM buyer_messages m WHERE m.seller_id IN @sellers AND ` + respDen +
				` AND NOT (` + respNum + `) ORDER BY m.seller_id, m.received_at, m.message_id`
		case health.ValidTrackingRate, health.OnTimeDeliveryRate:
			// For the "at least" metrics the evidence is the orders that failed the target.
			num, den := conditions(m)
			q = `SELECT o.seller_id, o.order_id FROM orders o WHERE o.seller_id IN @sellers AND ` + den +
				` AND NOT (` + num + `) ORDER BY o.seller_id, o.placed_at, o.order_id`
		default:
			num, _ := conditions(m)
			q = `SELECT o.seller_id, o.order_id FROM orders o WHERE o.seller_id IN @sellers AND ` + num +
				` ORDER BY o.seller_id, o.placed_at, o.order_id`
		}
		sort.Strings(sellers)
		rows, err := s.db.WithContext(ctx).Raw(q, toAny(append(args, sql.Named("sellers", sellers)))...).Rows()
		if err != nil {
			return nil, fmt.Errorf("evidence for %s: %w", m, err)
		}
		ids := map[string][]string{}
		for rows.Next() {
			var seller, id string
			if err := rows.Scan(&seller, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan evidence for %s: %w", m, err)
			}
			if len(ids[seller]) < MaxEvidenceIDs {
				ids[seller] = append(ids[seller], id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("evidence for %s: %w", m, err)
		}
		out[m] = ids
	}
	return out, nil
}

func conditions(m health.MetricID) (num, den string) {
	for _, om := range orderMetrics {
		if om.id == m {
			return om.num, om.den
		}
	}
	return respNum, respDen
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
