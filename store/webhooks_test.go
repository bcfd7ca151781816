package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// A case's transitions become events in their own transactions, once each, with
// a delivery to each endpoint that asked for the type; a seller's deliveries
// come due one at a time, oldest first; a failed one retried by hand is due again.
func TestCaseTransitionsBecomeEventsAndDeliveriesInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for _, id := range []string{"s1", "s2"} {
			if _, err := st.CreateSeller(ctx, store.Seller{ID: id, Name: id, Email: id + "@example.com"}, "h"+id); err != nil {
				t.Fatal(err)
			}
		}
		at := now.Truncate(time.Millisecond)
		for _, w := range []store.Webhook{
			{ID: "wh_all", URL: "https://example.com/a", Events: `["case.opened","case.enforced","seller.status_changed"]`, Secret: "whsec_x", CreatedAt: at},
			{ID: "wh_status", URL: "https://example.com/b", Events: `["seller.status_changed"]`, Secret: "whsec_y", CreatedAt: at},
		} {
			if err := st.CreateWebhook(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		odr := string(health.ODR)
		record := func(seller, state, enforcement string, seq int, from string) {
			t.Helper()
			r := store.CaseRecord{
				Case: store.CaseRow{ID: "C-" + seller, WorkflowID: "case/" + seller + "/odr", RunID: "r", SellerID: seller, Kind: string(health.MetricBreach),
					Metric: &odr, Action: "suspend", State: state, Enforcement: enforcement, OpenedAt: at, MaxAppeals: 3, Evidence: `{"numerator":3}`},
				Event: store.CaseEvent{CaseID: "C-" + seller, Seq: seq, At: at.Add(time.Duration(seq) * time.Minute), Type: state, Actor: "system", ToState: state, Detail: `{}`},
			}
			if from != "" {
				r.Event.FromState = &from
			}
			for range 2 { // a retried activity writes nothing twice
				if err := st.RecordCase(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
		}
		record("s1", "warned", "none", 1, "")
		record("s2", "warned", "none", 1, "")
		record("s1", "enforced", "account_suspension", 2, "warned")
		record("s1", "enforced", "account_suspension", 3, "enforced") // an escalation: no state entered

		evs, err := st.EventsAfter(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range evs {
			types = append(types, e.SellerID+" "+e.Type)
		}
		want := []string{"s1 case.opened", "s1 seller.status_changed", "s2 case.opened", "s2 seller.status_changed",
			"s1 case.enforced", "s1 seller.status_changed"}
		if !equal(types, want) {
			t.Fatalf("events %v, want %v", types, want)
		}
		var body struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct {
				SellerID string `json:"seller_id"`
				Previous string `json:"previous"`
				Current  string `json:"current"`
				CaseID   string `json:"case_id"`
				Case     *struct {
					ID    string `json:"id"`
					State string `json:"state"`
				} `json:"case"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(evs[5].Body), &body); err != nil {
			t.Fatal(err)
		}
		if body.ID != evs[5].ID || body.Data.Previous != "at_risk" || body.Data.Current != "suspended" || body.Data.CaseID != "C-s1" {
			t.Errorf("status event %s", evs[5].Body)
		}
		if err := json.Unmarshal([]byte(evs[4].Body), &body); err != nil || body.Data.Case == nil || body.Data.Case.State != "enforced" {
			t.Errorf("case event %s (%v)", evs[4].Body, err)
		}

		all, _, _ := st.Deliveries(ctx, "wh_all", "", store.Page{})
		status, _, _ := st.Deliveries(ctx, "wh_status", "", store.Page{})
		if len(all) != 6 || len(status) != 3 {
			t.Fatalf("%d and %d deliveries, want 6 and 3", len(all), len(status))
		}
		// In pages of 4, newest first: every delivery once.
		var paged []string
		for page := (store.Page{Limit: 4}); ; {
			ds, next, err := st.Deliveries(ctx, "wh_all", "", page)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				paged = append(paged, d.EventID)
			}
			if next == nil {
				break
			}
			page.After = next
		}
		if len(paged) != 6 || paged[0] != all[0].EventID || paged[5] != all[5].EventID {
			t.Fatalf("paged %v", paged)
		}
		// Each seller's oldest pending delivery only.
		due, err := st.DueDeliveries(ctx, "wh_all", time.Now().Add(time.Second), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 2 || due[0].SellerID != "s1" || due[0].EventType != "case.opened" || due[1].SellerID != "s2" || due[0].Body == "" {
			t.Fatalf("due %+v", due)
		}
		// s1's first fails for a while: s1 waits, s2 goes on.
		later := time.Now().Add(time.Hour)
		if err := st.RecordAttempt(ctx, due[0], store.Attempt{At: time.Now(), StatusCode: 500, Error: "answered 500", Next: later}); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordAttempt(ctx, due[1], store.Attempt{At: time.Now(), StatusCode: 200, Delivered: true}); err != nil {
			t.Fatal(err)
		}
		due, _ = st.DueDeliveries(ctx, "wh_all", time.Now().Add(time.Second), 10)
		if len(due) != 1 || due[0].SellerID != "s2" || due[0].EventType != "seller.status_changed" {
			t.Fatalf("due after s1 failed %+v", due)
		}
		// s1's first fails for good: the next of s1 comes due.
		s1first := all[len(all)-1]
		if err := st.RecordAttempt(ctx, s1first, store.Attempt{At: time.Now(), StatusCode: 500, Error: "answered 500"}); err != nil {
			t.Fatal(err)
		}
		due, _ = st.DueDeliveries(ctx, "wh_all", time.Now().Add(time.Second), 10)
		if len(due) != 2 || due[0].SellerID != "s1" || due[0].EventType != "seller.status_changed" {
			t.Fatalf("due after s1 failed for good %+v", due)
		}
		failed, _, _ := st.Deliveries(ctx, "wh_all", store.DeliveryFailed, store.Page{})
		if len(failed) != 1 || failed[0].Attempts != 2 || *failed[0].LastStatusCode != 500 {
			t.Fatalf("failed %+v", failed)
		}
		if _, err := st.RetryDelivery(ctx, "wh_all", failed[0].EventID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := st.RetryDelivery(ctx, "wh_all", failed[0].EventID, time.Now()); !errors.Is(err, store.ErrConflict) {
			t.Errorf("retry of a pending delivery: %v, want ErrConflict", err)
		}
		if _, err := st.RetryDelivery(ctx, "wh_all", "evt_nothing", time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("retry of nothing: %v, want ErrNotFound", err)
		}
		if err := st.DeleteWebhook(ctx, "wh_all"); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteWebhook(ctx, "wh_all"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		if n := count(t, st, "webhook_deliveries"); n != 3 {
			t.Errorf("%d deliveries left, want wh_status's 3", n)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
