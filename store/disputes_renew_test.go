package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// TestANewFeedbackOrClaimEndsADisputesDecision: a decided dispute judged the
// fact an order had then. A later feedback (another rating) or a claim filed
// again is a new fact: an upheld dispute's excuse ends, and the defect may be
// disputed anew (after a denial too). The same feedback sent again, the judged
// claim's outcome, and a later chargeback (the first counts) change nothing.
func TestANewFeedbackOrClaimEndsADisputesDecision(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s", Name: "S", Email: "s@example.com"}, "h"); err != nil {
			t.Fatal(err)
		}
		rev, err := st.CreateReviewer(ctx, store.Reviewer{Name: "Rita", Email: "rita@example.com"}, "k")
		if err != nil {
			t.Fatal(err)
		}
		placed := now.Add(-10 * day)
		at := now.Add(-5 * day)
		s := &script{seller: "s"}
		ingest := func() {
			t.Helper()
			if _, err := st.Ingest(ctx, s.events, now); err != nil {
				t.Fatal(err)
			}
			s.events = nil
		}
		for _, id := range []string{"fb", "fb-denied", "fb-again", "claim", "claim-again", "cb"} {
			s.placeDelivered(id, placed)
		}
		for _, id := range []string{"s-fb", "s-fb-denied", "s-fb-again"} {
			s.on(health.Feedback, id, at, rate(1))
		}
		for _, id := range []string{"s-claim", "s-claim-again"} {
			s.on(health.AToZClaim, id, at, func(e *health.Event) { e.Outcome = health.ClaimOpen })
		}
		s.on(health.Chargeback, "s-cb", at, nil)
		ingest()

		decide := func(order string, d health.Defect, status string) {
			t.Helper()
			id := "D-" + order
			row := store.DisputeRow{ID: id, OrderID: order, SellerID: "s", Defects: d.Bit(), Status: store.DisputeOpen, Reason: "r", Message: "m", CreatedAt: now}
			if err := st.CreateDispute(ctx, row, nil); err != nil {
				t.Fatal(err)
			}
			if err := st.DecideDispute(ctx, id, status, rev.ID, "why", now, nil); err != nil {
				t.Fatal(err)
			}
		}
		decide("s-fb", health.DefectNegativeFeedback, store.DisputeUpheld)
		decide("s-fb-denied", health.DefectNegativeFeedback, store.DisputeDenied)
		decide("s-fb-again", health.DefectNegativeFeedback, store.DisputeUpheld)
		decide("s-claim", health.DefectAToZClaim, store.DisputeUpheld)
		decide("s-claim-again", health.DefectAToZClaim, store.DisputeUpheld)
		decide("s-cb", health.DefectChargeback, store.DisputeUpheld)

		s.on(health.Feedback, "s-fb", at.Add(time.Hour), rate(2))        // a new rating
		s.on(health.Feedback, "s-fb-denied", at.Add(time.Hour), rate(1)) // a new rating, after a denial
		s.on(health.Feedback, "s-fb-again", at, rate(1))                 // the judged feedback, sent again
		s.on(health.AToZClaim, "s-claim", at.Add(time.Hour), func(e *health.Event) { e.Outcome = "granted" })
		// Filed again and granted in one batch: the fold keeps only the grant.
		s.on(health.AToZClaim, "s-claim-again", at.Add(2*time.Hour), func(e *health.Event) { e.Outcome = health.ClaimOpen })
		s.on(health.AToZClaim, "s-claim-again", at.Add(3*time.Hour), func(e *health.Event) { e.Outcome = "granted" })
		s.on(health.Chargeback, "s-cb", at.Add(time.Hour), nil)
		ingest()

		for _, c := range []struct {
			order    string
			d        health.Defect
			excused  bool
			reopened bool // may be disputed anew
		}{
			{"s-fb", health.DefectNegativeFeedback, false, true},
			{"s-fb-denied", health.DefectNegativeFeedback, false, true},
			{"s-fb-again", health.DefectNegativeFeedback, true, false},
			{"s-claim", health.DefectAToZClaim, true, false},
			{"s-claim-again", health.DefectAToZClaim, false, true},
			{"s-cb", health.DefectChargeback, true, false},
		} {
			o, err := st.Order(ctx, c.order)
			if err != nil {
				t.Fatal(err)
			}
			if got := o.Excused&c.d.Bit() != 0; got != c.excused {
				t.Errorf("%s: the %s excused %v, want %v", c.order, c.d, got, c.excused)
			}
			again := store.DisputeRow{ID: "D2-" + c.order, OrderID: c.order, SellerID: "s", Defects: c.d.Bit(), Status: store.DisputeOpen,
				Reason: "r", Message: "m", CreatedAt: now}
			err = st.CreateDispute(ctx, again, nil)
			if c.reopened && err != nil {
				t.Errorf("%s: the new %s cannot be disputed: %v", c.order, c.d, err)
			}
			if !c.reopened && !errors.Is(err, store.ErrConflict) {
				t.Errorf("%s: the judged %s disputed again: %v", c.order, c.d, err)
			}
		}
	})
}
