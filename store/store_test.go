package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// Reads do not wait for a writer: with a write transaction open (on SQLite, the
// one writer connection, as a big event batch holds it), the health check and
// the read paths still answer. Each read has a few seconds, so a read that
// queues behind the writer fails the test instead of hanging it.
func TestReadsDoNotWaitForAWriter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "One", Email: "one@example.com"}, "h1"); err != nil {
			t.Fatal(err)
		}
		tx, err := st.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec("INSERT INTO processed_events (id, type, at, received_at) VALUES ('held', 'chargeback', 0, 0)"); err != nil {
			t.Fatal(err)
		}
		reads := []struct {
			name string
			read func(ctx context.Context) error
		}{
			{"Ping", st.Ping},
			{"LatestHealth", func(ctx context.Context) error {
				_, err := st.LatestHealth(ctx, "s1", health.DefaultPolicy())
				return err
			}},
			{"Cases", func(ctx context.Context) error {
				_, _, err := st.Cases(ctx, store.CaseFilter{SellerID: "s1"})
				return err
			}},
			{"Seller", func(ctx context.Context) error { _, err := st.Seller(ctx, "s1"); return err }},
			{"KeyByHash", func(ctx context.Context) error { _, err := st.KeyByHash(ctx, "h1"); return err }},
			{"ReviewQueue", func(ctx context.Context) error { _, err := st.ReviewQueue(ctx, store.QueueFilter{}); return err }},
		}
		for _, r := range reads {
			rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			err := r.read(rctx)
			cancel()
			if err != nil {
				t.Errorf("%s with a write transaction open: %v", r.name, err)
			}
		}
	})
}
