package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

func TestImportFile(t *testing.T) {
	dbURL := storetest.NewPostgresURL(t)
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSeller(context.Background(), store.Seller{ID: "imp", Name: "Imp", Email: "imp@example.com"}, "h"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var b strings.Builder
	good := 0
	for i := range 12000 { // more than two chunks
		b.WriteString(mustJSON(map[string]any{"id": fmt.Sprintf("p%d", i), "type": "order_placed", "at": ts(now.Add(-time.Hour)),
			"seller_id": "imp", "order_id": fmt.Sprintf("o%d", i), "ship_by": ts(now.Add(time.Hour)), "deliver_by": ts(now.Add(48 * time.Hour))}) + "\n")
		good++
		switch i {
		case 10:
			b.WriteString(`{"id":"bad1","type":"feedback","at":"2026-01-01T00:00:00Z","order_id":"o1","rating":9}` + "\n") // line 12
		case 20:
			b.WriteString("this is not json\n") // line 23
		case 7000:
			b.WriteString(`{"id":"bad3","type":"chargeback","at":"2026-01-01T00:00:00Z","order_id":"nobody"}` + "\n") // line 7004
		}
	}
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AH_DATABASE_URL": dbURL}
	var out, errs syncBuffer
	code := run(context.Background(), []string{"import", path}, func(k string) string { return env[k] }, &out, &errs)
	summary := out.String()
	if code == 0 || !strings.Contains(summary, "12000 events accepted") || !strings.Contains(summary, "3 lines rejected") {
		t.Fatalf("first import: exit %d\n%s\n%s", code, summary, errs.String())
	}
	for _, want := range []string{"line 12: rating", "line 23: must be a JSON object", "line 7004: order_id no order_placed"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q:\n%s", want, summary)
		}
	}
	if !strings.Contains(errs.String(), "100%") {
		t.Errorf("no progress shown: %q", errs.String())
	}
	out, errs = syncBuffer{}, syncBuffer{}
	run(context.Background(), []string{"import", path}, func(k string) string { return env[k] }, &out, &errs)
	if !strings.Contains(out.String(), "0 events accepted, 12000 duplicates") {
		t.Errorf("a re-run stored something again:\n%s", out.String())
	}
	var n int
	if err := st.DB().QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != good {
		t.Errorf("%d orders stored (%v), want %d", n, err, good)
	}
}
