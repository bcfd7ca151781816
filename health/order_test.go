package health_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
)

// showFacts prints facts with their instants, not the pointers' addresses.
func showFacts(f health.OrderFacts) string {
	t := func(p *time.Time) string {
		if p == nil {
			return "-"
		}
		return p.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("shipped %s tracking %q carrier %q scan %s delivered %s cancelled %s by %q claim %s %q chargeback %s feedback %s %d returned %s refunded by seller %s by marketplace %s",
		t(f.ShippedAt), f.TrackingNumber, f.Carrier, t(f.FirstScanAt), t(f.DeliveredAt), t(f.CancelledAt), f.CancelledBy,
		t(f.ClaimAt), f.ClaimOutcome, t(f.ChargebackAt), t(f.FeedbackAt), f.FeedbackRating, t(f.ReturnedAt), t(f.SellerRefundAt), t(f.MarketplaceRefundAt))
}

func TestOrderFactsApply(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	ptr := func(h int) *time.Time { v := at(h); return &v }
	ev := func(typ health.EventType, h int, f func(*health.Event)) health.Event {
		e := health.Event{Type: typ, At: at(h), OrderID: "o"}
		if f != nil {
			f(&e)
		}
		return e
	}
	by := func(who string) func(*health.Event) { return func(e *health.Event) { e.By = who } }
	outcome := func(o string) func(*health.Event) { return func(e *health.Event) { e.Outcome = o } }
	rating := func(r int) func(*health.Event) { return func(e *health.Event) { e.Rating = r } }
	ship := func(tracking, carrier string) func(*health.Event) {
		return func(e *health.Event) { e.TrackingNumber, e.Carrier = tracking, carrier }
	}
	tests := []struct {
		name   string
		events []health.Event
		want   health.OrderFacts
	}{
		{"nothing yet", nil, health.OrderFacts{}},
		{"placement and messages change nothing",
			[]health.Event{ev(health.OrderPlaced, 0, nil), ev(health.BuyerMessage, 1, nil), ev(health.MessageResponse, 2, nil)}, health.OrderFacts{}},
		{"the first shipment counts, the last number and carrier given stay",
			[]health.Event{ev(health.OrderShipped, 5, ship("T1", "UPS")), ev(health.OrderShipped, 3, ship("", "DHL")), ev(health.OrderShipped, 4, ship("T2", ""))},
			health.OrderFacts{ShippedAt: ptr(3), TrackingNumber: "T2", Carrier: "DHL"}},
		{"the first scan, delivery and chargeback count",
			[]health.Event{ev(health.TrackingScanned, 4, nil), ev(health.TrackingScanned, 2, nil), ev(health.OrderDelivered, 6, nil),
				ev(health.OrderDelivered, 7, nil), ev(health.Chargeback, 9, nil), ev(health.Chargeback, 8, nil)},
			health.OrderFacts{FirstScanAt: ptr(2), DeliveredAt: ptr(6), ChargebackAt: ptr(8)}},
		{"the first cancellation counts with who cancelled",
			[]health.Event{ev(health.OrderCancelled, 5, by(health.CancelledByBuyer)), ev(health.OrderCancelled, 2, by(health.CancelledBySeller)), ev(health.OrderCancelled, 3, by(health.CancelledByBuyer))},
			health.OrderFacts{CancelledAt: ptr(2), CancelledBy: health.CancelledBySeller}},
		{"a cancellation at the same instant as the first keeps the first to arrive",
			[]health.Event{ev(health.OrderCancelled, 2, by(health.CancelledByBuyer)), ev(health.OrderCancelled, 2, by(health.CancelledBySeller))},
			health.OrderFacts{CancelledAt: ptr(2), CancelledBy: health.CancelledByBuyer}},
		{"the latest claim counts, even when it arrives first",
			[]health.Event{ev(health.AToZClaim, 5, outcome(health.ClaimDenied)), ev(health.AToZClaim, 3, outcome(health.ClaimOpen))},
			health.OrderFacts{ClaimAt: ptr(5), ClaimOutcome: health.ClaimDenied}},
		{"a claim at the same instant as the latest replaces it",
			[]health.Event{ev(health.AToZClaim, 5, outcome(health.ClaimDenied)), ev(health.AToZClaim, 5, outcome(health.ClaimGranted))},
			health.OrderFacts{ClaimAt: ptr(5), ClaimOutcome: health.ClaimGranted}},
		{"an expiry is a cancellation like any other: the first counts",
			[]health.Event{ev(health.OrderCancelled, 5, by(health.CancelledBySeller)), ev(health.OrderCancelled, 4, by(health.CancelledExpired))},
			health.OrderFacts{CancelledAt: ptr(4), CancelledBy: health.CancelledExpired}},
		{"the first return counts",
			[]health.Event{ev(health.OrderReturned, 7, nil), ev(health.OrderReturned, 6, nil), ev(health.OrderReturned, 9, nil)},
			health.OrderFacts{ReturnedAt: ptr(6)}},
		{"the first refund of each refunder counts, one not hiding the other",
			[]health.Event{ev(health.RefundIssued, 8, by(health.RefundedBySeller)), ev(health.RefundIssued, 3, by(health.RefundedByMarketplace)),
				ev(health.RefundIssued, 6, by(health.RefundedBySeller)), ev(health.RefundIssued, 4, by(health.RefundedByMarketplace))},
			health.OrderFacts{SellerRefundAt: ptr(6), MarketplaceRefundAt: ptr(3)}},
		{"the latest feedback counts; a tie takes the later to arrive",
			[]health.Event{ev(health.Feedback, 4, rating(5)), ev(health.Feedback, 1, rating(1)), ev(health.Feedback, 4, rating(2))},
			health.OrderFacts{FeedbackAt: ptr(4), FeedbackRating: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f health.OrderFacts
			for _, e := range tt.events {
				f.Apply(e)
			}
			if got, want := showFacts(f), showFacts(tt.want); got != want {
				t.Errorf("facts\n got %s\nwant %s", got, want)
			}
		})
	}
}
