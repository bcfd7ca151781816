package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// eachMigratedTo runs fn on a fresh database of each dialect, migrated up to
// version only: a test of a migration's data writes rows as the older schema
// held them, then migrates.
func eachMigratedTo(t *testing.T, version int64, fn func(t *testing.T, st *store.Store)) {
	for _, d := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"postgres", func(t *testing.T) string { return storetest.NewPostgresURL(t) }},
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "m.db") }},
	} {
		t.Run(d.name, func(t *testing.T) {
			st, err := store.Open(context.Background(), d.url(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := st.MigrateTo(context.Background(), version); err != nil {
				t.Fatal(err)
			}
			fn(t, st)
		})
	}
}

// insert writes one row with raw SQL, its values bound as the driver binds them
// (a time.Time is a TIMESTAMPTZ on Postgres, Go's time.Time.String() text on
// SQLite: what GORM wrote before migration 6).
func insert(t *testing.T, st *store.Store, table string, row map[string]any) {
	t.Helper()
	cols := make([]string, 0, len(row))
	for c := range row {
		cols = append(cols, c)
	}
	slices.Sort(cols)
	ph, args := make([]string, len(cols)), make([]any, len(cols))
	for i, c := range cols {
		ph[i], args[i] = "?", row[c]
		if st.Dialect() == store.Postgres {
			ph[i] = fmt.Sprintf("$%d", i+1)
		}
	}
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(ph, ", ") + ")"
	if _, err := st.DB().Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// Migration 6 turns every TIMESTAMPTZ (Postgres) and DATETIME (SQLite) column
// into Unix milliseconds: rows written before it read back as the same instants,
// to the millisecond (rounded down), through raw SQL and through the store.
func TestInstantsSurviveMigration6(t *testing.T) {
	cest, india := time.FixedZone("CEST", 2*3600), time.FixedZone("", -(5*3600+30*60))
	a := time.Date(2026, 6, 1, 12, 0, 0, 123456789, time.UTC)
	b := time.Date(2026, 6, 1, 12, 0, 1, 0, time.UTC)               // no fraction
	c := time.Date(2026, 6, 1, 14, 0, 2, 500_000_000, cest)         // another zone, a short fraction
	d := time.Now()                                                 // a monotonic reading (" m=+…" in its text)
	e := time.Date(2026, 6, 1, 7, 0, 3, 999_999_999, india)         // a negative offset with minutes
	f := time.Date(1969, 12, 31, 23, 59, 59, 999_500_000, time.UTC) // before 1970: rounds down to -1 ms
	eachMigratedTo(t, 5, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		insert(t, st, "sellers", map[string]any{"id": "s1", "name": "One", "email": "one@example.com", "created_at": a})
		insert(t, st, "reviewers", map[string]any{"id": "r1", "name": "Rev", "email": "r1@example.com", "created_at": b})
		insert(t, st, "api_keys", map[string]any{"id": "k1", "key_hash": "kh1", "role": "seller", "seller_id": "s1", "created_at": c, "revoked_at": d})
		insert(t, st, "evaluations", map[string]any{"id": "ev1", "status": "completed", "trigger": "test", "started_at": e, "finished_at": f})
		insert(t, st, "cases", map[string]any{"id": "c1", "workflow_id": "case/s1/odr", "run_id": "run1", "seller_id": "s1", "kind": "metric_breach",
			"metric": "odr", "action": "suspend", "state": "enforced", "enforcement": "account_suspension", "opened_at": a, "deadline": b,
			"max_appeals": 3, "evidence": "{}", "updated_at": c})
		insert(t, st, "case_events", map[string]any{"case_id": "c1", "seq": 1, "at": d, "type": "opened", "actor": "system", "to_state": "warned", "detail": "{}"})
		insert(t, st, "appeals", map[string]any{"id": "ap1", "case_id": "c1", "seller_id": "s1", "status": "approved", "root_cause": "x",
			"corrective_actions": "x", "preventive_measures": "x", "submitted_at": e, "decided_at": f, "decided_by": "r1", "review_due": a,
			"claimed_by": "r1", "claimed_at": b})
		insert(t, st, "outbox", map[string]any{"key": "m1", "case_id": "c1", "template": "warning", "recipients": "[]", "subject": "s",
			"text_body": "t", "html_body": "h", "created_at": c, "sent_at": d})
		insert(t, st, "idempotency_keys", map[string]any{"principal": "p", "key": "k", "request_hash": "h", "status": 201, "body": "{}", "created_at": e})
		insert(t, st, "rating_ledger", map[string]any{"seller_id": "s1", "key": "l1", "at": f, "delta": -200, "cause": "a case", "case_id": "c1"})
		insert(t, st, "login_tokens", map[string]any{"token_hash": "t1", "email": "one@example.com", "role": "seller", "seller_id": "s1",
			"created_at": a, "expires_at": b, "used_at": c})
		insert(t, st, "sessions", map[string]any{"id_hash": "h1", "role": "seller", "seller_id": "s1", "csrf": "x", "created_at": d, "expires_at": e})
		if st.Dialect() == store.SQLite {
			// Other layouts SQLite reads, as another writer might have left them.
			for id, v := range map[string]string{"s-rfc3339": "2026-06-01T12:00:00.5Z", "s-offset": "2026-06-01 14:00:00.25+02:00", "s-plain": "2026-06-01 12:00:00"} {
				insert(t, st, "sellers", map[string]any{"id": id, "name": id, "email": id + "@example.com", "created_at": v})
			}
		}

		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}

		type col struct {
			table, column, where string
			want                 *time.Time
		}
		cols := []col{
			{"sellers", "created_at", "id = 's1'", &a}, {"reviewers", "created_at", "id = 'r1'", &b},
			{"api_keys", "created_at", "id = 'k1'", &c}, {"api_keys", "revoked_at", "id = 'k1'", &d},
			{"evaluations", "started_at", "id = 'ev1'", &e}, {"evaluations", "finished_at", "id = 'ev1'", &f},
			{"cases", "opened_at", "id = 'c1'", &a}, {"cases", "deadline", "id = 'c1'", &b}, {"cases", "closed_at", "id = 'c1'", nil},
			{"cases", "updated_at", "id = 'c1'", &c}, {"case_events", "at", "case_id = 'c1'", &d},
			{"appeals", "submitted_at", "id = 'ap1'", &e}, {"appeals", "decided_at", "id = 'ap1'", &f}, {"appeals", "review_due", "id = 'ap1'", &a},
			{"appeals", "claimed_at", "id = 'ap1'", &b}, {"outbox", "created_at", "key = 'm1'", &c}, {"outbox", "sent_at", "key = 'm1'", &d},
			{"idempotency_keys", "created_at", "key = 'k'", &e}, {"rating_ledger", "at", "key = 'l1'", &f},
			{"login_tokens", "created_at", "token_hash = 't1'", &a}, {"login_tokens", "expires_at", "token_hash = 't1'", &b},
			{"login_tokens", "used_at", "token_hash = 't1'", &c}, {"sessions", "created_at", "id_hash = 'h1'", &d},
			{"sessions", "expires_at", "id_hash = 'h1'", &e},
		}
		if st.Dialect() == store.SQLite {
			for id, v := range map[string]time.Time{
				"s-rfc3339": time.Date(2026, 6, 1, 12, 0, 0, 500_000_000, time.UTC),
				"s-offset":  time.Date(2026, 6, 1, 12, 0, 0, 250_000_000, time.UTC),
				"s-plain":   time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
			} {
				cols = append(cols, col{"sellers", "created_at", "id = '" + id + "'", &v})
			}
		}
		for _, x := range cols {
			var got sql.NullInt64
			if err := st.DB().QueryRow("SELECT " + x.column + " FROM " + x.table + " WHERE " + x.where).Scan(&got); err != nil {
				t.Fatalf("%s.%s: %v", x.table, x.column, err)
			}
			switch {
			case x.want == nil && got.Valid:
				t.Errorf("%s.%s = %d, want NULL", x.table, x.column, got.Int64)
			case x.want != nil && (!got.Valid || got.Int64 != x.want.UnixMilli()):
				t.Errorf("%s.%s = %+v, want %d (%s)", x.table, x.column, got, x.want.UnixMilli(), x.want)
			}
			var typ string
			q := "SELECT data_type FROM information_schema.columns WHERE table_name = $1 AND column_name = $2"
			if st.Dialect() == store.SQLite {
				q = "SELECT type FROM pragma_table_info(?1) WHERE name = ?2"
			}
			if err := st.DB().QueryRow(q, x.table, x.column).Scan(&typ); err != nil || !strings.EqualFold(typ, "bigint") {
				t.Errorf("%s.%s is %q (%v), want BIGINT", x.table, x.column, typ, err)
			}
		}

		// Through the store's models and the health page's JSON.
		same := func(what string, got time.Time, want time.Time) {
			t.Helper()
			if !got.Equal(time.UnixMilli(want.UnixMilli())) {
				t.Errorf("%s = %s, want %s to the millisecond", what, got, want)
			}
		}
		sel, err := st.Seller(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		same("seller created_at", sel.CreatedAt, a)
		cs, err := st.Case(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if cs.Deadline == nil || cs.ClosedAt != nil {
			t.Fatalf("case deadline %v closed %v", cs.Deadline, cs.ClosedAt)
		}
		same("case opened_at", cs.OpenedAt, a)
		same("case deadline", *cs.Deadline, b)
		aps, err := st.AppealsOfCase(ctx, "c1")
		if err != nil || len(aps) != 1 || aps[0].DecidedAt == nil || aps[0].ClaimedAt == nil {
			t.Fatalf("appeals %+v %v", aps, err)
		}
		same("appeal decided_at", *aps[0].DecidedAt, f)
		same("appeal claimed_at", *aps[0].ClaimedAt, b)
		ev, err := st.Evaluation(ctx, "ev1")
		if err != nil || ev.FinishedAt == nil {
			t.Fatalf("evaluation %+v %v", ev, err)
		}
		same("evaluation started_at", ev.StartedAt, e)
		sess, err := st.SessionByHash(ctx, "h1", e.Add(-time.Millisecond))
		if err != nil {
			t.Fatalf("session still live a millisecond before it expires: %v", err)
		}
		same("session created_at", sess.CreatedAt, d)
		h, err := st.LatestHealth(ctx, "s1", health.DefaultPolicy())
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Cases) != 1 || len(h.Ledger) != 1 {
			t.Fatalf("health cases %+v ledger %+v", h.Cases, h.Ledger)
		}
		same("health case opened_at", h.Cases[0].OpenedAt, a)
		same("health ledger at", h.Ledger[0].At, f)

		if st.Dialect() == store.SQLite {
			// The rebuilt tables kept their indexes and their foreign keys.
			var n int
			if err := st.DB().QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN
				('cases_seller_state', 'cases_state', 'appeals_status_submitted', 'appeals_case', 'outbox_case', 'login_tokens_email')`).Scan(&n); err != nil || n != 6 {
				t.Errorf("%d of 6 indexes (%v)", n, err)
			}
			if _, err := st.DB().Exec(`INSERT INTO case_events (case_id, seq, at, type, actor, to_state, detail) VALUES ('no-such-case', 1, 0, 'x', 'x', 'x', '{}')`); err == nil {
				t.Error("a timeline entry of no case was stored: foreign keys are off")
			}
		}
	})
}

// A value migration 6 cannot read fails it, whole, rather than becoming NULL.
func TestMigration6RefusesAnUnreadableInstant(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.MigrateTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	insert(t, st, "sellers", map[string]any{"id": "s1", "name": "One", "email": "one@example.com", "created_at": time.Now()})
	insert(t, st, "api_keys", map[string]any{"id": "k1", "key_hash": "kh1", "role": "seller", "seller_id": "s1", "created_at": time.Now(), "revoked_at": "last tuesday"})
	if _, err := st.MigrateTo(ctx, 6); err == nil {
		t.Fatal("migrated a revoked_at of \"last tuesday\"")
	}
	var typ string
	if err := st.DB().QueryRow("SELECT type FROM pragma_table_info('sellers') WHERE name = 'created_at'").Scan(&typ); err != nil || typ != "DATETIME" {
		t.Errorf("sellers.created_at is %q (%v) after the failed migration, want DATETIME as before", typ, err)
	}
}
