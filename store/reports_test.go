package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

func TestReportIsDecidedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "One", Email: "one@example.com"}, "h1"); err != nil {
			t.Fatal(err)
		}
		at := now.Truncate(time.Millisecond)
		if err := st.CreateReport(ctx, store.Report{ID: "r1", SellerID: "s1", Category: "counterfeit", Description: "fake", Status: store.ReportOpen, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateReport(ctx, store.Report{ID: "r2", SellerID: "nobody", Category: "counterfeit", Description: "fake", Status: store.ReportOpen, CreatedAt: at}); err == nil {
			t.Error("a report of an unknown seller was stored")
		}
		caseID := "C-1"
		r, err := st.DecideReport(ctx, "r1", store.ReportCaseOpened, "rev1", "found", &caseID, at)
		if err != nil || r.Status != store.ReportCaseOpened || *r.CaseID != "C-1" || !r.DecidedAt.Equal(at) {
			t.Fatalf("decide: %+v %v", r, err)
		}
		if _, err := st.DecideReport(ctx, "r1", store.ReportDismissed, "rev2", "no", nil, at); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second decision: %v, want ErrConflict", err)
		}
		if _, err := st.DecideReport(ctx, "r9", store.ReportDismissed, "rev2", "no", nil, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("decision on nothing: %v, want ErrNotFound", err)
		}
		open, _, _ := st.Reports(ctx, store.ReportOpen, store.Page{})
		all, _, _ := st.Reports(ctx, "", store.Page{})
		if len(open) != 0 || len(all) != 1 {
			t.Errorf("%d open, %d in all", len(open), len(all))
		}
	})
}
