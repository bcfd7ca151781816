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

// TestAWithdrawalHoldsUntilTheMetricRecovers: withdrawing a metric case leaves
// a hold at the figures the case last knew (the later of its evidence and what
// the sweep told it); an evaluation that finds the metric within target after
// the withdrawal ends it (not one of before, not a breach); a new case of the
// metric ends it too.
func TestAWithdrawalHoldsUntilTheMetricRecovers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "One", Email: "one@example.com"}, "h1"); err != nil {
			t.Fatal(err)
		}
		at := now.Truncate(time.Millisecond)
		odr := string(health.ODR)
		record := func(id string, seq int, typ, state string, when time.Time) {
			t.Helper()
			ev := fmt.Sprintf(`{"numerator":2,"denominator":20,"value":0.1,"window_end":%q,"order_ids":[]}`, at.Format(time.RFC3339Nano))
			rec := store.CaseRecord{
				Case: store.CaseRow{ID: id, WorkflowID: "case/s1/odr", RunID: "r-" + id, SellerID: "s1", Kind: string(health.MetricBreach), Metric: &odr,
					Action: "suspend", State: state, Enforcement: "none", OpenedAt: at, MaxAppeals: 3, Evidence: ev},
				Event: store.CaseEvent{CaseID: id, Seq: seq, At: when, Type: typ, Actor: "system", ToState: state, Detail: "{}"},
			}
			if err := st.RecordCase(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		hold := func() (health.Hold, bool) {
			t.Helper()
			hs, err := st.Holds(ctx, []string{"s1", "nobody"})
			if err != nil {
				t.Fatal(err)
			}
			h, ok := hs["s1"][health.ODR]
			return h, ok
		}
		evaluated := 0
		evaluate := func(s health.Status, when time.Time) {
			t.Helper()
			evaluated++
			id := fmt.Sprintf("ev%d", evaluated)
			if _, err := st.CreateEvaluation(ctx, id, "test", nil); err != nil {
				t.Fatal(err)
			}
			res := []store.SellerMetrics{{SellerID: "s1", Metrics: []store.MetricResult{{Metric: health.ODR, Status: s}, {Metric: health.CancelRate, Status: health.Good}}}}
			if _, err := st.SaveShard(ctx, id, when, res); err != nil {
				t.Fatal(err)
			}
		}

		record("C-1", 1, "opened", "warned", at)
		if _, ok := hold(); ok {
			t.Fatal("an open case holds")
		}
		// The sweep told the case newer figures than its evidence.
		if err := st.SaveTold(ctx, []store.Told{{SellerID: "s1", Metric: health.ODR, EvaluationID: "e", Status: health.Bad,
			Numerator: 3, Denominator: 20, ToldAt: at.Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		record("C-1", 2, "withdrawn", "withdrawn", at.Add(2*time.Hour))
		h, ok := hold()
		if !ok || h.CaseID != "C-1" || h.Numerator != 3 || h.Denominator != 20 || h.Value == nil || *h.Value != 0.15 || !h.WithdrawnAt.Equal(at.Add(2*time.Hour)) {
			t.Fatalf("hold after the withdrawal: %+v %v, want 3 of 20 (0.15) at the withdrawal", h, ok)
		}
		evaluate(health.Bad, at.Add(3*time.Hour))
		evaluate(health.InsufficientData, at.Add(3*time.Hour))
		evaluate(health.Good, at.Add(time.Hour)) // an evaluation of before the withdrawal, saved late
		if _, ok := hold(); !ok {
			t.Fatal("the hold ended without the metric seen within target after the withdrawal")
		}
		evaluate(health.Good, at.Add(4*time.Hour))
		if h, ok := hold(); ok {
			t.Fatalf("the metric is back within target, the hold stays: %+v", h)
		}

		// Withdrawn again, then a new case of the metric: it ends the hold.
		record("C-2", 1, "opened", "warned", at.Add(5*time.Hour))
		record("C-2", 2, "withdrawn", "withdrawn", at.Add(6*time.Hour))
		if h, ok := hold(); !ok || h.CaseID != "C-2" || h.Numerator != 3 {
			t.Fatalf("hold of the second withdrawal: %+v %v (the told figures are still the later)", h, ok)
		}
		record("C-3", 1, "opened", "warned", at.Add(7*time.Hour))
		if h, ok := hold(); ok {
			t.Fatalf("a new case of the metric leaves the hold: %+v", h)
		}
	})
}
