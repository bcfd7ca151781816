package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/accounthealth/accounthealth/health"
)

// The conditions behind each metric, written once and used both to count (for
// every seller of a shard in one pass over their orders) and to list the evidence.
// Named parameters: @now and @<metric>_from, the start of the metric's window.
//
// A defect removed by an upheld dispute is not counted: o.excused_defects holds
// the bits of health.Defect.Bit (negative_feedback 1, a_to_z_claim 2,
// chargeback 4, late_shipment 8, invalid_tracking 16, late_delivery 32,
// cancellation 64, return 128, refund 256; TestDefectBitsMatchTheSQL holds them).
// A later feedback or a claim filed again clears its bit (batch.renew): the new
// fact was not judged.
const (
	// The three defects of ODR, NULL-safe on purpose: defect is also used under
	// NOT, where a NULL would drop the row.
	negativeFeedback = `(COALESCE(o.feedback_rating, 0) IN (1, 2) AND (o.excused_defects & 1) = 0)`
	claimNotDenied   = `(COALESCE(o.claim_outcome, 'denied') <> 'denied' AND (o.excused_defects & 2) = 0)`
	chargedBack      = `(o.chargeback_at IS NOT NULL AND (o.excused_defects & 4) = 0)`
	defect           = `(` + negativeFeedback + ` OR ` + claimNotDenied + ` OR ` + chargedBack + `)`

	cancelledBeforeShipping = `(o.cancelled_at IS NOT NULL AND o.cancelled_at < @now AND (o.shipped_at IS NULL OR o.cancelled_at < o.shipped_at))`

	odrDen = `(o.placed_at >= @odr_from AND o.placed_at < @now)`
	odrNum = odrDen + ` AND ` + defect

	// An expired order (never confirmed by the seller) is the seller's cancellation.
	cancelDen = `(o.placed_at >= @cancel_rate_from AND o.placed_at < @now)`
	cancelNum = cancelDen + ` AND o.cancelled_by IN ('seller', 'expired') AND ` + cancelledBeforeShipping + ` AND (o.excused_defects & 64) = 0`

	lateDen = `(o.ship_by >= @late_shipment_rate_from AND o.ship_by < @now AND NOT ` + cancelledBeforeShipping + `)`
	lateNum = lateDen + ` AND (o.shipped_at IS NULL OR o.shipped_at > o.ship_by OR o.shipped_at >= @now) AND (o.excused_defects & 8) = 0`

	trackDen = `(o.shipped_at >= @valid_tracking_rate_from AND o.shipped_at < @now)`
	trackNum = trackDen + ` AND ((o.tracking_number IS NOT NULL AND o.tracking_number <> '' AND o.first_scan_at IS NOT NULL AND o.first_scan_at < @now) OR (o.excused_defects & 16) <> 0)`

	otdDen = `(o.first_scan_at IS NOT NULL AND o.first_scan_at < @now AND o.deliver_by >= @on_time_delivery_rate_from AND o.deliver_by < @now)`
	otdNum = otdDen + ` AND ((o.delivered_at IS NOT NULL AND o.delivered_at <= o.deliver_by AND o.delivered_at < @now) OR (o.excused_defects & 32) <> 0)`

	// A return counts once the order's delivery is known: an undelivered order
	// is in neither count.
	returnDen = `(o.delivered_at >= @return_rate_from AND o.delivered_at < @now)`
	returnNum = returnDen + ` AND o.returned_at < @now AND (o.excused_defects & 128) = 0`

	// Only the seller's refunds count; the marketplace's are kept apart.
	refundDen = `(o.placed_at >= @refund_rate_from AND o.placed_at < @now)`
	refundNum = refundDen + ` AND o.seller_refund_at < @now AND (o.excused_defects & 256) = 0`

	// The latest feedback counts, as in ODR, by order date.
	negFeedbackDen = `(o.placed_at >= @negative_feedback_rate_from AND o.placed_at < @now AND o.feedback_at IS NOT NULL)`
	negFeedbackNum = negFeedbackDen + ` AND ` + negativeFeedback

	// Expired orders of the last health.ExpiredWindow, shown apart; each is also
	// in cancel_rate's numerator when placed in its window.
	expiredOrders = `(o.placed_at >= @expired_from AND o.placed_at < @now AND o.cancelled_by = 'expired' AND ` + cancelledBeforeShipping + ` AND (o.excused_defects & 64) = 0)`

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
	{health.ReturnRate, returnNum, returnDen, returnNum},
	{health.RefundRate, refundNum, refundDen, refundNum},
	{health.NegativeFeedbackRate, negFeedbackNum, negFeedbackDen, negFeedbackNum},
}

// The counts the order pass takes beside the metrics, in column order.
const (
	countDefectFree = iota // the rating's defect-free shipments
	countExpired
	countNegativeFeedback // ODR's parts: an order may be in several
	countClaims
	countChargebacks
)

var orderCounts = [...]string{
	countDefectFree:       ratingShipped,
	countExpired:          expiredOrders,
	countNegativeFeedback: odrDen + ` AND ` + negativeFeedback,
	countClaims:           odrDen + ` AND ` + claimNotDenied,
	countChargebacks:      odrDen + ` AND ` + chargedBack,
}

// The evidence of a poor response rate is the messages left unanswered in time.
const respEvidence = `NOT (` + respNum + `)`

// orderMetricsSQL counts every order metric of a shard's sellers in one pass
// over their orders. It only counts: an aggregate that lists ids (json_agg with
// ORDER BY) cannot be computed in parts, so it kept PostgreSQL from a parallel
// plan, and it listed ids for every seller though few breach. The ids are read
// afterwards for the breaching sellers alone (orderEvidenceSQL).
func orderMetricsSQL(shardCond string) string {
	var b strings.Builder
	b.WriteString("SELECT o.seller_id")
	for _, m := range orderMetrics {
		fmt.Fprintf(&b, ",\n  COUNT(CASE WHEN %s THEN 1 END),\n  COUNT(CASE WHEN %s THEN 1 END)", m.num, m.den)
	}
	for _, c := range orderCounts {
		fmt.Fprintf(&b, ",\n  COUNT(CASE WHEN %s THEN 1 END)", c)
	}
	// Only orders that can fall in some window are read.
	fmt.Fprintf(&b, "\nFROM orders o\nWHERE %s AND %s\nGROUP BY o.seller_id", shardCond, inSomeWindow)
	return b.String()
}

const inSomeWindow = `(o.placed_at >= @earliest OR o.ship_by >= @earliest OR o.shipped_at >= @earliest OR o.deliver_by >= @earliest OR o.delivered_at >= @earliest)`

// orderEvidenceSQL lists, for the sellers given by @ids, the orders that are
// evidence of some order metric, with one 0/1 column per metric (orderMetrics'
// order) saying which, in each seller's evidence order.
func orderEvidenceSQL() string {
	var b strings.Builder
	b.WriteString("SELECT o.seller_id, o.order_id")
	var either []string
	for _, m := range orderMetrics {
		fmt.Fprintf(&b, ",\n  CASE WHEN %s THEN 1 ELSE 0 END", m.evidence)
		either = append(either, "("+m.evidence+")")
	}
	fmt.Fprintf(&b, "\nFROM orders o\nWHERE o.seller_id IN @ids AND %s AND (%s)\nORDER BY o.seller_id, o.placed_at, o.order_id",
		inSomeWindow, strings.Join(either, " OR "))
	return b.String()
}

func messageMetricsSQL(shardCond string) string {
	return `SELECT m.seller_id, COUNT(CASE WHEN ` + respNum + ` THEN 1 END), COUNT(*)
FROM buyer_messages m
WHERE ` + shardCond + ` AND ` + respDen + `
GROUP BY m.seller_id`
}

// messageEvidenceSQL lists the messages that are evidence of a poor response
// rate for the sellers given by @ids, in each seller's evidence order.
const messageEvidenceSQL = `SELECT m.seller_id, m.message_id
FROM buyer_messages m
WHERE m.seller_id IN @ids AND ` + respDen + ` AND ` + respEvidence + `
ORDER BY m.seller_id, m.received_at, m.message_id`

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
	EvidenceIDs []string     // the orders (or messages) behind the numerator; filled for breaches
	Parts       *DefectParts // ODR's only
}

// DefectParts counts the orders in ODR's window with each defect; an order with
// several defects is in several parts.
type DefectParts struct {
	NegativeFeedback int64 `json:"negative_feedback"`
	AToZClaims       int64 `json:"a_to_z_claims"`
	Chargebacks      int64 `json:"chargebacks"`
}

// SellerMetrics is the evaluation of one seller.
type SellerMetrics struct {
	SellerID          string
	Metrics           []MetricResult // in health.Metrics order
	DefectFreeShipped int64
	ExpiredOrders     int64 // placed in the last health.ExpiredWindow
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

// sellerCounts are what the passes over a seller's orders and messages count:
// each metric's numerator and denominator by its place in health.Metrics, and
// orderCounts.
type sellerCounts struct {
	num, den []int64
	extra    []int64 // orderCounts'
}

func newSellerCounts() sellerCounts {
	n := len(health.Metrics)
	return sellerCounts{num: make([]int64, n), den: make([]int64, n), extra: make([]int64, len(orderCounts))}
}

// metricIndex is each metric's place in health.Metrics.
var metricIndex = func() map[health.MetricID]int {
	out := make(map[health.MetricID]int, len(health.Metrics))
	for i, m := range health.Metrics {
		out[m] = i
	}
	return out
}()

// ComputeMetrics evaluates every seller of the shard at now, set-based: one
// counting pass over their orders and one over their messages, then, for the
// sellers in breach only, one pass each listing the ids their breaches cite.
func (s *Store) ComputeMetrics(ctx context.Context, sh Shard, now time.Time, p health.Policy) ([]SellerMetrics, error) {
	// The counts and the evidence come from separate statements, so they read one
	// snapshot: an order that arrives in between is in both or in neither.
	var opts *sql.TxOptions
	if s.dialect == Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	} // SQLite: a read transaction in WAL mode keeps the snapshot of its first read
	db := s.read.WithContext(ctx).Begin(opts)
	if db.Error != nil {
		return nil, fmt.Errorf("compute metrics: %w", db.Error)
	}
	defer db.Rollback() // it only reads
	shardSellers, shardArgs := sh.where("id")
	ids, err := queryStrings(db, "SELECT id FROM sellers WHERE "+shardSellers+" ORDER BY id", toAny(shardArgs)...)
	if err != nil {
		return nil, fmt.Errorf("list shard sellers: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	args := windowArgs(now, p)
	bySeller := make(map[string]sellerCounts, len(ids))
	for _, id := range ids {
		bySeller[id] = newSellerCounts()
	}

	// scan reads one query, row by row into dst, and hands each row's seller to
	// apply.
	scan := func(what, q string, args []sql.NamedArg, dst []any, apply func(seller string)) error {
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
			apply(seller)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}

	row := newSellerCounts()
	var dst []any
	for _, m := range orderMetrics {
		i := metricIndex[m.id]
		dst = append(dst, &row.num[i], &row.den[i])
	}
	for i := range orderCounts {
		dst = append(dst, &row.extra[i])
	}
	cond, cargs := sh.where("o.seller_id")
	err = scan("order metrics", orderMetricsSQL(cond), append(args, cargs...), dst, func(seller string) {
		if c, ok := bySeller[seller]; ok {
			for _, m := range orderMetrics {
				i := metricIndex[m.id]
				c.num[i], c.den[i] = row.num[i], row.den[i]
			}
			copy(c.extra, row.extra)
		}
	})
	if err != nil {
		return nil, err
	}
	resp := metricIndex[health.ResponseRate]
	cond, cargs = sh.where("m.seller_id")
	err = scan("response metrics", messageMetricsSQL(cond), append(args, cargs...),
		[]any{&row.num[resp], &row.den[resp]}, func(seller string) {
			if c, ok := bySeller[seller]; ok {
				c.num[resp], c.den[resp] = row.num[resp], row.den[resp]
			}
		})
	if err != nil {
		return nil, err
	}

	out := make([]SellerMetrics, 0, len(ids))
	at := make(map[string]int, len(ids)) // each seller's place in out
	var orderBreaching, messageBreaching []string
	for _, id := range ids {
		c := bySeller[id]
		sm := SellerMetrics{SellerID: id, DefectFreeShipped: c.extra[countDefectFree], ExpiredOrders: c.extra[countExpired]}
		inBreach, messages := false, false
		for i, m := range health.Metrics {
			mp := p.Metrics[m]
			r := MetricResult{Metric: m, Numerator: c.num[i], Denominator: c.den[i], Policy: mp,
				WindowStart: now.Add(-mp.Window()), WindowEnd: now}
			r.Value, r.Status = mp.Judge(r.Numerator, r.Denominator)
			if r.Status == health.Bad {
				r.EvidenceIDs = []string{} // filled below; [] when none
				if m == health.ResponseRate {
					messages = true
				} else {
					inBreach = true
				}
			}
			if m == health.ODR {
				r.Parts = &DefectParts{NegativeFeedback: c.extra[countNegativeFeedback], AToZClaims: c.extra[countClaims], Chargebacks: c.extra[countChargebacks]}
			}
			sm.Metrics = append(sm.Metrics, r)
		}
		at[id] = len(out)
		out = append(out, sm)
		if inBreach {
			orderBreaching = append(orderBreaching, id)
		}
		if messages {
			messageBreaching = append(messageBreaching, id)
		}
	}

	// The evidence: the ids behind each breach, in the order a case cites them.
	cite := func(seller string, metric int, id string) {
		r := &out[at[seller]].Metrics[metric]
		if r.Status == health.Bad && len(r.EvidenceIDs) < MaxEvidenceIDs {
			r.EvidenceIDs = append(r.EvidenceIDs, id)
		}
	}
	for _, part := range chunkStrings(orderBreaching, evidenceSellersPerQuery) {
		var orderID string
		flags := make([]int, len(orderMetrics))
		dst := []any{&orderID}
		for i := range flags {
			dst = append(dst, &flags[i])
		}
		err := scan("order evidence", orderEvidenceSQL(), append(args, sql.Named("ids", part)), dst, func(seller string) {
			for i, m := range orderMetrics {
				if flags[i] == 1 {
					cite(seller, metricIndex[m.id], orderID)
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	for _, part := range chunkStrings(messageBreaching, evidenceSellersPerQuery) {
		var messageID string
		err := scan("message evidence", messageEvidenceSQL, append(args, sql.Named("ids", part)), []any{&messageID}, func(seller string) {
			cite(seller, resp, messageID)
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MaxEvidenceIDs bounds the ids kept behind one breach; the counts stay exact.
const MaxEvidenceIDs = 1000

// evidenceSellersPerQuery bounds the sellers one evidence query names, within
// SQLite's limit on a statement's parameters.
const evidenceSellersPerQuery = 1000

func chunkStrings(s []string, n int) [][]string {
	var out [][]string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

// windowArgs are the named bounds of every window at now.
func windowArgs(now time.Time, p health.Policy) []sql.NamedArg {
	args := []sql.NamedArg{
		sql.Named("now", ms(now)),
		sql.Named("rating_from", ms(now.Add(-health.RatingLookback))),
		sql.Named("response_due", ms(now.Add(-24*time.Hour))),
	}
	earliest := now.Add(-max(health.RatingLookback, health.ExpiredWindow))
	args = append(args, sql.Named("expired_from", ms(now.Add(-health.ExpiredWindow))))
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
