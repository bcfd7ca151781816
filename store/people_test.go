package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// A reviewer's address is unique whatever its case; sellers may share one.
func TestReviewerEmailsAreUniqueWhateverTheirCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateReviewer(ctx, store.Reviewer{Name: "One", Email: "R1@M.example"}, "k1"); err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"R1@M.example", "r1@m.example", "r1@M.EXAMPLE"} {
			if _, err := st.CreateReviewer(ctx, store.Reviewer{Name: "Again", Email: email}, "k-"+email); !errors.Is(err, store.ErrConflict) {
				t.Errorf("a second reviewer %s: %v, want ErrConflict", email, err)
			}
		}
		if _, err := st.CreateReviewer(ctx, store.Reviewer{Name: "Two", Email: "r2@m.example"}, "k2"); err != nil {
			t.Errorf("another address: %v", err)
		}
		if n := count(t, st, "reviewers"); n != 2 {
			t.Errorf("%d reviewers, want 2", n)
		}
		if n := count(t, st, "api_keys"); n != 2 {
			t.Errorf("%d keys, want 2: a refused reviewer's key was kept", n)
		}
		people, err := st.PeopleByEmail(ctx, "r1@m.example")
		if err != nil || len(people) != 1 {
			t.Errorf("sign-in finds %+v (%v), want the one reviewer", people, err)
		}

		for i, email := range []string{"ops@shop.example", "OPS@shop.example"} {
			id := []string{"shop-a", "shop-b"}[i]
			if _, err := st.CreateSeller(ctx, store.Seller{ID: id, Name: id, Email: email}, "h-"+id); err != nil {
				t.Errorf("seller %s at %s: %v (sellers may share an address)", id, email, err)
			}
		}
	})
}

// Migration 7 refuses to run over reviewers that differ only in case, rather
// than keep them both.
func TestMigration7RefusesCaseVariantReviewers(t *testing.T) {
	eachMigratedTo(t, 6, func(t *testing.T, st *store.Store) {
		insert(t, st, "reviewers", map[string]any{"id": "r1", "name": "One", "email": "R1@M.example", "created_at": 0})
		insert(t, st, "reviewers", map[string]any{"id": "r2", "name": "Two", "email": "r1@m.example", "created_at": 0})
		if _, err := st.Migrate(context.Background()); err == nil {
			t.Fatal("migrated over two reviewers at R1@M.example and r1@m.example")
		}
	})
}
