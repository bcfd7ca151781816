package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

func count(t *testing.T, st *store.Store, table string) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIngest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "One", Email: "one@example.com"}, "h1"); err != nil {
			t.Fatal(err)
		}
		s := &script{seller: "s1"}
		o := s.place("a", now.Add(-day))
		s.on(health.OrderShipped, o, now.Add(-day+time1h), func(e *health.Event) { e.TrackingNumber = "T1" })
		s.ev(health.Event{Type: health.BuyerMessage, At: now.Add(-day), SellerID: "s1", MessageID: "m1", NeedsResponse: true})
		s.ev(health.Event{Type: health.MessageResponse, At: now.Add(-day + time1h), MessageID: "m1"})
		batch := append(s.events, s.events[1]) // the same event twice in one batch

		res, err := st.Ingest(ctx, batch, now)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 4 || res.Duplicates != 1 {
			t.Errorf("first batch: %+v, want 4 accepted, 1 duplicate", res)
		}
		res, err = st.Ingest(ctx, s.events, now)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 0 || res.Duplicates != 4 {
			t.Errorf("repeat: %+v, want 0 accepted, 4 duplicates", res)
		}
		mixed := []health.Event{s.events[0], {ID: "s1-new", Type: health.Chargeback, At: now, OrderID: o}, s.events[2]}
		if res, err = st.Ingest(ctx, mixed, now); err != nil || res.Accepted != 1 || res.Duplicates != 2 {
			t.Errorf("new and seen ids: %+v %v, want 1 accepted, 2 duplicates", res, err)
		}
		var chargeback *int64
		if err := st.DB().QueryRow("SELECT chargeback_at FROM orders WHERE order_id = '" + o + "'").Scan(&chargeback); err != nil || chargeback == nil {
			t.Errorf("the new event of a mixed batch was not applied: %v %v", chargeback, err)
		}
		if n := count(t, st, "orders"); n != 1 {
			t.Errorf("%d orders, want 1", n)
		}

		t.Run("one bad reference rejects the batch and stores nothing", func(t *testing.T) {
			before := []int{count(t, st, "processed_events"), count(t, st, "orders"), count(t, st, "buyer_messages")}
			bad := []health.Event{
				{ID: "x1", Type: health.OrderPlaced, At: now, SellerID: "s1", OrderID: "new-1", ShipBy: now.Add(day), DeliverBy: now.Add(2 * day)},
				{ID: "x2", Type: health.Feedback, At: now, OrderID: "nobody-placed-this", Rating: 1},
				{ID: "x3", Type: health.OrderPlaced, At: now, SellerID: "ghost", OrderID: "new-2", ShipBy: now.Add(day), DeliverBy: now.Add(2 * day)},
				{ID: "x4", Type: health.OrderPlaced, At: now, SellerID: "s1", OrderID: o, ShipBy: now.Add(day), DeliverBy: now.Add(2 * day)},
				{ID: "x5", Type: health.MessageResponse, At: now, MessageID: "no-such-message"},
				{ID: "x6", Type: health.Chargeback, At: now, OrderID: "new-1"}, // placed earlier in this batch: fine
			}
			_, err := st.Ingest(ctx, bad, now)
			var be *store.BatchError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want a BatchError", err)
			}
			want := map[int]string{1: "order_id", 2: "seller_id", 3: "order_id", 4: "message_id"}
			if len(be.Problems) != len(want) {
				t.Errorf("problems %v, want indexes %v", be.Problems, want)
			}
			for i, field := range want {
				if be.Problems[i][field] == "" {
					t.Errorf("no problem for events[%d].%s in %v", i, field, be.Problems)
				}
			}
			after := []int{count(t, st, "processed_events"), count(t, st, "orders"), count(t, st, "buyer_messages")}
			if before[0] != after[0] || before[1] != after[1] || before[2] != after[2] {
				t.Errorf("rows before %v, after %v: a rejected batch stored something", before, after)
			}
		})

		// The orders a batch follows up are only found when it is merged: a batch
		// whose one problem is such an order must still be rejected whole.
		t.Run("an unknown followed-up order alone rejects the batch", func(t *testing.T) {
			before := []int{count(t, st, "processed_events"), count(t, st, "orders"), count(t, st, "buyer_messages")}
			var delivered *int64
			bad := []health.Event{
				{ID: "z1", Type: health.OrderPlaced, At: now, SellerID: "s1", OrderID: "new-3", ShipBy: now.Add(day), DeliverBy: now.Add(2 * day)},
				{ID: "z2", Type: health.OrderDelivered, At: now, OrderID: o}, // stored before: fine
				{ID: "z3", Type: health.OrderShipped, At: now, OrderID: "new-3"},
				{ID: "z4", Type: health.Feedback, At: now, OrderID: "nobody-placed-this", Rating: 1},
				{ID: "z5", Type: health.BuyerMessage, At: now, SellerID: "s1", MessageID: "m9"},
				{ID: "z6", Type: health.Chargeback, At: now, OrderID: "nor-this"},
			}
			_, err := st.Ingest(ctx, bad, now)
			var be *store.BatchError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want a BatchError", err)
			}
			if len(be.Problems) != 2 || be.Problems[3]["order_id"] == "" || be.Problems[5]["order_id"] == "" {
				t.Errorf("problems %v, want order_id of events 3 and 5", be.Problems)
			}
			after := []int{count(t, st, "processed_events"), count(t, st, "orders"), count(t, st, "buyer_messages")}
			if before[0] != after[0] || before[1] != after[1] || before[2] != after[2] {
				t.Errorf("rows before %v, after %v: a rejected batch stored something", before, after)
			}
			if err := st.DB().QueryRow("SELECT delivered_at FROM orders WHERE order_id = '" + o + "'").Scan(&delivered); err != nil || delivered != nil {
				t.Errorf("a rejected batch delivered order %s: %v %v", o, delivered, err)
			}
		})

		t.Run("follow-ups may come before their order in the batch", func(t *testing.T) {
			evs := []health.Event{
				{ID: "y1", Type: health.OrderShipped, At: now.Add(time1h), OrderID: "late-1", TrackingNumber: "TT"},
				{ID: "y2", Type: health.OrderPlaced, At: now, SellerID: "s1", OrderID: "late-1", ShipBy: now.Add(day), DeliverBy: now.Add(2 * day)},
			}
			if _, err := st.Ingest(ctx, evs, now); err != nil {
				t.Fatal(err)
			}
			var tracking string
			if err := st.DB().QueryRow("SELECT tracking_number FROM orders WHERE order_id = 'late-1'").Scan(&tracking); err != nil || tracking != "TT" {
				t.Errorf("tracking = %q, %v", tracking, err)
			}
		})
	})
}

// An order's row is the same whether its events come in one batch (written by
// the INSERT) or one per batch (merged by UPDATEs), whatever their order.
func TestOneBatchOrManyGiveTheSameOrders(t *testing.T) {
	build := func(seller string) []health.Event {
		s := &script{seller: seller}
		a := s.place("a", now.Add(-5*day))
		s.on(health.OrderShipped, a, now.Add(-4*day), func(e *health.Event) { e.TrackingNumber, e.Carrier = "T2", "UPS" })
		s.on(health.OrderShipped, a, now.Add(-4*day-time1h), func(e *health.Event) { e.TrackingNumber = "" }) // earlier, no number
		s.on(health.TrackingScanned, a, now.Add(-3*day), nil)
		s.on(health.TrackingScanned, a, now.Add(-3*day-time1h), nil)
		s.on(health.OrderDelivered, a, now.Add(-day), nil)
		s.on(health.AToZClaim, a, now.Add(-2*day), func(e *health.Event) { e.Outcome = health.ClaimDenied })
		s.on(health.AToZClaim, a, now.Add(-3*day), func(e *health.Event) { e.Outcome = health.ClaimOpen }) // older, arrives later
		s.on(health.Feedback, a, now.Add(-2*day), func(e *health.Event) { e.Rating = 5 })
		s.on(health.Feedback, a, now.Add(-day), func(e *health.Event) { e.Rating = 2 })
		s.on(health.Chargeback, a, now.Add(-day), nil)
		b := s.place("b", now.Add(-5*day))
		s.on(health.OrderCancelled, b, now.Add(-4*day), func(e *health.Event) { e.By = health.CancelledByBuyer })
		s.on(health.OrderCancelled, b, now.Add(-5*day+time1h), func(e *health.Event) { e.By = health.CancelledBySeller })
		s.place("c", now.Add(-5*day)) // nothing else happens to it
		return s.events
	}
	row := func(t *testing.T, st *store.Store, id string) string {
		t.Helper()
		r, err := st.DB().Query(`SELECT placed_at, ship_by, deliver_by, shipped_at, tracking_number, carrier, first_scan_at, delivered_at,
			cancelled_at, cancelled_by, claim_outcome, claim_at, chargeback_at, feedback_rating, feedback_at FROM orders WHERE order_id = '` + id + `'`)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if !r.Next() {
			t.Fatalf("no order %s", id)
		}
		v := make([]any, 15)
		p := make([]any, 15)
		for i := range v {
			p[i] = &v[i]
		}
		if err := r.Scan(p...); err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, x := range v {
			if b, ok := x.([]byte); ok {
				x = string(b)
			}
			out += fmt.Sprintf("%v|", x)
		}
		return out
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for _, id := range []string{"one", "many"} {
			if _, err := st.CreateSeller(ctx, store.Seller{ID: id, Name: id, Email: id + "@example.com"}, "h-"+id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.Ingest(ctx, build("one"), now); err != nil {
			t.Fatal(err)
		}
		for _, e := range build("many") {
			if _, err := st.Ingest(ctx, []health.Event{e}, now); err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range []string{"a", "b", "c"} {
			one, many := row(t, st, "one-"+o), row(t, st, "many-"+o)
			if one != many {
				t.Errorf("order %s: one batch gives %s, one event per batch %s", o, one, many)
			}
		}
		// And the merge itself: the first shipment with its number, the latest claim and feedback.
		if got := row(t, st, "one-a"); !strings.Contains(got, "|T2|UPS|") || !strings.Contains(got, "|denied|") || !strings.Contains(got, "|2|") {
			t.Errorf("order a = %s", got)
		}
	})
}
