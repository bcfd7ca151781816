package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// TestPruneBatch: each kind loses, batch by batch, only its rows older than the
// cut-off; a sent mail keeps its row with its body emptied, and an unsent one
// keeps its body.
func TestPruneBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		old, recent := now.Add(-48*time.Hour).UnixMilli(), now.Add(-time.Hour).UnixMilli()
		db := st.DB()
		exec := func(q string, args ...any) {
			t.Helper()
			if st.Dialect() == store.Postgres {
				n := 0
				for i := 0; i < len(q); i++ {
					if q[i] == '?' {
						n++
						q = q[:i] + fmt.Sprintf("$%d", n) + q[i+1:]
					}
				}
			}
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for i := range 5 {
			exec(`INSERT INTO seller_snapshots (evaluation_id, seller_id, evaluated_at, metrics) VALUES (?, ?, ?, '[]')`, fmt.Sprint("e-old-", i), "s1", old)
			exec(`INSERT INTO seller_snapshots (evaluation_id, seller_id, evaluated_at, metrics) VALUES (?, ?, ?, '[]')`, fmt.Sprint("e-new-", i), "s1", recent)
			exec(`INSERT INTO sessions (id_hash, role, csrf, created_at, expires_at) VALUES (?, 'admin', 'c', ?, ?)`, fmt.Sprint("old-", i), old, old)
			exec(`INSERT INTO sessions (id_hash, role, csrf, created_at, expires_at) VALUES (?, 'admin', 'c', ?, ?)`, fmt.Sprint("new-", i), recent, now.Add(time.Hour).UnixMilli())
			exec(`INSERT INTO login_tokens (token_hash, email, role, created_at, expires_at) VALUES (?, 'a@b.c', 'admin', ?, ?)`, fmt.Sprint("old-", i), old, old)
			exec(`INSERT INTO signin_requests (email, client, at) VALUES ('a@b.c', ?, ?)`, fmt.Sprint("c", i), old)
			exec(`INSERT INTO signin_requests (email, client, at) VALUES ('a@b.c', ?, ?)`, fmt.Sprint("c", i), recent)
		}
		for _, k := range []string{"sent-old", "sent-new", "unsent-old"} {
			if err := st.QueueMail(ctx, store.OutboxMail{Key: k, Template: "t", Recipients: `["a@b.c"]`, Subject: k, TextBody: "body", HTMLBody: "<p>body</p>",
				CreatedAt: time.UnixMilli(old)}); err != nil {
				t.Fatal(err)
			}
		}
		exec(`UPDATE outbox SET sent_at = ? WHERE key = 'sent-old'`, old)
		exec(`UPDATE outbox SET sent_at = ? WHERE key = 'sent-new'`, recent)

		cut := now.Add(-24 * time.Hour)
		want := map[string]int64{store.PruneSnapshots: 5, store.PruneSentMailBodies: 1, store.PruneSessions: 5, store.PruneLoginTokens: 5, store.PruneSigninRequests: 5}
		for _, kind := range store.PruneKinds {
			var total int64
			for {
				n, err := st.PruneBatch(ctx, kind, cut, 2)
				if err != nil {
					t.Fatal(err)
				}
				total += n
				if n < 2 {
					break
				}
			}
			if total != want[kind] {
				t.Errorf("%s: pruned %d, want %d", kind, total, want[kind])
			}
		}
		for table, n := range map[string]int{"seller_snapshots": 5, "sessions": 5, "login_tokens": 0, "signin_requests": 5, "outbox": 3} {
			if got := count(t, st, table); got != n {
				t.Errorf("%s: %d rows left, want %d", table, got, n)
			}
		}
		for key, body := range map[string]string{"sent-old": "", "sent-new": "body", "unsent-old": "body"} {
			m, err := st.Mail(ctx, key)
			if err != nil || m.TextBody != body || (body == "") != (m.HTMLBody == "") || m.Subject != key {
				t.Errorf("mail %s after pruning: %+v %v", key, m, err)
			}
		}
		if _, err := st.PruneBatch(ctx, "cases", cut, 2); err == nil {
			t.Error("pruning cases was accepted")
		}
	})
}
