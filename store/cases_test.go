package store_test

import (
	"context"
	"encoding/json"
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
		standing, err := st.Standing(ctx, "s1")
		if err != nil || health.StatusOf(standing) != health.Suspended {
			t.Errorf("standing %+v %v", standing, err)
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
		l, err := st.Ledger(ctx, "s1", 10)
		if err != nil || len(l) != 1 || l[0].Delta != 8 {
			t.Errorf("ledger %+v %v: want one entry of +8 (400 defect-free orders)", l, err)
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
