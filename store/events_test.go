package store_test

import (
	"context"
	"errors"
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
