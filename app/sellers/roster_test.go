package sellers_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/app/sellers"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// Every seller comes exactly once across the pages, in id order, filtered or
// not, on both databases.
func TestListPagesEverySellerOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const n = 1234
		suspended := map[string]bool{}
		for i := range n {
			id := fmt.Sprintf("s%05d", (i*7919)%n) // created out of id order
			if _, err := st.CreateSeller(ctx, store.Seller{ID: id, Name: id, Email: id + "@example.com"}, "h"+id); err != nil {
				t.Fatal(err)
			}
			if i%10 == 3 {
				suspended[id] = true
				odr := string(health.ODR)
				err := st.RecordCase(ctx, store.CaseRecord{
					Case: store.CaseRow{ID: "C-" + id, WorkflowID: "w", RunID: "r", SellerID: id, Kind: string(health.MetricBreach), Metric: &odr,
						Action: "suspend", State: "enforced", Enforcement: "account_suspension", OpenedAt: time.Now(), MaxAppeals: 3, Evidence: `{}`},
					Event: store.CaseEvent{CaseID: "C-" + id, Seq: 1, At: time.Now(), Type: "opened", Actor: "system", ToState: "enforced", Detail: `{}`}})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		svc := &sellers.Service{Store: st, Roster: st, Policy: health.DefaultPolicy()}
		admin := app.Principal{Role: store.RoleAdmin}
		walk := func(f sellers.ListFilter, limit int) []sellers.Summary {
			var all []sellers.Summary
			page := store.Page{Limit: limit}
			for pages := 0; ; pages++ {
				list, next, err := svc.List(ctx, admin, f, page)
				if err != nil {
					t.Fatal(err)
				}
				if len(list) > limit || (next != nil && len(list) != limit) {
					t.Fatalf("a page of %d with next %v, limit %d", len(list), next, limit)
				}
				all = append(all, list...)
				if next == nil {
					return all
				}
				page.After = next
				if pages > n {
					t.Fatal("no end")
				}
			}
		}
		all := walk(sellers.ListFilter{}, 97)
		if len(all) != n {
			t.Fatalf("%d sellers across the pages, want %d", len(all), n)
		}
		for i, s := range all {
			if want := fmt.Sprintf("s%05d", i); s.ID != want || s.Tier != health.StartTier {
				t.Fatalf("seller %d is %+v, want %s at standard", i, s, want)
			}
		}
		bad := walk(sellers.ListFilter{Status: string(health.Suspended)}, 10)
		if len(bad) != len(suspended) {
			t.Fatalf("%d suspended across the pages, want %d", len(bad), len(suspended))
		}
		for i, s := range bad {
			if !suspended[s.ID] || s.OpenCases != 1 || (i > 0 && bad[i-1].ID >= s.ID) {
				t.Fatalf("suspended seller %+v", s)
			}
		}
		if _, _, err := svc.List(ctx, admin, sellers.ListFilter{Status: "sleepy", Band: "red", Tier: "gold"}, store.Page{Limit: 10}); err == nil {
			t.Error("bad filters taken")
		} else {
			var ae *app.Error
			if !errors.As(err, &ae) || ae.Fields["status"] == "" || ae.Fields["band"] == "" || ae.Fields["tier"] == "" {
				t.Errorf("bad filters: %v", err)
			}
		}
		if _, _, err := svc.List(ctx, app.Principal{Role: store.RoleSeller, SellerID: "s00001"}, sellers.ListFilter{}, store.Page{Limit: 10}); err == nil {
			t.Error("a seller listed sellers")
		}
	})
}
