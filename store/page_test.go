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

// Pages cut by key: every case and every appeal is read exactly once, in the
// list's order, even when several share a sort instant and when a newer case
// arrives between two pages.
func TestPagesReadEveryRowOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "One", Email: "one@example.com"}, "h1"); err != nil {
			t.Fatal(err)
		}
		base := now.Truncate(time.Millisecond)
		record := func(i int, opened time.Time) {
			t.Helper()
			id := fmt.Sprintf("C-%02d", i)
			m := string(health.ODR)
			r := store.CaseRecord{
				Case: store.CaseRow{ID: id, WorkflowID: "case/s1/" + id, RunID: "r" + id, SellerID: "s1", Kind: string(health.MetricBreach),
					Metric: &m, Action: "suspend", State: "warned", Enforcement: "none", OpenedAt: opened, MaxAppeals: 3, Evidence: `{}`},
				Event: store.CaseEvent{CaseID: id, Seq: 1, At: opened, Type: "opened", Actor: "system", ToState: "warned", Detail: `{}`},
				// Three appeals share each submission instant.
				Appeal: &store.AppealRow{ID: "A-" + id, CaseID: id, SellerID: "s1", Status: store.AppealSubmitted,
					RootCause: "r", CorrectiveActions: "c", PreventiveMeasures: "p", SubmittedAt: base.Add(time.Duration(i/3) * time.Minute)},
			}
			if err := st.RecordCase(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		const n = 23
		for i := range n {
			record(i, base.Add(time.Duration(i/4)*time.Hour)) // four cases share each opening instant
		}

		var seen []string
		var after *store.Cursor
		for pages := 0; ; pages++ {
			rows, next, err := st.Cases(ctx, store.CaseFilter{SellerID: "s1", Page: store.Page{Limit: 5, After: after}})
			if err != nil {
				t.Fatal(err)
			}
			if pages == 1 { // a case newer than every read one: it belongs before the cursor, so no later page shows it
				record(n, base.Add(48*time.Hour))
			}
			for _, r := range rows {
				seen = append(seen, r.ID)
			}
			if next == nil {
				break
			}
			if len(rows) != 5 {
				t.Fatalf("page %d has %d rows and a next cursor", pages, len(rows))
			}
			after = next
		}
		if len(seen) != n {
			t.Fatalf("read %d cases across pages, want %d: %v", len(seen), n, seen)
		}
		once := map[string]bool{}
		for i, id := range seen {
			if once[id] {
				t.Fatalf("case %s read twice: %v", id, seen)
			}
			once[id] = true
			// Newest first, ties by id: C-20..C-22 opened last, then C-16..C-19, ...
			if i > 0 {
				var a, b int
				fmt.Sscanf(seen[i-1], "C-%d", &a)
				fmt.Sscanf(id, "C-%d", &b)
				if a/4 < b/4 || (a/4 == b/4 && a > b) {
					t.Fatalf("out of order at %d: %v", i, seen)
				}
			}
		}

		var appeals []string
		var cur *store.Cursor
		for {
			rows, next, err := st.Appeals(ctx, store.AppealSubmitted, store.Page{Limit: 4, After: cur})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range rows {
				appeals = append(appeals, a.ID)
			}
			if next == nil {
				break
			}
			cur = next
		}
		if len(appeals) != n+1 {
			t.Fatalf("read %d appeals, want %d: %v", len(appeals), n+1, appeals)
		}
		for i := 1; i < len(appeals); i++ {
			if appeals[i-1] >= appeals[i] { // oldest first; ids rise with submission here
				t.Fatalf("appeals out of order or repeated: %v", appeals)
			}
		}
		if all, next, err := st.Cases(ctx, store.CaseFilter{SellerID: "s1"}); err != nil || next != nil || len(all) != n+1 {
			t.Fatalf("no limit: %d cases, next %v, %v", len(all), next, err)
		}
	})
}
