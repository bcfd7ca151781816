package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// TestRequestSignin: a client's requests for an address are limited apart from
// other clients', all clients' together by a larger ceiling, and the window
// slides.
func TestRequestSignin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		lim := store.SigninLimits{Window: 15 * time.Minute, PerClient: 2, PerAddress: 5}
		t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		ask := func(email, client string, at time.Time, want store.SigninVerdict) {
			t.Helper()
			got, err := st.RequestSignin(ctx, email, client, at, lim)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s from %s at %s: verdict %d, want %d", email, client, at.Format("15:04"), got, want)
			}
		}
		ask("a@example.com", "10.0.0.1", t0, store.SigninGranted)
		ask("A@example.com", "10.0.0.1", t0, store.SigninGranted) // one address, in any case
		ask("a@example.com", "10.0.0.1", t0, store.SigninClientLimited)
		ask("a@example.com", "10.0.0.1", t0, store.SigninClientLimited) // refusals do not count
		ask("b@example.com", "10.0.0.1", t0, store.SigninGranted)       // another address
		ask("a@example.com", "10.0.0.2", t0, store.SigninGranted)       // another client
		ask("a@example.com", "10.0.0.2", t0, store.SigninGranted)
		ask("a@example.com", "10.0.0.3", t0, store.SigninGranted) // the fifth for the address
		ask("a@example.com", "10.0.0.4", t0, store.SigninAddressLimited)
		// The window slides: 15 minutes on, every client may ask again.
		later := t0.Add(15*time.Minute + time.Second)
		ask("a@example.com", "10.0.0.1", later, store.SigninGranted)
		ask("a@example.com", "10.0.0.4", later, store.SigninGranted)
	})
}
