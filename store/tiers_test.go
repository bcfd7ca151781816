package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// TestWindowCountsEdges: a window counts the orders placed in [from, to), each
// judged as of `to`, on both databases.
func TestWindowCountsEdges(t *testing.T) {
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "w", Name: "W", Email: "w@example.com"}, "hash-w"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "z", Name: "Z", Email: "z@example.com"}, "hash-z"); err != nil {
			t.Fatal(err)
		}
		s := &script{seller: "w"}
		s.placeN("ok", 10, from)                       // exactly at the start: counted, all good
		s.place("before", from.Add(-time.Millisecond)) // just before: not counted
		s.place("at-end", to)                          // at the end: not counted
		bad := s.place("fb", from.Add(day))
		s.on(health.Feedback, bad, from.Add(2*day), func(e *health.Event) { e.Rating = 1 })
		late := s.place("fbl", from.Add(day))
		s.on(health.Feedback, late, to, func(e *health.Event) { e.Rating = 1 }) // negative feedback after the window: not yet a defect
		cb := s.place("cb", from.Add(day))
		s.on(health.Chargeback, cb, to.Add(-time.Millisecond), nil)
		cx := s.place("cx", from.Add(day))
		s.on(health.OrderCancelled, cx, from.Add(day+time.Hour), func(e *health.Event) { e.By = health.CancelledBySeller })
		bx := s.place("bx", from.Add(day))
		s.on(health.OrderCancelled, bx, from.Add(day+time.Hour), func(e *health.Event) { e.By = health.CancelledByBuyer })
		shippedLate := s.place("sl", from.Add(day))
		s.on(health.OrderShipped, shippedLate, from.Add(3*day), func(e *health.Event) { e.TrackingNumber = "T1" }) // late, tracked, never scanned
		s.place("pending", to.Add(-2*time.Hour))                                                                   // ship-by after the end, unshipped: not late yet
		// Returns: of the 10 delivered in the window, one returned within it, one after it.
		s.on(health.OrderReturned, "w-ok0", from.Add(5*day), nil)
		s.on(health.OrderReturned, "w-ok1", to, nil)
		if _, err := st.Ingest(ctx, s.events, time.Now()); err != nil {
			t.Fatal(err)
		}
		ids, got, err := st.WindowCounts(ctx, store.Shard{From: "a", To: "zz"}, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 2 || got["z"].Orders != 0 {
			t.Errorf("sellers %v, z %+v: every seller of the shard answers, without orders too", ids, got["z"])
		}
		w := got["w"]
		// 10 ok + fb, fbl, cb, cx, bx, sl, pending = 17 orders
		want := map[health.MetricID]health.Fraction{
			health.ODR:               {Num: 2, Den: 17},  // fb and cb
			health.CancelRate:        {Num: 1, Den: 17},  // cx only (bx is the buyer's)
			health.LateShipmentRate:  {Num: 4, Den: 15},  // sl shipped late; fb, fbl, cb never shipped by ship-by (cx, bx cancelled before shipping; pending not due)
			health.ValidTrackingRate: {Num: 10, Den: 11}, // sl has no scan
			health.ReturnRate:        {Num: 1, Den: 10},  // delivered before the end; returned before it
		}
		if w.Orders != 17 {
			t.Errorf("%d orders, want 17", w.Orders)
		}
		for m, f := range want {
			if w.Metrics[m] != f {
				t.Errorf("%s: %+v, want %+v", m, w.Metrics[m], f)
			}
		}
	})
}
