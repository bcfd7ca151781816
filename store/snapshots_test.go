package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// sixMetrics are the metrics measured before round 2, in their order.
var sixMetrics = []health.MetricID{health.ODR, health.CancelRate, health.LateShipmentRate, health.ValidTrackingRate, health.OnTimeDeliveryRate, health.ResponseRate}

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
			if len(docs) != len(sixMetrics) {
				t.Fatalf("%d metrics in %s", len(docs), doc)
			}
			for i, m := range sixMetrics {
				if docs[i].Metric != m {
					t.Errorf("document's metric %d is %s, want %s", i, docs[i].Metric, m)
				}
			}
			if docs[0].Title != "Order Defect Rate" || !docs[0].WindowEnd.Equal(old.Truncate(time.Millisecond)) || docs[0].Numerator != 1 || docs[0].Target != (health.Target{Op: health.Less, Value: 0.01}) || docs[0].Evidence == nil || len(docs[0].Evidence.OrderIDs) != 2 || docs[0].Evidence.OrderIDs[1] != "o2" {
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
				if !slices.Contains(sixMetrics, m) { // measured since round 2 only
					if len(pts) != 1 || !pts[0].At.Equal(now) {
						t.Errorf("%s trend %+v, want the new point", m, pts)
					}
					continue
				}
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

// Migration 10 gives old documents the round-2 shape of a bad metric's evidence
// ("evidence": {"order_ids"} or, for response_rate, {"order_ids": [], "message_ids"}),
// drops "evidence_ids", and gives the latest health the evidence its snapshot has.
func TestMigration10MovesEvidenceIntoTheDocuments(t *testing.T) {
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
			if _, err := st.MigrateTo(ctx, 9); err != nil {
				t.Fatal(err)
			}
			exec := func(q string) {
				t.Helper()
				if _, err := st.DB().ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			metric := func(id health.MetricID, status, evidence string) string {
				doc := fmt.Sprintf(`{"metric":%q,"title":"T","numerator":1,"denominator":10,"value":0.1,"target":{"op":"<","value":0.01},"window_days":30,`+
					`"window_start":"2026-05-01T00:00:00Z","window_end":"2026-05-31T00:00:00Z","status":%q`, id, status)
				if evidence != "" {
					doc += `,"evidence_ids":` + evidence
				}
				return doc + "}"
			}
			good := func(id health.MetricID) string { return metric(id, "good", "") }
			// A breach snapshot as round 1 wrote it, its health document without evidence,
			// a snapshot as migration 5 wrote it (null on good metrics), and a seller in no breach.
			breach := "[" + metric(health.ODR, "bad", `["o1","o2"]`) + "," + good(health.CancelRate) + "," + metric(health.ResponseRate, "bad", `["m1"]`) + "]"
			plain := "[" + metric(health.ODR, "bad", "") + "," + good(health.CancelRate) + "," + metric(health.ResponseRate, "bad", "") + "]"
			folded := "[" + metric(health.ODR, "good", "null") + "," + metric(health.LateShipmentRate, "bad", "[]") + "]"
			calm := "[" + good(health.ODR) + "]"
			exec("INSERT INTO sellers (id, name, email, created_at) VALUES ('s1', 'One', 'one@example.com', 0), ('s2', 'Two', 'two@example.com', 0)")
			exec("INSERT INTO evaluations (id, status, trigger, started_at) VALUES ('ev1', 'completed', 'test', 0), ('ev0', 'completed', 'test', 0)")
			exec("INSERT INTO seller_snapshots (evaluation_id, seller_id, evaluated_at, metrics) VALUES ('ev1', 's1', 2, '" + breach + "'), ('ev0', 's1', 1, '" + folded + "'), ('ev1', 's2', 2, '" + calm + "')")
			exec("INSERT INTO seller_health (seller_id, evaluation_id, evaluated_at, defect_free_shipped, rating_bonus, metrics) VALUES ('s1', 'ev1', 2, 0, 0, '" + plain + "'), ('s2', 'ev1', 2, 0, 0, '" + calm + "')")
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			read := func(q string) []map[string]any {
				t.Helper()
				var doc string
				if err := st.DB().QueryRowContext(ctx, q).Scan(&doc); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				var out []map[string]any
				if err := json.Unmarshal([]byte(doc), &out); err != nil {
					t.Fatalf("%s: %v", doc, err)
				}
				return out
			}
			shape := func(docs []map[string]any) string {
				var parts []string
				for _, m := range docs {
					ev, _ := json.Marshal(m["evidence"])
					_, old := m["evidence_ids"]
					parts = append(parts, fmt.Sprintf("%s %s evidence %s old %v", m["metric"], m["status"], ev, old))
				}
				return fmt.Sprint(parts)
			}
			wantBreach := `[odr bad evidence {"order_ids":["o1","o2"]} old false cancel_rate good evidence null old false response_rate bad evidence {"message_ids":["m1"],"order_ids":[]} old false]`
			for q, want := range map[string]string{
				"SELECT metrics FROM seller_snapshots WHERE evaluation_id = 'ev1' AND seller_id = 's1'": wantBreach,
				"SELECT metrics FROM seller_health WHERE seller_id = 's1'":                              wantBreach,
				"SELECT metrics FROM seller_snapshots WHERE evaluation_id = 'ev0'":                      `[odr good evidence null old false late_shipment_rate bad evidence {"order_ids":[]} old false]`,
				"SELECT metrics FROM seller_snapshots WHERE seller_id = 's2'":                           `[odr good evidence null old false]`,
				"SELECT metrics FROM seller_health WHERE seller_id = 's2'":                              `[odr good evidence null old false]`,
			} {
				if got := shape(read(q)); got != want {
					t.Errorf("%s\n got %s\nwant %s", q, got, want)
				}
			}
			// Everything else of a document is kept, and it still reads as MetricDoc.
			var docs []store.MetricDoc
			b, _ := json.Marshal(read("SELECT metrics FROM seller_health WHERE seller_id = 's1'"))
			if err := json.Unmarshal(b, &docs); err != nil || len(docs) != 3 || docs[0].Numerator != 1 || docs[0].Denominator != 10 ||
				docs[0].Value == nil || *docs[0].Value != 0.1 || !docs[0].WindowEnd.Equal(time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("the health document came through as %+v (%v)", docs, err)
			}
			var expired int64
			if err := st.DB().QueryRowContext(ctx, "SELECT expired_orders FROM seller_health WHERE seller_id = 's1'").Scan(&expired); err != nil || expired != 0 {
				t.Errorf("expired_orders %d (%v), want 0", expired, err)
			}
		})
	}
}
