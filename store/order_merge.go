package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/accounthealth/accounthealth/health"
)

// orderDelta is what one batch says of one order: its fresh events folded, in
// batch order, by the rule of health.OrderFacts. Merging it into the stored row
// (updateOrdersSQL) continues that fold across batches.
type orderDelta struct {
	orderID string
	facts   health.OrderFacts
	// claimFiledAt is the latest claim filed (outcome open) among the events:
	// the fold keeps only the latest claim event, which may be its outcome.
	claimFiledAt *time.Time
}

// apply folds e into the delta at the precision the row keeps, so the batch
// compares instants as updateOrdersSQL compares them across batches.
func (d *orderDelta) apply(e health.Event) {
	e.At = e.At.Truncate(time.Millisecond)
	d.facts.Apply(e)
	if e.Type == health.AToZClaim && e.Outcome == health.ClaimOpen && (d.claimFiledAt == nil || e.At.After(*d.claimFiledAt)) {
		at := e.At
		d.claimFiledAt = &at
	}
}

// renewal is a decided dispute's defect whose fact a batch replaces with a new
// one (health.Renews).
type renewal struct {
	orderID string
	defect  health.Defect
}

// renewals finds, before the deltas are merged, the decided disputes whose fact
// they replace with a new one the decision did not judge. Only orders with such
// a dispute are read, and only when the delta carries a feedback or a claim.
func (b batch) renewals(deltas []*orderDelta) ([]renewal, error) {
	byID := map[string]*orderDelta{}
	var ids []string
	for _, d := range deltas {
		if d.facts.FeedbackAt != nil || d.claimFiledAt != nil {
			byID[d.orderID] = d
			ids = append(ids, d.orderID)
		}
	}
	var out []renewal
	for _, c := range chunks(len(ids), maxParams(b.dialect)-10) {
		var rows []struct {
			OrderID, Defect     string
			FeedbackAt, ClaimAt *int64
			FeedbackRating      *int
		}
		err := b.tx.Raw(`SELECT dd.order_id, dd.defect, o.feedback_at, o.feedback_rating, o.claim_at
			FROM dispute_defects dd JOIN disputes d ON d.id = dd.dispute_id JOIN orders o ON o.order_id = dd.order_id
			WHERE dd.order_id IN ? AND dd.defect IN ? AND d.status <> ?`,
			ids[c.from:c.from+c.n], []string{string(health.DefectNegativeFeedback), string(health.DefectAToZClaim)}, DisputeOpen).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("disputes of the batch's orders: %w", err)
		}
		for _, r := range rows {
			judged := health.OrderFacts{FeedbackAt: timePtr(r.FeedbackAt), ClaimAt: timePtr(r.ClaimAt)}
			if r.FeedbackRating != nil {
				judged.FeedbackRating = *r.FeedbackRating
			}
			d := byID[r.OrderID]
			if health.Renews(health.Defect(r.Defect), judged, d.facts, d.claimFiledAt) {
				out = append(out, renewal{orderID: r.OrderID, defect: health.Defect(r.Defect)})
			}
		}
	}
	return out, nil
}

// renew ends what the decisions of renewed facts said: the excuse of an upheld
// one no longer hides the new fact, and the claim that a defect is disputed once
// is released, so the seller may dispute the new fact.
func (b batch) renew(rs []renewal) error {
	for _, r := range rs {
		bit := r.defect.Bit()
		err := b.tx.Exec("UPDATE orders SET excused_defects = excused_defects - (excused_defects & ?) WHERE order_id = ?", bit, r.orderID).Error
		if err != nil {
			return fmt.Errorf("end the excuse of the %s of order %s: %w", r.defect, r.orderID, err)
		}
		if err := b.tx.Where("order_id = ? AND defect = ?", r.orderID, string(r.defect)).Delete(&disputeDefect{}).Error; err != nil {
			return fmt.Errorf("release the dispute of the %s of order %s: %w", r.defect, r.orderID, err)
		}
	}
	return nil
}

func timePtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMS(*v)
	return &t
}

// deltaColumns are the delta as stored, in the column order insertOrders and
// updateOrdersSQL share.
var deltaColumns = []string{"shipped_at bigint", "tracking_number text", "carrier text", "first_scan_at bigint", "delivered_at bigint",
	"cancelled_at bigint", "cancelled_by text", "claim_outcome text", "claim_at bigint", "chargeback_at bigint",
	"feedback_rating integer", "feedback_at bigint", "returned_at bigint", "seller_refund_at bigint", "marketplace_refund_at bigint"}

// columns are the delta's values in deltaColumns' order.
func (d *orderDelta) columns() []any {
	f := d.facts
	var rating *int
	if f.FeedbackAt != nil {
		rating = &f.FeedbackRating
	}
	return []any{msPtr(f.ShippedAt), nullString(f.TrackingNumber), nullString(f.Carrier), msPtr(f.FirstScanAt), msPtr(f.DeliveredAt),
		msPtr(f.CancelledAt), nullString(f.CancelledBy), nullString(f.ClaimOutcome), msPtr(f.ClaimAt), msPtr(f.ChargebackAt),
		rating, msPtr(f.FeedbackAt), msPtr(f.ReturnedAt), msPtr(f.SellerRefundAt), msPtr(f.MarketplaceRefundAt)}
}

// insertOrders inserts the orders placed in the batch, each with its delta, and
// takes those deltas out of the map: nothing is left to update for them.
func (b batch) insertOrders(placed []health.Event, deltas map[string]*orderDelta) error {
	rowDeltas := make([]*orderDelta, len(placed))
	for i, e := range placed {
		if d := deltas[e.OrderID]; d != nil {
			rowDeltas[i] = d
			delete(deltas, e.OrderID)
		} else {
			rowDeltas[i] = &orderDelta{}
		}
	}
	columns := append([]string{"order_id text", "seller_id text", "placed_at bigint", "ship_by bigint", "deliver_by bigint"}, deltaColumns...)
	return insertRows(b.tx, b.dialect, "orders", columns, len(placed),
		func(i int) []any {
			e := placed[i]
			return append([]any{e.OrderID, e.SellerID, ms(e.At), ms(e.ShipBy), ms(e.DeliverBy)}, rowDeltas[i].columns()...)
		})
}

// updateOrdersSQL merges a set of deltas (VALUES columns 1-16: the order id, then
// the delta's columns, as VALUES or arrayRows) into their orders by the rule of health.OrderFacts, the
// delta being the later to arrive: a first-counting instant replaces the stored
// one only if strictly earlier, a latest-counting one if not earlier, a tracking
// number or carrier if not empty. Both dialects name the columns of a bare VALUES
// list column1, column2, …
const updateOrdersSQL = `UPDATE orders SET
  shipped_at = CASE WHEN v.column2 IS NOT NULL AND (orders.shipped_at IS NULL OR v.column2 < orders.shipped_at) THEN v.column2 ELSE orders.shipped_at END,
  tracking_number = COALESCE(NULLIF(v.column3, ''), orders.tracking_number),
  carrier = COALESCE(NULLIF(v.column4, ''), orders.carrier),
  first_scan_at = CASE WHEN v.column5 IS NOT NULL AND (orders.first_scan_at IS NULL OR v.column5 < orders.first_scan_at) THEN v.column5 ELSE orders.first_scan_at END,
  delivered_at = CASE WHEN v.column6 IS NOT NULL AND (orders.delivered_at IS NULL OR v.column6 < orders.delivered_at) THEN v.column6 ELSE orders.delivered_at END,
  cancelled_by = CASE WHEN v.column7 IS NOT NULL AND (orders.cancelled_at IS NULL OR v.column7 < orders.cancelled_at) THEN v.column8 ELSE orders.cancelled_by END,
  cancelled_at = CASE WHEN v.column7 IS NOT NULL AND (orders.cancelled_at IS NULL OR v.column7 < orders.cancelled_at) THEN v.column7 ELSE orders.cancelled_at END,
  claim_outcome = CASE WHEN v.column10 IS NOT NULL AND (orders.claim_at IS NULL OR v.column10 >= orders.claim_at) THEN v.column9 ELSE orders.claim_outcome END,
  claim_at = CASE WHEN v.column10 IS NOT NULL AND (orders.claim_at IS NULL OR v.column10 >= orders.claim_at) THEN v.column10 ELSE orders.claim_at END,
  chargeback_at = CASE WHEN v.column11 IS NOT NULL AND (orders.chargeback_at IS NULL OR v.column11 < orders.chargeback_at) THEN v.column11 ELSE orders.chargeback_at END,
  feedback_rating = CASE WHEN v.column13 IS NOT NULL AND (orders.feedback_at IS NULL OR v.column13 >= orders.feedback_at) THEN v.column12 ELSE orders.feedback_rating END,
  feedback_at = CASE WHEN v.column13 IS NOT NULL AND (orders.feedback_at IS NULL OR v.column13 >= orders.feedback_at) THEN v.column13 ELSE orders.feedback_at END,
  returned_at = CASE WHEN v.column14 IS NOT NULL AND (orders.returned_at IS NULL OR v.column14 < orders.returned_at) THEN v.column14 ELSE orders.returned_at END,
  seller_refund_at = CASE WHEN v.column15 IS NOT NULL AND (orders.seller_refund_at IS NULL OR v.column15 < orders.seller_refund_at) THEN v.column15 ELSE orders.seller_refund_at END,
  marketplace_refund_at = CASE WHEN v.column16 IS NOT NULL AND (orders.marketplace_refund_at IS NULL OR v.column16 < orders.marketplace_refund_at) THEN v.column16 ELSE orders.marketplace_refund_at END
FROM (%s) AS v
WHERE orders.order_id = v.column1
RETURNING orders.order_id`

// deltaRow is one VALUES row of updateOrdersSQL: the order id, then deltaColumns
// cast to their types (a bare parameter would have no type for the CASEs).
var deltaRow = func() string {
	casts := []string{"CAST(? AS TEXT)"}
	for _, c := range deltaColumns {
		_, typ, _ := strings.Cut(c, " ")
		casts = append(casts, "CAST(? AS "+strings.ToUpper(typ)+")")
	}
	return "(" + strings.Join(casts, ", ") + ")"
}()

// updateOrders merges the deltas into their orders and returns the ids of the
// orders found: an order missing from them was never placed.
func (b batch) updateOrders(deltas []*orderDelta) ([]string, error) {
	if len(deltas) == 0 {
		return nil, nil
	}
	row := func(i int) []any { return append([]any{deltas[i].orderID}, deltas[i].columns()...) }
	if b.dialect == Postgres {
		// One statement of 16 array parameters whatever the batch's size: a VALUES
		// list of 16 parameters a row cost more to parse and plan than to run.
		types := []string{"text"}
		for _, c := range deltaColumns {
			_, typ, _ := strings.Cut(c, " ")
			types = append(types, typ)
		}
		rows, args := arrayRows(types, len(deltas), row)
		merged, err := pgStrings(b.tx, fmt.Sprintf(updateOrdersSQL, rows), args...)
		if err != nil {
			return nil, fmt.Errorf("update orders: %w", err)
		}
		return merged, nil
	}
	var merged []string
	cols := 1 + len(deltaColumns)
	for _, c := range chunks(len(deltas), maxParams(b.dialect)/cols) {
		args := make([]any, 0, c.n*cols)
		for i := c.from; i < c.from+c.n; i++ {
			args = append(args, row(i)...)
		}
		q := fmt.Sprintf(updateOrdersSQL, "VALUES "+strings.TrimSuffix(strings.Repeat(deltaRow+", ", c.n), ", "))
		ids, err := queryStrings(b.tx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("update orders: %w", err)
		}
		merged = append(merged, ids...)
	}
	return merged, nil
}
