package health

import "time"

// OrderFacts is what the events that follow an order's placement say of it: the
// facts the order metrics count. Events may arrive late and out of order, so each
// fact has its own rule:
//   - the first (earliest at) shipment, carrier scan, delivery, cancellation (with
//     who cancelled), chargeback and return count;
//   - refunds count per refunder: the first refund by the seller and the first by
//     the marketplace, each on its own (only the seller's counts in refund_rate, so
//     a marketplace refund before it must not hide it);
//   - for A-to-z claims and feedback the latest (by at) counts;
//   - the tracking number and the carrier are each the last non-empty one to arrive.
//
// Two events of one fact at the same instant are told apart by arrival: for a
// first-counting fact the one that came first stays, for a latest-counting fact
// the one that came later replaces it. The store applies a batch's events in the
// batch's order and merges the result into what earlier batches stored by the same
// rule, so an order's stored facts are always this fold over its events in the
// order they were accepted.
type OrderFacts struct {
	ShippedAt      *time.Time
	TrackingNumber string // "" when no shipment carried one
	Carrier        string
	FirstScanAt    *time.Time
	DeliveredAt    *time.Time
	CancelledAt    *time.Time
	CancelledBy    string
	ClaimAt        *time.Time
	ClaimOutcome   string
	ChargebackAt   *time.Time
	FeedbackAt     *time.Time
	FeedbackRating int // meaningful when FeedbackAt is set
	ReturnedAt     *time.Time
	// The first refund by each refunder.
	SellerRefundAt      *time.Time
	MarketplaceRefundAt *time.Time
}

// Apply folds one later-arriving event of the order into f. Events that do not
// follow an order (placements, messages) change nothing; the caller matches the
// event's order.
func (f *OrderFacts) Apply(e Event) {
	at := e.At
	switch e.Type {
	case OrderShipped:
		first(&f.ShippedAt, at)
		if e.TrackingNumber != "" {
			f.TrackingNumber = e.TrackingNumber
		}
		if e.Carrier != "" {
			f.Carrier = e.Carrier
		}
	case TrackingScanned:
		first(&f.FirstScanAt, at)
	case OrderDelivered:
		first(&f.DeliveredAt, at)
	case OrderCancelled:
		if first(&f.CancelledAt, at) {
			f.CancelledBy = e.By
		}
	case AToZClaim:
		if latest(&f.ClaimAt, at) {
			f.ClaimOutcome = e.Outcome
		}
	case Chargeback:
		first(&f.ChargebackAt, at)
	case Feedback:
		if latest(&f.FeedbackAt, at) {
			f.FeedbackRating = e.Rating
		}
	case OrderReturned:
		first(&f.ReturnedAt, at)
	case RefundIssued:
		switch e.By {
		case RefundedBySeller:
			first(&f.SellerRefundAt, at)
		case RefundedByMarketplace:
			first(&f.MarketplaceRefundAt, at)
		}
	}
}

// first keeps the earliest instant; a tie keeps the one already there.
func first(cur **time.Time, at time.Time) bool {
	if *cur == nil || at.Before(**cur) {
		*cur = &at
		return true
	}
	return false
}

// latest keeps the latest instant; a tie takes the newcomer.
func latest(cur **time.Time, at time.Time) bool {
	if *cur == nil || !at.Before(**cur) {
		*cur = &at
		return true
	}
	return false
}
