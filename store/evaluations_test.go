package store_test

import (
	"context"
	"testing"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// A seller's latest health is the newest evaluation's, whatever order the
// evaluations finish in: an older one saved after a newer one changes nothing.
func TestSaveShardKeepsTheNewestEvaluationAsTheLatest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		p := health.DefaultPolicy()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "One", Email: "one@example.com"}, "h1"); err != nil {
			t.Fatal(err)
		}
		s := &script{seller: "s1"}
		s.placeN("old", 10, now.Add(-20*day))
		s.placeN("new", 30, now.Add(-2*day))
		if _, err := st.Ingest(ctx, s.events, now); err != nil {
			t.Fatal(err)
		}
		evaluate := func(id string, daysAgo int) {
			t.Helper()
			at := now.AddDate(0, 0, -daysAgo)
			if _, err := st.CreateEvaluation(ctx, id, "test", nil); err != nil {
				t.Fatal(err)
			}
			res, err := st.ComputeMetrics(ctx, store.Shard{IDs: []string{"s1"}}, at, p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.SaveShard(ctx, id, at, res); err != nil {
				t.Fatal(err)
			}
		}
		odrDenominator := func() int64 {
			t.Helper()
			h, err := st.LatestHealth(ctx, "s1", p)
			if err != nil {
				t.Fatal(err)
			}
			return docOf(t, h, health.ODR).Denominator
		}

		evaluate("today", 0) // 40 orders in the window
		if got := odrDenominator(); got != 40 {
			t.Fatalf("after today's evaluation the ODR counts %d orders, want 40", got)
		}
		evaluate("a-week-ago", 7) // finishes later, but is older: 10 orders then
		if got := odrDenominator(); got != 40 {
			t.Errorf("an older evaluation finishing later replaced the latest: ODR counts %d orders, want 40", got)
		}
		evaluate("tomorrow", -1) // newer: replaces it
		h, err := st.LatestHealth(ctx, "s1", p)
		if err != nil {
			t.Fatal(err)
		}
		if want := now.AddDate(0, 0, 1); h.EvaluatedAt == nil || !h.EvaluatedAt.Equal(want) {
			t.Errorf("latest evaluated at %v, want the newest evaluation's %v", h.EvaluatedAt, want)
		}
	})
}
