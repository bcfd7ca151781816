package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

func TestRecordCaseIsIdempotentAndKeepsTheTimeline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "One", Email: "one@example.com"}, "h1"); err != nil {
			t.Fatal(err)
		}
		odr := string(health.ODR)
		at := now.Truncate(time.Millisecond)
		row := store.CaseRow{ID: "C-1", WorkflowID: "case/s1/odr", RunID: "r1", SellerID: "s1", Kind: string(health.MetricBreach), Metric: &odr,
			Action: "suspend", State: "warned", Enforcement: "none", OpenedAt: at, MaxAppeals: 3, Evidence: `{"numerator":3}`}
		caseID := "C-1"
		open := store.CaseRecord{Case: row,
			Event:  store.CaseEvent{CaseID: "C-1", Seq: 1, At: at, Type: "opened", Actor: "system", ToState: "warned", Detail: `{}`},
			Ledger: []store.LedgerEntry{{SellerID: "s1", Key: "case/C-1/opened", At: at, Delta: -20, Cause: "opened", CaseID: &caseID}},
			Mail:   []store.OutboxMail{{Key: "C-1/1/warning", CaseID: &caseID, Template: "warning", Recipients: `["one@example.com"]`, Subject: "s", TextBody: "t", HTMLBody: "h", CreatedAt: at}},
		}
		for range 2 { // the second time is a retried activity
			if err := st.RecordCase(ctx, open); err != nil {
				t.Fatal(err)
			}
		}
		enforced := open
		enforced.Case.State, enforced.Case.Enforcement = "enforced", "account_suspension"
		enforced.Event = store.CaseEvent{CaseID: "C-1", Seq: 2, At: at.Add(time.Hour), Type: "enforced", Actor: "system", ToState: "enforced", Detail: `{}`}
		enforced.Ledger, enforced.Mail = nil, nil
		if err := st.RecordCase(ctx, enforced); err != nil {
			t.Fatal(err)
		}
		c, err := st.Case(ctx, "C-1")
		if err != nil || c.State != "enforced" {
			t.Fatalf("case %+v %v", c, err)
		}
		tl, _ := st.Timeline(ctx, "C-1")
		if len(tl) != 2 || tl[0].Type != "opened" || tl[1].Type != "enforced" {
			t.Errorf("timeline %+v", tl)
		}
		if n := count(t, st, "outbox"); n != 1 {
			t.Errorf("%d mails queued, want 1", n)
		}
		if n := count(t, st, "rating_ledger"); n != 1 {
			t.Errorf("%d ledger entries, want 1", n)
		}
		h, err := st.LatestHealth(ctx, "s1", health.DefaultPolicy())
		if err != nil || health.StatusOf(h.Cases) != health.Suspended {
			t.Errorf("standing %+v %v", h.Cases, err)
		} else if !h.Cases[0].OpenedAt.Equal(at) {
			t.Errorf("case opened at %v, want %v", h.Cases[0].OpenedAt, at)
		}
		final := enforced
		final.Case.State = "deactivated"
		final.Event = store.CaseEvent{CaseID: "C-1", Seq: 3, At: at.Add(2 * time.Hour), Type: "deactivated", Actor: "system", ToState: "deactivated", Detail: `{}`}
		if err := st.RecordCase(ctx, final); err != nil {
			t.Fatal(err)
		}
		f, err := st.FinalCases(ctx, []string{"s1"})
		if err != nil || !f.Closes("s1", health.CancelRate) || !f.Closes("s1", health.ODR) {
			t.Errorf("a deactivated account should close every metric: %+v %v", f, err)
		}
	})
}

func TestSaveShardRecordsRatingBonusChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "One", Email: "one@example.com"}, "h1"); err != nil {
			t.Fatal(err)
		}
		s := &script{seller: "s1"}
		s.placeN("o", 400, now.Add(-10*day))
		if _, err := st.Ingest(ctx, s.events, now); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"ev1", "ev2"} {
			if _, err := st.CreateEvaluation(ctx, id, "test", nil); err != nil {
				t.Fatal(err)
			}
			res, err := st.ComputeMetrics(ctx, store.Shard{IDs: []string{"s1"}}, now, health.DefaultPolicy())
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // a retried shard changes nothing more
				if _, err := st.SaveShard(ctx, id, now, res); err != nil {
					t.Fatal(err)
				}
			}
		}
		h, err := st.LatestHealth(ctx, "s1", health.DefaultPolicy())
		if err != nil || len(h.Ledger) != 1 || h.Ledger[0].Delta != 8 {
			t.Errorf("ledger %+v %v: want one entry of +8 (400 defect-free orders)", h.Ledger, err)
		}
		e, _ := st.Evaluation(ctx, "ev2")
		if e.SellersEvaluated != 1 {
			t.Errorf("a retried shard counted twice: %d sellers", e.SellersEvaluated)
		}
	})
}

func TestPolicyEvidenceHasNoPlaceholderWindow(t *testing.T) {
	b, err := json.Marshal(store.Evidence{OrderIDs: []string{}, Note: "counterfeit listing"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"target":null`, `"window_start":null`, `"window_end":null`, `"note":"counterfeit listing"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	v := 0.5
	b, _ = json.Marshal(store.Evidence{WindowDays: 30, Value: &v, Target: health.Target{Op: health.Less, Value: 0.01}})
	if !strings.Contains(string(b), `"target":{"op":"\u003c","value":0.01}`) && !strings.Contains(string(b), `"target":{"op":"<","value":0.01}`) {
		t.Errorf("a metric's evidence lost its target: %s", b)
	}
}

func TestLatestHealthReadsEverythingAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		p := health.DefaultPolicy()
		now := time.Now().UTC().Truncate(time.Millisecond) // a seller never evaluated is computed at the real now
		if _, err := st.LatestHealth(ctx, "nobody", p); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown seller: %v, want not found", err)
		}
		for _, id := range []string{"s1", "s2"} {
			if _, err := st.CreateSeller(ctx, store.Seller{ID: id, Name: id, Email: id + "@example.com"}, "h-"+id); err != nil {
				t.Fatal(err)
			}
		}
		s := &script{seller: "s1"}
		s.placeN("o", 19, now.Add(-10*day))
		o := s.place("bad", now.Add(-10*day))
		s.on(health.Chargeback, o, now.Add(-9*day), nil)
		x := s.place("expired", now.Add(-3*day))
		s.on(health.OrderCancelled, x, now.Add(-day), func(e *health.Event) { e.By = health.CancelledExpired })
		if _, err := st.Ingest(ctx, s.events, now); err != nil {
			t.Fatal(err)
		}

		// Never evaluated: computed on the spot.
		h, err := st.LatestHealth(ctx, "s1", p)
		if err != nil || h.EvaluatedAt != nil || docOf(t, h, health.ODR).Numerator != 1 || h.ExpiredOrders != 1 {
			t.Fatalf("before any evaluation: %+v %v", h, err)
		}

		if _, err := st.CreateEvaluation(ctx, "ev1", "test", nil); err != nil {
			t.Fatal(err)
		}
		res, err := st.ComputeMetrics(ctx, store.Shard{IDs: []string{"s1", "s2"}}, now, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SaveShard(ctx, "ev1", now, res); err != nil {
			t.Fatal(err)
		}
		// 25 ledger entries for s1, one for s2: s1 sees its 20 newest, newest first.
		caseID := "C-9"
		for i := range 25 {
			at := now.Add(time.Duration(i) * time.Minute)
			r := store.CaseRecord{
				Case: store.CaseRow{ID: fmt.Sprintf("C-%d", i), WorkflowID: fmt.Sprintf("w%d", i), RunID: "r", SellerID: "s1", Kind: string(health.MetricBreach),
					Action: "suspend", State: "warned", Enforcement: "none", OpenedAt: at, MaxAppeals: 3, Evidence: `{}`},
				Event:  store.CaseEvent{CaseID: fmt.Sprintf("C-%d", i), Seq: 1, At: at, Type: "opened", Actor: "system", ToState: "warned", Detail: `{}`},
				Ledger: []store.LedgerEntry{{SellerID: "s1", Key: fmt.Sprintf("k%02d", i), At: at, Delta: -i, Cause: fmt.Sprintf("cause %d", i), CaseID: &caseID}},
			}
			if i == 24 {
				r.Case.State, r.Case.Enforcement = "enforced", "account_suspension"
			}
			if err := st.RecordCase(ctx, r); err != nil {
				t.Fatal(err)
			}
		}

		h, err = st.LatestHealth(ctx, "s1", p)
		if err != nil {
			t.Fatal(err)
		}
		if h.EvaluatedAt == nil || !h.EvaluatedAt.Equal(now) || h.ExpiredOrders != 1 {
			t.Errorf("evaluated at %v with %d expired orders, want %v and 1", h.EvaluatedAt, h.ExpiredOrders, now)
		}
		docs, err := h.Metrics()
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != len(health.Metrics) {
			t.Fatalf("%d metrics, want %d", len(docs), len(health.Metrics))
		}
		for i, m := range docs {
			want := res[0].Metrics[i]
			if m.Metric != health.Metrics[i] || m.Title != health.Define(m.Metric).Title || m.Numerator != want.Numerator || m.Denominator != want.Denominator ||
				m.Status != want.Status || m.Target != want.Policy.Target || m.WindowDays != want.Policy.WindowDays ||
				!m.WindowStart.Equal(want.WindowStart.Truncate(time.Millisecond)) || !m.WindowEnd.Equal(now) {
				t.Errorf("metric %d = %+v, want %+v", i, m, want)
			}
			// A bad metric cites its orders in the document the health page sends; a good one cites none.
			var wantEvidence *store.MetricEvidence
			if want.Status == health.Bad {
				wantEvidence = &store.MetricEvidence{OrderIDs: want.EvidenceIDs}
			}
			if !reflect.DeepEqual(m.Evidence, wantEvidence) || !reflect.DeepEqual(m.Parts, want.Parts) || (m.Metric == health.ODR) != (m.Parts != nil) {
				t.Errorf("%s evidence %+v parts %+v, want %+v and %+v", m.Metric, m.Evidence, m.Parts, wantEvidence, want.Parts)
			}
			if (m.Value == nil) != (want.Value == nil) || (m.Value != nil && *m.Value != *want.Value) {
				t.Errorf("%s value %v, want %v", m.Metric, m.Value, want.Value)
			}
		}
		if docOf(t, h, health.ODR).Status != health.Bad {
			t.Errorf("odr of 1 in 20 should be a breach")
		}
		if len(h.Cases) != 25 || health.StatusOf(h.Cases) != health.Suspended {
			t.Errorf("%d cases, status %s; want 25, suspended", len(h.Cases), health.StatusOf(h.Cases))
		}
		if len(h.Ledger) != store.HealthLedgerEntries {
			t.Fatalf("%d ledger entries, want %d", len(h.Ledger), store.HealthLedgerEntries)
		}
		for i, l := range h.Ledger {
			if l.Delta != -(24-i) || l.Cause != fmt.Sprintf("cause %d", 24-i) || l.CaseID == nil || *l.CaseID != caseID ||
				!l.At.Equal(now.Add(time.Duration(24-i)*time.Minute)) {
				t.Errorf("ledger[%d] = %+v", i, l)
			}
		}

		h, err = st.LatestHealth(ctx, "s2", p)
		if err != nil || h.EvaluatedAt == nil || len(h.Cases) != 0 || len(h.Ledger) != 0 || docOf(t, h, health.ODR).Denominator != 0 {
			t.Errorf("s2 sees %+v %v", h, err)
		}
	})
}

func docOf(t *testing.T, h store.Health, m health.MetricID) store.MetricDoc {
	t.Helper()
	docs, err := h.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.Metric == m {
			return d
		}
	}
	t.Fatalf("no %s in %s", m, h.MetricsJSON)
	return store.MetricDoc{}
}

// TestExpiredCasePenaltyIsOnTheLedger: a case opened before the rating's
// lookback stops counting, and the evaluation that sees it says so on the ledger,
// once, so the ledger's changes add up to the score.
func TestExpiredCasePenaltyIsOnTheLedger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "One", Email: "one@example.com"}, "h1"); err != nil {
			t.Fatal(err)
		}
		record := func(id string, opened time.Time, seq int, state string, ledger ...int) {
			cid := id
			rec := store.CaseRecord{
				Case: store.CaseRow{ID: id, WorkflowID: "case/s1/" + id, RunID: "r-" + id, SellerID: "s1", Kind: "metric_breach", Action: "suspend",
					State: state, Enforcement: "account_suspension", OpenedAt: opened, MaxAppeals: 3, Evidence: `{"order_ids":[]}`},
				Event: store.CaseEvent{CaseID: id, Seq: seq, At: opened, Type: state, Actor: "system", ToState: state, Detail: "{}"},
			}
			for i, d := range ledger {
				rec.Ledger = append(rec.Ledger, store.LedgerEntry{SellerID: "s1", Key: fmt.Sprintf("case/%s/%d/%d", id, seq, i), At: opened, Delta: d, CaseID: &cid})
			}
			if err := st.RecordCase(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		record("C-OLD", now.Add(-200*day), 1, "warned", -20)
		record("C-OLD", now.Add(-200*day), 2, "enforced", -180)
		record("C-NEW", now.Add(-10*day), 1, "warned", -20)
		record("C-BACK", now.Add(-300*day), 1, "warned", -20)
		record("C-BACK", now.Add(-300*day), 2, "withdrawn", 20) // given back already: nothing more
		for _, id := range []string{"ev1", "ev2"} {
			if _, err := st.CreateEvaluation(ctx, id, "test", nil); err != nil {
				t.Fatal(err)
			}
			res, err := st.ComputeMetrics(ctx, store.Shard{IDs: []string{"s1"}}, now, health.DefaultPolicy())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.SaveShard(ctx, id, now, res); err != nil {
				t.Fatal(err)
			}
		}
		var n, sum int
		if err := st.DB().QueryRow(`SELECT COUNT(*), COALESCE(SUM(delta), 0) FROM rating_ledger WHERE key = 'case/C-OLD/expired' AND delta = 200`).Scan(&n, &sum); err != nil || n != 1 {
			t.Errorf("%d expiry entries of +200 for the old case (%v)", n, err)
		}
		if err := st.DB().QueryRow(`SELECT COUNT(*) FROM rating_ledger WHERE key LIKE '%/expired'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d expiry entries in all, want only the old case's (%v)", n, err)
		}
		if err := st.DB().QueryRow(`SELECT SUM(delta) FROM rating_ledger WHERE seller_id = 's1'`).Scan(&sum); err != nil || sum != -20 {
			t.Errorf("the ledger adds up to %d, want -20 (only the recent case counts) (%v)", sum, err)
		}
	})
}
