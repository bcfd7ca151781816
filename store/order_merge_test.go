package store_test

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

var orderSeed = flag.Uint64("order-seed", 0, "seed of TestStoredOrdersFollowTheOrderRule (0: from the clock)")

// Whatever batches an order's events come in, and in whatever order, its stored
// row is health.OrderFacts folded over the events in the order the store accepted
// them: the in-batch fold (Go) and the merge across batches (SQL) are one rule.
// Events are random over a few orders, at a few instants (so ties are common,
// some apart by less than the millisecond the row keeps), with repeated ids, cut
// into random batches; a batch naming an order not placed yet is rejected and
// sent again later, split in two.
func TestStoredOrdersFollowTheOrderRule(t *testing.T) {
	seed := *orderSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Logf("seed %d (again: go test ./store -run TestStoredOrdersFollowTheOrderRule -args -order-seed=%d)", seed, seed)
		rng := rand.New(rand.NewPCG(seed, 0))
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "p", Name: "P", Email: "p@example.com"}, "h-p"); err != nil {
			t.Fatal(err)
		}
		for round := range 40 {
			events := randomOrderEvents(rng, fmt.Sprintf("r%d", round), 3)
			accepted := ingestInRandomBatches(t, st, rng, events)

			want := map[string]string{}
			facts := map[string]*health.OrderFacts{}
			for _, e := range accepted {
				if e.Type == health.OrderPlaced {
					want[e.OrderID] = fmt.Sprintf("placed %d ship-by %d deliver-by %d", e.At.UnixMilli(), e.ShipBy.UnixMilli(), e.DeliverBy.UnixMilli())
					facts[e.OrderID] = &health.OrderFacts{}
				}
			}
			for _, e := range accepted {
				if e.Type != health.OrderPlaced {
					e.At = e.At.Truncate(time.Millisecond) // the precision a row keeps
					facts[e.OrderID].Apply(e)
				}
			}
			for id, f := range facts {
				want[id] += " " + factsString(*f)
			}
			got := storedOrders(t, st, fmt.Sprintf("r%d-%%", round))
			if len(got) != len(want) {
				t.Fatalf("round %d: %d orders stored, want %d", round, len(got), len(want))
			}
			for id, w := range want {
				if got[id] != w {
					t.Errorf("round %d, order %s:\n stored %s\n   rule %s", round, id, got[id], w)
				}
			}
			if t.Failed() {
				for _, e := range accepted {
					t.Logf("accepted %s %s %s at %s tracking %q carrier %q by %q outcome %q rating %d",
						e.ID, e.OrderID, e.Type, e.At.Format(time.RFC3339Nano), e.TrackingNumber, e.Carrier, e.By, e.Outcome, e.Rating)
				}
				t.FailNow()
			}
		}
	})
}

// randomOrderEvents places n orders and follows each with up to 10 random events,
// shuffled together; some ids come again, some with other contents.
func randomOrderEvents(rng *rand.Rand, prefix string, n int) []health.Event {
	base := now.Add(-10 * day)
	// A few hours and two sub-millisecond offsets: many events share an instant.
	hours := 2 + rng.IntN(3)
	at := func() time.Time {
		return base.Add(time.Duration(rng.IntN(hours))*time.Hour + time.Duration(rng.IntN(2))*400*time.Microsecond)
	}
	// A round draws its events from a few types only, so that one order often
	// gets several events of a type: where the rule's choices are.
	kinds := rng.Perm(9)[:1+rng.IntN(2)]
	pick := func(of ...string) string { return of[rng.IntN(len(of))] }
	var out []health.Event
	seq := 0
	add := func(e health.Event) {
		seq++
		e.ID = fmt.Sprintf("%s-e%d", prefix, seq)
		out = append(out, e)
	}
	for k := range n {
		oid := fmt.Sprintf("%s-o%d", prefix, k)
		add(health.Event{Type: health.OrderPlaced, At: base, SellerID: "p", OrderID: oid, ShipBy: base.Add(day), DeliverBy: base.Add(5 * day)})
		for range rng.IntN(11) {
			e := health.Event{At: at(), OrderID: oid}
			switch kinds[rng.IntN(len(kinds))] {
			case 0:
				e.Type, e.TrackingNumber, e.Carrier = health.OrderShipped, pick("", "T1", "T2"), pick("", "UPS", "DHL")
			case 1:
				e.Type = health.TrackingScanned
			case 2:
				e.Type = health.OrderDelivered
			case 3:
				e.Type, e.By = health.OrderCancelled, pick(health.CancelledBySeller, health.CancelledByBuyer, health.CancelledExpired)
			case 4:
				e.Type, e.Outcome = health.AToZClaim, pick(health.ClaimOpen, health.ClaimGranted, health.ClaimDenied)
			case 5:
				e.Type = health.Chargeback
			case 6:
				e.Type, e.Rating = health.Feedback, 1+rng.IntN(5)
			case 7:
				e.Type = health.OrderReturned
			case 8:
				e.Type, e.By = health.RefundIssued, pick(health.RefundedBySeller, health.RefundedByMarketplace)
			}
			add(e)
		}
	}
	// Repeats: a redelivery, or a client reusing an id for other contents.
	for range rng.IntN(4) {
		e := out[rng.IntN(len(out))]
		if e.Type == health.OrderPlaced {
			continue
		}
		if rng.IntN(2) == 0 {
			e.At, e.Rating, e.Outcome = at(), 1+rng.IntN(5), pick(health.ClaimOpen, health.ClaimDenied)
			if e.Type == health.RefundIssued {
				e.By = pick(health.RefundedBySeller, health.RefundedByMarketplace)
			}
		}
		out = append(out, e)
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// ingestInRandomBatches ingests events in random batches and returns the events
// the store accepted (first sight of their id), in the order it accepted them. A
// rejected batch must store nothing; it is sent again at the end, halved.
func ingestInRandomBatches(t *testing.T, st *store.Store, rng *rand.Rand, events []health.Event) []health.Event {
	t.Helper()
	var queue [][]health.Event
	for from := 0; from < len(events); {
		n := min(1+rng.IntN(12), len(events)-from)
		queue = append(queue, events[from:from+n])
		from += n
	}
	seen := map[string]bool{}
	var accepted []health.Event
	for len(queue) > 0 {
		b := queue[0]
		queue = queue[1:]
		res, err := st.Ingest(context.Background(), b, now)
		var be *store.BatchError
		if errors.As(err, &be) {
			if h := len(b) / 2; h > 0 {
				queue = append(queue, b[:h], b[h:])
			} else {
				queue = append(queue, b)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		fresh := 0
		for _, e := range b {
			if !seen[e.ID] {
				seen[e.ID] = true
				accepted = append(accepted, e)
				fresh++
			}
		}
		if res.Accepted != fresh || res.Duplicates != len(b)-fresh {
			t.Fatalf("batch of %d with %d new ids: %+v", len(b), fresh, res)
		}
	}
	return accepted
}

// storedOrders reads the orders whose id is LIKE pattern, each as factsString
// after its placement.
func storedOrders(t *testing.T, st *store.Store, pattern string) map[string]string {
	t.Helper()
	rows, err := st.DB().Query(`SELECT order_id, placed_at, ship_by, deliver_by, shipped_at, tracking_number, carrier, first_scan_at,
		delivered_at, cancelled_at, cancelled_by, claim_outcome, claim_at, chargeback_at, feedback_rating, feedback_at,
		returned_at, seller_refund_at, marketplace_refund_at
		FROM orders WHERE order_id LIKE '` + pattern + `'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var (
			id                                                       string
			placed, shipBy, deliverBy                                int64
			shipped, scan, delivered, cancelled, claim, charge, fbAt sql.NullInt64
			returned, sellerRefund, marketplaceRefund                sql.NullInt64
			rating                                                   sql.NullInt64
			tracking, carrier, by, outcome                           sql.NullString
		)
		if err := rows.Scan(&id, &placed, &shipBy, &deliverBy, &shipped, &tracking, &carrier, &scan, &delivered, &cancelled, &by,
			&outcome, &claim, &charge, &rating, &fbAt, &returned, &sellerRefund, &marketplaceRefund); err != nil {
			t.Fatal(err)
		}
		at := func(v sql.NullInt64) *time.Time {
			if !v.Valid {
				return nil
			}
			x := time.UnixMilli(v.Int64).UTC()
			return &x
		}
		f := health.OrderFacts{ShippedAt: at(shipped), TrackingNumber: tracking.String, Carrier: carrier.String, FirstScanAt: at(scan),
			DeliveredAt: at(delivered), CancelledAt: at(cancelled), CancelledBy: by.String, ClaimAt: at(claim), ClaimOutcome: outcome.String,
			ChargebackAt: at(charge), FeedbackAt: at(fbAt), FeedbackRating: int(rating.Int64),
			ReturnedAt: at(returned), SellerRefundAt: at(sellerRefund), MarketplaceRefundAt: at(marketplaceRefund)}
		out[id] = fmt.Sprintf("placed %d ship-by %d deliver-by %d %s", placed, shipBy, deliverBy, factsString(f))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// factsString prints facts with their instants, not the pointers' addresses.
func factsString(f health.OrderFacts) string {
	t := func(p *time.Time) string {
		if p == nil {
			return "-"
		}
		return p.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("shipped %s tracking %q carrier %q scan %s delivered %s cancelled %s by %q claim %s %q chargeback %s feedback %s %d returned %s refunded by seller %s by marketplace %s",
		t(f.ShippedAt), f.TrackingNumber, f.Carrier, t(f.FirstScanAt), t(f.DeliveredAt), t(f.CancelledAt), f.CancelledBy,
		t(f.ClaimAt), f.ClaimOutcome, t(f.ChargebackAt), t(f.FeedbackAt), f.FeedbackRating, t(f.ReturnedAt), t(f.SellerRefundAt), t(f.MarketplaceRefundAt))
}

// A row keeps instants to the millisecond, so instants closer than that are a
// tie in one batch as they are across two: the first cancellation to arrive stays.
func TestInstantsWithinAMillisecondTie(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "One", Email: "one@example.com"}, "h1"); err != nil {
			t.Fatal(err)
		}
		at := now.Add(-day)
		s := &script{seller: "s1"}
		for _, split := range []bool{false, true} {
			s.events = nil
			o := s.place(fmt.Sprintf("split-%v", split), at)
			s.on(health.OrderCancelled, o, at.Add(time1h+400*time.Microsecond), func(e *health.Event) { e.By = health.CancelledByBuyer })
			s.on(health.OrderCancelled, o, at.Add(time1h), func(e *health.Event) { e.By = health.CancelledBySeller })
			batches := [][]health.Event{s.events}
			if split {
				batches = [][]health.Event{s.events[:2], s.events[2:]}
			}
			for _, b := range batches {
				if _, err := st.Ingest(ctx, b, now); err != nil {
					t.Fatal(err)
				}
			}
			var by string
			if err := st.DB().QueryRow("SELECT cancelled_by FROM orders WHERE order_id = '" + o + "'").Scan(&by); err != nil || by != health.CancelledByBuyer {
				t.Errorf("split %v: cancelled by %q (%v), want the first to arrive, buyer", split, by, err)
			}
		}
	})
}
