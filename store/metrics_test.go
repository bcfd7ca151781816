package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	day    = 24 * time.Hour
	time1h = time.Hour
)

// script builds the events of one seller in a readable way.
type script struct {
	seller string
	n      int
	events []health.Event
}

func (s *script) ev(e health.Event) {
	s.n++
	e.ID = fmt.Sprintf("%s-e%d", s.seller, s.n)
	s.events = append(s.events, e)
}

// place adds an order placed at `at`, with ship-by a day and deliver-by five days later.
func (s *script) place(id string, at time.Time) string {
	oid := s.seller + "-" + id
	s.ev(health.Event{Type: health.OrderPlaced, At: at, SellerID: s.seller, OrderID: oid, ShipBy: at.Add(day), DeliverBy: at.Add(5 * day)})
	return oid
}

// placeN adds n plain orders placed at `at`, shipped on time with tracking, scanned, delivered on time.
func (s *script) placeN(prefix string, n int, at time.Time) {
	for i := range n {
		s.placeDelivered(fmt.Sprintf("%s%d", prefix, i), at)
	}
}

// placeDelivered adds a plain order placed at `at`, shipped on time with
// tracking, scanned, and delivered two days after it was placed.
func (s *script) placeDelivered(id string, at time.Time) string {
	oid := s.place(id, at)
	s.ev(health.Event{Type: health.OrderShipped, At: at.Add(time.Hour), OrderID: oid, TrackingNumber: "T" + oid, Carrier: "UPS"})
	s.ev(health.Event{Type: health.TrackingScanned, At: at.Add(2 * time.Hour), OrderID: oid})
	s.ev(health.Event{Type: health.OrderDelivered, At: at.Add(2 * day), OrderID: oid})
	return oid
}

// rate sets an order's feedback rating.
func rate(r int) func(*health.Event) { return func(e *health.Event) { e.Rating = r } }

// by sets who cancelled or refunded.
func by(who string) func(*health.Event) { return func(e *health.Event) { e.By = who } }

func (s *script) on(t health.EventType, oid string, at time.Time, f func(*health.Event)) {
	e := health.Event{Type: t, At: at, OrderID: oid}
	if f != nil {
		f(&e)
	}
	s.ev(e)
}

func metricOf(t *testing.T, sm store.SellerMetrics, m health.MetricID) store.MetricResult {
	t.Helper()
	for _, r := range sm.Metrics {
		if r.Metric == m {
			return r
		}
	}
	t.Fatalf("no %s in result", m)
	return store.MetricResult{}
}

func TestMetricRules(t *testing.T) {
	p := health.DefaultPolicy()
	cases := []struct {
		name   string
		metric health.MetricID
		build  func(s *script)
		num    int64
		den    int64
		status health.Status
		// evidence: for a breach, the ids cited (after the seller's prefix), in order
		evidence []string
	}{
		{"odr: one negative feedback in ten", health.ODR, func(s *script) {
			s.placeN("o", 9, now.Add(-10*day))
			o := s.place("bad", now.Add(-10*day))
			s.on(health.Feedback, o, now.Add(-8*day), func(e *health.Event) { e.Rating = 1 })
		}, 1, 10, health.Bad, []string{"bad"}},
		{"odr: exactly at the target is a breach of < 1%", health.ODR, func(s *script) {
			s.placeN("o", 99, now.Add(-3*day))
			o := s.place("bad", now.Add(-3*day))
			s.on(health.Chargeback, o, now.Add(-1*day), nil)
		}, 1, 100, health.Bad, []string{"bad"}},
		{"odr: just under the target", health.ODR, func(s *script) {
			s.placeN("o", 100, now.Add(-3*day))
			o := s.place("bad", now.Add(-3*day))
			s.on(health.Chargeback, o, now.Add(-1*day), nil)
		}, 1, 101, health.Good, nil},
		{"odr: exactly the minimum denominator counts", health.ODR, func(s *script) {
			s.placeN("o", 10, now.Add(-3*day))
		}, 0, 10, health.Good, nil},
		{"odr: one under the minimum is insufficient data, not a breach", health.ODR, func(s *script) {
			s.placeN("o", 8, now.Add(-3*day))
			o := s.place("bad", now.Add(-3*day))
			s.on(health.AToZClaim, o, now.Add(-2*day), func(e *health.Event) { e.Outcome = health.ClaimGranted })
		}, 1, 9, health.InsufficientData, nil},
		{"odr: placed one second outside the window is not counted", health.ODR, func(s *script) {
			s.placeN("o", 10, now.Add(-3*day))
			o := s.place("old", now.Add(-60*day-time.Second))
			s.on(health.Feedback, o, now.Add(-50*day), func(e *health.Event) { e.Rating = 1 })
		}, 0, 10, health.Good, nil},
		{"odr: placed exactly at the window start is counted (by order date, not claim date)", health.ODR, func(s *script) {
			s.placeN("o", 10, now.Add(-3*day))
			o := s.place("edge", now.Add(-60*day))
			s.on(health.Feedback, o, now.Add(-1*day), func(e *health.Event) { e.Rating = 2 })
		}, 1, 11, health.Bad, []string{"edge"}},
		{"odr: a claim later denied is no defect, whatever the arrival order", health.ODR, func(s *script) {
			s.placeN("o", 10, now.Add(-3*day))
			a := s.place("a", now.Add(-5*day))
			s.on(health.AToZClaim, a, now.Add(-4*day), func(e *health.Event) { e.Outcome = health.ClaimOpen })
			s.on(health.AToZClaim, a, now.Add(-2*day), func(e *health.Event) { e.Outcome = health.ClaimDenied })
			b := s.place("b", now.Add(-5*day))
			// the later decision arrives first
			s.on(health.AToZClaim, b, now.Add(-2*day), func(e *health.Event) { e.Outcome = health.ClaimDenied })
			s.on(health.AToZClaim, b, now.Add(-4*day), func(e *health.Event) { e.Outcome = health.ClaimOpen })
		}, 0, 12, health.Good, nil},
		{"odr: feedback revised from 1 to 5 is no defect; from 5 to 2 is one", health.ODR, func(s *script) {
			s.placeN("o", 10, now.Add(-3*day))
			a := s.place("a", now.Add(-5*day))
			s.on(health.Feedback, a, now.Add(-4*day), func(e *health.Event) { e.Rating = 1 })
			s.on(health.Feedback, a, now.Add(-3*day), func(e *health.Event) { e.Rating = 5 })
			b := s.place("b", now.Add(-5*day))
			s.on(health.Feedback, b, now.Add(-4*day), func(e *health.Event) { e.Rating = 5 })
			s.on(health.Feedback, b, now.Add(-3*day), func(e *health.Event) { e.Rating = 2 })
		}, 1, 12, health.Bad, []string{"b"}},
		{"odr: evidence is oldest first, any id kept whole", health.ODR, func(s *script) {
			s.placeN("o", 10, now.Add(-3*day))
			newer := s.place(`a,"b"`, now.Add(-4*day))
			s.on(health.Chargeback, newer, now.Add(-1*day), nil)
			older := s.place("z]\n", now.Add(-5*day))
			s.on(health.Feedback, older, now.Add(-2*day), func(e *health.Event) { e.Rating = 1 })
		}, 2, 12, health.Bad, []string{"z]\n", `a,"b"`}},
		{"cancel: by the buyer is not the seller's", health.CancelRate, func(s *script) {
			for i := range 10 {
				o := s.place(fmt.Sprint(i), now.Add(-2*day))
				if i == 0 {
					s.on(health.OrderCancelled, o, now.Add(-2*day+time.Hour), func(e *health.Event) { e.By = health.CancelledByBuyer })
				}
			}
		}, 0, 10, health.Good, nil},
		{"cancel: by the seller before shipping counts, after shipping does not", health.CancelRate, func(s *script) {
			for i := range 10 {
				o := s.place(fmt.Sprint(i), now.Add(-2*day))
				switch i {
				case 0:
					s.on(health.OrderCancelled, o, now.Add(-2*day+time.Hour), func(e *health.Event) { e.By = health.CancelledBySeller })
				case 1:
					s.on(health.OrderShipped, o, now.Add(-2*day+time.Hour), func(e *health.Event) { e.TrackingNumber = "x" })
					s.on(health.OrderCancelled, o, now.Add(-2*day+2*time.Hour), func(e *health.Event) { e.By = health.CancelledBySeller })
				}
			}
			s.place("old", now.Add(-7*day-time.Second)) // outside the 7-day window
		}, 1, 10, health.Bad, []string{"0"}},
		{"late: shipped after ship-by, at ship-by, never; cancelled ones left out", health.LateShipmentRate, func(s *script) {
			s.placeN("o", 8, now.Add(-10*day)) // on time
			late := s.place("late", now.Add(-10*day))
			s.on(health.OrderShipped, late, now.Add(-9*day+time.Second), nil)
			edge := s.place("edge", now.Add(-10*day))
			s.on(health.OrderShipped, edge, now.Add(-9*day), nil) // exactly at ship-by: on time
			s.place("never", now.Add(-10*day))                    // still unshipped: late
			gone := s.place("gone", now.Add(-10*day))
			s.on(health.OrderCancelled, gone, now.Add(-10*day+time.Hour), func(e *health.Event) { e.By = health.CancelledByBuyer })
			s.place("future", now.Add(-time.Hour)) // ship-by still ahead
		}, 2, 11, health.Bad, []string{"late", "never"}},
		{"tracking: shipped without a tracking number or without a scan is not valid", health.ValidTrackingRate, func(s *script) {
			s.placeN("o", 18, now.Add(-10*day))
			a := s.place("a", now.Add(-10*day))
			s.on(health.OrderShipped, a, now.Add(-10*day+time.Hour), func(e *health.Event) { e.TrackingNumber = "" })
			s.on(health.TrackingScanned, a, now.Add(-9*day), nil)
			b := s.place("b", now.Add(-10*day))
			s.on(health.OrderShipped, b, now.Add(-10*day+time.Hour), func(e *health.Event) { e.TrackingNumber = "TB" })
		}, 18, 20, health.Bad, []string{"a", "b"}}, // the orders that failed
		{"on-time delivery: at deliver-by is on time, after is late, unscanned left out", health.OnTimeDeliveryRate, func(s *script) {
			for i := range 10 {
				o := s.place(fmt.Sprint(i), now.Add(-20*day))
				s.on(health.OrderShipped, o, now.Add(-20*day+time.Hour), func(e *health.Event) { e.TrackingNumber = "t" })
				if i < 9 {
					s.on(health.TrackingScanned, o, now.Add(-20*day+2*time.Hour), nil)
				}
				at := now.Add(-15 * day) // exactly deliver-by
				if i == 0 {
					at = at.Add(time.Second)
				}
				s.on(health.OrderDelivered, o, at, nil)
			}
		}, 8, 9, health.InsufficientData, nil},
		{"cancel: an expired order is the seller's cancellation; exactly at the target is a breach", health.CancelRate, func(s *script) {
			s.placeN("o", 39, now.Add(-2*day))
			x := s.place("expired", now.Add(-2*day))
			s.on(health.OrderCancelled, x, now.Add(-day), by(health.CancelledExpired))
			old := s.place("old", now.Add(-7*day-time.Second)) // expired, but placed outside the 7-day window
			s.on(health.OrderCancelled, old, now.Add(-5*day), by(health.CancelledExpired))
		}, 1, 40, health.Bad, []string{"expired"}}, // 1/40 = 2.5%, not < 2.5%
		{"return: exactly at the target is a breach of < 10%", health.ReturnRate, func(s *script) {
			s.placeN("o", 9, now.Add(-10*day))
			r := s.placeDelivered("ret", now.Add(-10*day))
			s.on(health.OrderReturned, r, now.Add(-5*day), nil)
		}, 1, 10, health.Bad, []string{"ret"}},
		{"return: just under the target", health.ReturnRate, func(s *script) {
			s.placeN("o", 10, now.Add(-10*day))
			r := s.placeDelivered("ret", now.Add(-10*day))
			s.on(health.OrderReturned, r, now.Add(-5*day), nil)
		}, 1, 11, health.Good, nil},
		{"return: one under the minimum is insufficient data", health.ReturnRate, func(s *script) {
			s.placeN("o", 6, now.Add(-10*day))
			for i := range 3 {
				r := s.placeDelivered(fmt.Sprint("ret", i), now.Add(-10*day))
				s.on(health.OrderReturned, r, now.Add(-5*day), nil)
			}
		}, 3, 9, health.InsufficientData, nil},
		{"return: delivered one second outside the window is not counted, at its start is", health.ReturnRate, func(s *script) {
			s.placeN("o", 9, now.Add(-10*day))
			edge := s.placeDelivered("edge", now.Add(-32*day)) // delivered exactly at now - 30 days
			s.on(health.OrderReturned, edge, now.Add(-20*day), nil)
			old := s.placeDelivered("old", now.Add(-32*day-time.Second))
			s.on(health.OrderReturned, old, now.Add(-20*day), nil)
		}, 1, 10, health.Bad, []string{"edge"}},
		{"return: of an undelivered order counts nowhere, nor a return still to come", health.ReturnRate, func(s *script) {
			s.placeN("o", 10, now.Add(-10*day))
			u := s.place("undelivered", now.Add(-10*day))
			s.on(health.OrderShipped, u, now.Add(-9*day), nil)
			s.on(health.OrderReturned, u, now.Add(-5*day), nil)
			later := s.placeDelivered("later", now.Add(-10*day))
			s.on(health.OrderReturned, later, now.Add(time.Hour), nil)
		}, 0, 11, health.Good, nil},
		{"refund: by the seller, exactly at the target is a breach of < 5%", health.RefundRate, func(s *script) {
			for i := range 19 {
				s.place(fmt.Sprint(i), now.Add(-3*day))
			}
			r := s.place("ref", now.Add(-3*day))
			s.on(health.RefundIssued, r, now.Add(-2*day), by(health.RefundedBySeller))
		}, 1, 20, health.Bad, []string{"ref"}},
		{"refund: by the marketplace is not counted, even before the seller's", health.RefundRate, func(s *script) {
			for i := range 18 {
				s.place(fmt.Sprint(i), now.Add(-3*day))
			}
			m := s.place("market", now.Add(-3*day))
			s.on(health.RefundIssued, m, now.Add(-2*day), by(health.RefundedByMarketplace))
			b := s.place("both", now.Add(-3*day))
			s.on(health.RefundIssued, b, now.Add(-day), by(health.RefundedBySeller))
			s.on(health.RefundIssued, b, now.Add(-2*day), by(health.RefundedByMarketplace))
		}, 1, 20, health.Bad, []string{"both"}},
		{"refund: marketplace refunds only are no breach", health.RefundRate, func(s *script) {
			for i := range 10 {
				o := s.place(fmt.Sprint(i), now.Add(-3*day))
				s.on(health.RefundIssued, o, now.Add(-2*day), by(health.RefundedByMarketplace))
			}
		}, 0, 10, health.Good, nil},
		{"refund: placed one second outside the window is not counted, at its start is", health.RefundRate, func(s *script) {
			for i := range 9 {
				s.place(fmt.Sprint(i), now.Add(-3*day))
			}
			edge := s.place("edge", now.Add(-30*day))
			s.on(health.RefundIssued, edge, now.Add(-2*day), by(health.RefundedBySeller))
			old := s.place("old", now.Add(-30*day-time.Second))
			s.on(health.RefundIssued, old, now.Add(-2*day), by(health.RefundedBySeller))
		}, 1, 10, health.Bad, []string{"edge"}},
		{"refund: one under the minimum is insufficient data", health.RefundRate, func(s *script) {
			for i := range 9 {
				o := s.place(fmt.Sprint(i), now.Add(-3*day))
				if i < 5 {
					s.on(health.RefundIssued, o, now.Add(-2*day), by(health.RefundedBySeller))
				}
			}
		}, 5, 9, health.InsufficientData, nil},
		{"negative feedback: exactly at the target is a breach of < 5%; orders without feedback are left out", health.NegativeFeedbackRate, func(s *script) {
			for i := range 19 {
				o := s.place(fmt.Sprint(i), now.Add(-40*day))
				s.on(health.Feedback, o, now.Add(-39*day), rate(4+i%2))
			}
			bad := s.place("bad", now.Add(-40*day))
			s.on(health.Feedback, bad, now.Add(-39*day), rate(2))
			s.placeN("quiet", 5, now.Add(-40*day))
		}, 1, 20, health.Bad, []string{"bad"}},
		{"negative feedback: revised from 1 to 5 is none; from 5 to 1 is one", health.NegativeFeedbackRate, func(s *script) {
			for i := range 8 {
				o := s.place(fmt.Sprint(i), now.Add(-40*day))
				s.on(health.Feedback, o, now.Add(-39*day), rate(5))
			}
			up := s.place("up", now.Add(-40*day))
			s.on(health.Feedback, up, now.Add(-38*day), rate(5)) // the revision arrives first
			s.on(health.Feedback, up, now.Add(-39*day), rate(1))
			down := s.place("down", now.Add(-40*day))
			s.on(health.Feedback, down, now.Add(-39*day), rate(5))
			s.on(health.Feedback, down, now.Add(-38*day), rate(1))
		}, 1, 10, health.Bad, []string{"down"}},
		{"negative feedback: exactly the minimum counts", health.NegativeFeedbackRate, func(s *script) {
			for i := range 9 {
				o := s.place(fmt.Sprint(i), now.Add(-40*day))
				s.on(health.Feedback, o, now.Add(-39*day), rate(3))
			}
			o := s.place("bad", now.Add(-40*day))
			s.on(health.Feedback, o, now.Add(-39*day), rate(1))
		}, 1, 10, health.Bad, []string{"bad"}},
		{"negative feedback: one under the minimum is insufficient data", health.NegativeFeedbackRate, func(s *script) {
			for i := range 9 {
				o := s.place(fmt.Sprint(i), now.Add(-40*day))
				s.on(health.Feedback, o, now.Add(-39*day), rate(1+i%5)) // 1, 2, 3, 4, 5, 1, 2, 3, 4
			}
		}, 4, 9, health.InsufficientData, nil},
		{"negative feedback: placed one second outside the 90-day window is not counted, at its start is", health.NegativeFeedbackRate, func(s *script) {
			for i := range 9 {
				o := s.place(fmt.Sprint(i), now.Add(-40*day))
				s.on(health.Feedback, o, now.Add(-39*day), rate(5))
			}
			edge := s.place("edge", now.Add(-90*day))
			s.on(health.Feedback, edge, now.Add(-day), rate(1))
			old := s.place("old", now.Add(-90*day-time.Second))
			s.on(health.Feedback, old, now.Add(-day), rate(1))
		}, 1, 10, health.Bad, []string{"edge"}},
		{"response: within 24h counts, after 25h does not, younger than 24h is left out", health.ResponseRate, func(s *script) {
			msg := func(id string, at time.Time, needs bool, answer time.Duration) {
				mid := s.seller + "-" + id
				s.ev(health.Event{Type: health.BuyerMessage, At: at, SellerID: s.seller, MessageID: mid, NeedsResponse: needs})
				if answer > 0 {
					s.ev(health.Event{Type: health.MessageResponse, At: at.Add(answer), MessageID: mid})
				}
			}
			for i := range 8 {
				msg(fmt.Sprint(i), now.Add(-5*day), true, time.Hour)
			}
			msg("edge", now.Add(-5*day), true, 24*time.Hour) // exactly 24h: in time
			msg("slow", now.Add(-5*day), true, 25*time.Hour) // answered after 25h
			msg("none", now.Add(-5*day), true, 0)            // never answered
			msg("young", now.Add(-2*time.Hour), true, 0)     // may still be answered
			msg("info", now.Add(-5*day), false, 0)           // needs no response
			msg("old", now.Add(-31*day), true, 0)            // outside the window
		}, 9, 11, health.Bad, []string{"none", "slow"}}, // 9/11 = 82% < 90%; the messages not answered in time
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := &script{seller: fmt.Sprintf("s%02d", i)}
				if _, err := st.CreateSeller(ctx, store.Seller{ID: s.seller, Name: "n", Email: "s@example.com"}, "hash-"+s.seller); err != nil {
					t.Fatal(err)
				}
				c.build(s)
				if _, err := st.Ingest(ctx, s.events, now); err != nil {
					t.Fatal(err)
				}
				got, err := st.ComputeMetrics(ctx, store.Shard{IDs: []string{s.seller}}, now, p)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 {
					t.Fatalf("got %d sellers", len(got))
				}
				r := metricOf(t, got[0], c.metric)
				if r.Numerator != c.num || r.Denominator != c.den || r.Status != c.status {
					t.Errorf("%s = %d/%d %s, want %d/%d %s", c.metric, r.Numerator, r.Denominator, r.Status, c.num, c.den, c.status)
				}
				var want []string
				for _, id := range c.evidence {
					want = append(want, s.seller+"-"+id)
				}
				if fmt.Sprintf("%q", r.EvidenceIDs) != fmt.Sprintf("%q", want) {
					t.Errorf("evidence = %q, want %q", r.EvidenceIDs, want)
				}
				for _, other := range got[0].Metrics {
					if other.Metric != c.metric && other.Status != health.Bad && len(other.EvidenceIDs) > 0 {
						t.Errorf("%s is not in breach but cites %q", other.Metric, other.EvidenceIDs)
					}
				}
			})
		}
	})
}

// An expired order is counted once in cancel_rate (as the seller's cancellation)
// and once in expired_orders (placed in the last 30 days), never twice; who
// cancelled first decides. ODR's parts count each defect of the orders in its
// window, an order in as many parts as it has defects.
func TestExpiredOrdersAndDefectParts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := &script{seller: "x"}
		if _, err := st.CreateSeller(ctx, store.Seller{ID: s.seller, Name: "n", Email: "x@example.com"}, "hash-x"); err != nil {
			t.Fatal(err)
		}
		s.placeN("o", 10, now.Add(-2*day))
		expire := func(id string, placed time.Time) string {
			o := s.place(id, placed)
			s.on(health.OrderCancelled, o, placed.Add(time.Hour), by(health.CancelledExpired))
			return o
		}
		expire("recent", now.Add(-2*day))           // in cancel_rate and expired_orders
		expire("month", now.Add(-20*day))           // in expired_orders only
		expire("edge", now.Add(-30*day))            // at the start of expired_orders' window
		expire("old", now.Add(-30*day-time.Second)) // outside it
		first := s.place("seller-first", now.Add(-2*day))
		s.on(health.OrderCancelled, first, now.Add(-2*day+2*time.Hour), by(health.CancelledExpired))
		s.on(health.OrderCancelled, first, now.Add(-2*day+time.Hour), by(health.CancelledBySeller)) // earlier: the seller's
		twice := expire("expired-first", now.Add(-2*day))
		s.on(health.OrderCancelled, twice, now.Add(-day), by(health.CancelledBySeller))

		// ODR's parts: in the 60-day window, feedback 1 and a chargeback on one order, a
		// granted claim, an open claim, a denied claim, 5 stars, and defects outside the window.
		both := s.place("both", now.Add(-10*day))
		s.on(health.Feedback, both, now.Add(-9*day), rate(1))
		s.on(health.Chargeback, both, now.Add(-9*day), nil)
		granted := s.place("granted", now.Add(-10*day))
		s.on(health.AToZClaim, granted, now.Add(-9*day), func(e *health.Event) { e.Outcome = health.ClaimGranted })
		open := s.place("open", now.Add(-10*day))
		s.on(health.AToZClaim, open, now.Add(-9*day), func(e *health.Event) { e.Outcome = health.ClaimOpen })
		denied := s.place("denied", now.Add(-10*day))
		s.on(health.AToZClaim, denied, now.Add(-9*day), func(e *health.Event) { e.Outcome = health.ClaimDenied })
		happy := s.place("happy", now.Add(-10*day))
		s.on(health.Feedback, happy, now.Add(-9*day), rate(5))
		gone := s.place("gone", now.Add(-60*day-time.Second))
		s.on(health.Chargeback, gone, now.Add(-9*day), nil)
		s.on(health.Feedback, gone, now.Add(-9*day), rate(2))

		if _, err := st.Ingest(ctx, s.events, now); err != nil {
			t.Fatal(err)
		}
		got, err := st.ComputeMetrics(ctx, store.Shard{IDs: []string{s.seller}}, now, health.DefaultPolicy())
		if err != nil || len(got) != 1 {
			t.Fatalf("%d sellers, %v", len(got), err)
		}
		sm := got[0]
		if sm.ExpiredOrders != 4 { // recent, month, edge, expired-first
			t.Errorf("expired orders = %d, want 4", sm.ExpiredOrders)
		}
		c := metricOf(t, sm, health.CancelRate)
		if c.Numerator != 3 || c.Denominator != 13 || c.Status != health.Bad {
			t.Errorf("cancel_rate = %d/%d %s, want 3/13 bad (recent, seller-first, expired-first)", c.Numerator, c.Denominator, c.Status)
		}
		if want := []string{"x-expired-first", "x-recent", "x-seller-first"}; fmt.Sprint(c.EvidenceIDs) != fmt.Sprint(want) {
			t.Errorf("cancel_rate evidence %q, want %q", c.EvidenceIDs, want)
		}
		odr := metricOf(t, sm, health.ODR)
		if odr.Parts == nil || *odr.Parts != (store.DefectParts{NegativeFeedback: 1, AToZClaims: 2, Chargebacks: 1}) {
			t.Errorf("odr parts %+v, want 1 negative feedback, 2 claims, 1 chargeback", odr.Parts)
		}
		if odr.Numerator != 3 {
			t.Errorf("odr numerator %d, want 3 orders (both, granted, open)", odr.Numerator)
		}
		for _, r := range sm.Metrics {
			if r.Metric != health.ODR && r.Parts != nil {
				t.Errorf("%s has parts %+v; only odr has", r.Metric, r.Parts)
			}
		}
	})
}

// The evidence is read apart from the counts, for the sellers in breach only:
// each breach cites its own seller's orders and messages, in the same order as
// when the seller is evaluated alone, and a seller not in breach cites nothing.
func TestEvidenceOfAShardStaysWithItsSellers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var events []health.Event
		seller := func(id string, orders, defects int, unanswered int) {
			if _, err := st.CreateSeller(ctx, store.Seller{ID: id, Name: "n", Email: id + "@example.com"}, "hash-"+id); err != nil {
				t.Fatal(err)
			}
			s := &script{seller: id}
			s.placeN("o", orders, now.Add(-10*day))
			for i := range defects {
				o := s.placeDelivered(fmt.Sprintf("bad%d", i), now.Add(-time.Duration(20-i)*day))
				s.on(health.Chargeback, o, now.Add(-5*day), nil)
			}
			for i := range 10 {
				answer := time.Hour
				if i < unanswered {
					answer = 0
				}
				at := now.Add(-5 * day)
				s.ev(health.Event{Type: health.BuyerMessage, At: at, SellerID: id, MessageID: fmt.Sprintf("%s-m%d", id, i), NeedsResponse: true})
				if answer > 0 {
					s.ev(health.Event{Type: health.MessageResponse, At: at.Add(answer), MessageID: fmt.Sprintf("%s-m%d", id, i)})
				}
			}
			events = append(events, s.events...)
		}
		seller("ev-a", 20, 3, 0)  // odr in breach
		seller("ev-b", 200, 1, 0) // 1 of 201: odr good
		seller("ev-c", 30, 2, 4)  // odr and response_rate in breach
		if _, err := st.Ingest(ctx, events, now); err != nil {
			t.Fatal(err)
		}
		p := health.DefaultPolicy()
		shard, err := st.ComputeMetrics(ctx, store.Shard{From: "ev-a", To: "ev-c"}, now, p)
		if err != nil || len(shard) != 3 {
			t.Fatalf("%d sellers, %v", len(shard), err)
		}
		want := map[string]map[health.MetricID][]string{
			"ev-a": {health.ODR: {"ev-a-bad0", "ev-a-bad1", "ev-a-bad2"}},
			"ev-b": {},
			"ev-c": {health.ODR: {"ev-c-bad0", "ev-c-bad1"}, health.ResponseRate: {"ev-c-m0", "ev-c-m1", "ev-c-m2", "ev-c-m3"}},
		}
		for _, sm := range shard {
			alone, err := st.ComputeMetrics(ctx, store.Shard{IDs: []string{sm.SellerID}}, now, p)
			if err != nil || len(alone) != 1 {
				t.Fatalf("%s alone: %d sellers, %v", sm.SellerID, len(alone), err)
			}
			for i, r := range sm.Metrics {
				w, breach := want[sm.SellerID][r.Metric]
				if breach != (r.Status == health.Bad) {
					t.Errorf("%s %s is %s (%d/%d)", sm.SellerID, r.Metric, r.Status, r.Numerator, r.Denominator)
				}
				if fmt.Sprintf("%q", r.EvidenceIDs) != fmt.Sprintf("%q", w) {
					t.Errorf("%s %s cites %q, want %q", sm.SellerID, r.Metric, r.EvidenceIDs, w)
				}
				if a := alone[0].Metrics[i]; fmt.Sprintf("%q", a.EvidenceIDs) != fmt.Sprintf("%q", r.EvidenceIDs) {
					t.Errorf("%s %s cites %q alone, %q in the shard", sm.SellerID, r.Metric, a.EvidenceIDs, r.EvidenceIDs)
				}
			}
		}
	})
}
