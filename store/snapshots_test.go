package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// Migration 5 folds the per-metric snapshots into one document per seller and
// evaluation, history included; the trend then reads old and new alike.
func TestSnapshotHistorySurvivesMigration5(t *testing.T) {
	for _, d := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"postgres", func(t *testing.T) string { return storetest.NewPostgresURL(t) }},
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "m.db") }},
	} {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, d.url(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := st.MigrateTo(ctx, 4); err != nil {
				t.Fatal(err)
			}
			old := now.Add(-7 * day)
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := st.DB().ExecContext(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			p := func(i int) string { // the i-th parameter, as the dialect writes it
				if st.Dialect() == store.SQLite {
					return "?"
				}
				return fmt.Sprintf("$%d", i)
			}
			exec("INSERT INTO sellers (id, name, email, created_at) VALUES ('s1', 'One', 'one@example.com', "+p(1)+")", old)
			exec("INSERT INTO evaluations (id, status, trigger, started_at) VALUES ('ev-old', 'completed', 'test', "+p(1)+")", old)
			// Inserted in an order unlike the metrics' own.
			for i, m := range []health.MetricID{health.ResponseRate, health.ODR, health.CancelRate, health.LateShipmentRate, health.OnTimeDeliveryRate, health.ValidTrackingRate} {
				var evidence any
				status := "good"
				if m == health.ODR {
					evidence, status = `["o1","o2"]`, "bad"
				}
				exec("INSERT INTO metric_snapshots (evaluation_id, seller_id, metric, numerator, denominator, value, status, target_op, target_value, window_days, window_start, window_end, evidence_ids) "+
					"VALUES ('ev-old', 's1', "+p(1)+", "+p(2)+", 100, "+p(3)+", "+p(4)+", '<', 0.01, 30, "+p(5)+", "+p(6)+", "+p(7)+")",
					string(m), i, float64(i)/100, status, old.Add(-30*day).UnixMilli(), old.UnixMilli(), evidence)
			}
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var doc string
			if err := st.DB().QueryRowContext(ctx, "SELECT metrics FROM seller_snapshots WHERE evaluation_id = 'ev-old' AND seller_id = 's1'").Scan(&doc); err != nil {
				t.Fatal(err)
			}
			var docs []store.MetricDoc
			if err := json.Unmarshal([]byte(doc), &docs); err != nil {
				t.Fatalf("%s: %v", doc, err)
			}
			if len(docs) != len(health.Metrics) {
				t.Fatalf("%d metrics in %s", len(docs), doc)
			}
			for i, m := range health.Metrics {
				if docs[i].Metric != m {
					t.Errorf("document's metric %d is %s, want %s", i, docs[i].Metric, m)
				}
			}
			if docs[0].Title != "Order Defect Rate" || !docs[0].WindowEnd.Equal(old.Truncate(time.Millisecond)) || docs[0].Numerator != 1 || docs[0].Target != (health.Target{Op: health.Less, Value: 0.01}) || len(docs[0].EvidenceIDs) != 2 || docs[0].EvidenceIDs[1] != "o2" {
				t.Errorf("odr came through as %+v", docs[0])
			}

			// A new evaluation adds a point to every metric's trend, after the old one.
			s := &script{seller: "s1"}
			s.placeN("o", 20, now.Add(-3*day))
			if _, err := st.Ingest(ctx, s.events, now); err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateEvaluation(ctx, "ev-new", "test", nil); err != nil {
				t.Fatal(err)
			}
			res, err := st.ComputeMetrics(ctx, store.Shard{IDs: []string{"s1"}}, now, health.DefaultPolicy())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.SaveShard(ctx, "ev-new", now, res); err != nil {
				t.Fatal(err)
			}
			trend, err := st.MetricTrend(ctx, "s1", 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range health.Metrics {
				pts := trend[m]
				if len(pts) != 2 || !pts[0].At.Equal(old.Truncate(1e6)) || !pts[1].At.Equal(now) {
					t.Errorf("%s trend %+v, want the old point then the new", m, pts)
				}
			}
			if v := trend[health.ODR][0].Value; v == nil || *v != 0.01 || trend[health.ODR][0].Status != health.Bad {
				t.Errorf("old odr point %+v", trend[health.ODR][0])
			}
			if trend[health.ODR][1].Status != health.Good {
				t.Errorf("new odr point %+v, want good (20 orders, no defect)", trend[health.ODR][1])
			}
			if trend, err = st.MetricTrend(ctx, "s1", 1); err != nil || len(trend[health.ODR]) != 1 || !trend[health.ODR][0].At.Equal(now) {
				t.Errorf("the last 1 point: %+v %v", trend[health.ODR], err)
			}
		})
	}
}
