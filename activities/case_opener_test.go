package activities

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// TestABreachToldToACaseOpeningIsNotToldAgain: a sweep that runs while the case
// an earlier sweep told of a breach has not yet written its row takes it for
// opening (no second tell at the same figures, so no second timeline entry),
// until the run writes its row and closes, or the figures change, or the
// opening lasts past its bound.
func TestABreachToldToACaseOpeningIsNotToldAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "One", Email: "one@example.com"}, "h1"); err != nil {
			t.Fatal(err)
		}
		o := CaseOpener{Store: st, Policy: health.DefaultPolicy()}
		at := time.Now().UTC().Truncate(time.Millisecond)
		told := func(runID string, when time.Time) {
			t.Helper()
			if err := st.SaveTold(ctx, []store.Told{{SellerID: "s1", Metric: health.ODR, EvaluationID: "ev1", Status: health.Bad,
				Numerator: 10, Denominator: 100, ToldAt: when, RunID: runID}}); err != nil {
				t.Fatal(err)
			}
		}
		found := func(numerator int64) []news {
			t.Helper()
			res := []store.SellerMetrics{{SellerID: "s1", Metrics: []store.MetricResult{{Metric: health.ODR, Status: health.Bad, Numerator: numerator, Denominator: 100}}}}
			ns, err := o.news(ctx, "ev2", at, res)
			if err != nil {
				t.Fatal(err)
			}
			return ns
		}

		told("run-1", at.Add(-time.Minute))
		if ns := found(10); len(ns) != 0 {
			t.Fatalf("a case opening was told again at the same figures: %+v", ns)
		}
		if ns := found(12); len(ns) != 1 {
			t.Fatalf("new figures for a case opening: %d pieces of news, want 1", len(ns))
		}
		told("run-1", at.Add(-2*opening))
		if ns := found(10); len(ns) != 1 {
			t.Fatalf("a run that never wrote its row in %s: %d pieces of news, want 1", 2*opening, len(ns))
		}
		told("", at.Add(-time.Minute)) // told before runs were kept
		if ns := found(10); len(ns) != 1 {
			t.Fatalf("a tell without its run: %d pieces of news, want 1", len(ns))
		}

		// The run writes its row and closes: the breach found again is a new case.
		told("run-1", at.Add(-time.Minute))
		odr := string(health.ODR)
		for i, state := range []string{string(health.Warned), string(health.Reinstated)} {
			rec := store.CaseRecord{
				Case: store.CaseRow{ID: "c1", WorkflowID: "case/s1/odr", RunID: "run-1", SellerID: "s1", Kind: string(health.MetricBreach), Metric: &odr,
					Action: "suspend", State: state, Enforcement: "none", OpenedAt: at, MaxAppeals: 3, Evidence: `{"numerator":10,"denominator":100,"order_ids":[]}`},
				Event: store.CaseEvent{CaseID: "c1", Seq: i + 1, At: at, Type: fmt.Sprintf("step%d", i), Actor: "system", ToState: state, Detail: "{}"},
			}
			if err := st.RecordCase(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		ns := found(10)
		if len(ns) != 1 || ns[0].workflowID != "" {
			t.Fatalf("a breach after its case closed: %+v, want one new case", ns)
		}
	})
}
