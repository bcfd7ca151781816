package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/store/storetest"
)

// TestSmoke runs every benchmark at the smoke size so the harness keeps working.
// It checks that each one ran and measured something; it asserts no timing.
func TestSmoke(t *testing.T) {
	var out, progress bytes.Buffer
	results, err := run(context.Background(), sizes["smoke"], []string{"ingest", "evaluation", "cases", "tiers", "api", "storm", "webhooks", "growth"}, &out, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	seen := map[string]int{}
	for _, r := range results {
		seen[r.Name]++
		if r.Ours <= 0 || r.Baseline <= 0 {
			t.Errorf("%s (%s) measured nothing: %+v", r.Name, r.Measure, r)
		}
		if r.Name == "growth" && r.Again <= 0 {
			t.Errorf("growth (%s): no second sweep: %+v", r.Measure, r)
		}
		if r.Failed > 0 {
			t.Errorf("%s: %d requests failed while it ran (%s)", r.Name, r.Failed, r.Note)
		}
	}
	for name, n := range map[string]int{"ingest": 2, "evaluation": 1, "cases-temporaltest": 2 * casesRuns, "tiers": 1, "api": 3, "storm": 1, "webhooks": 1, "growth": 3} {
		if seen[name] != n {
			t.Errorf("%d %s results, want %d", seen[name], name, n)
		}
	}
	if !strings.Contains(out.String(), "ratio") || !strings.Contains(out.String(), "second sweep s") || !strings.Contains(out.String(), ", autovacuum o") {
		t.Errorf("the report lacks its table:\n%s", out.String())
	}
	t.Log("\n" + out.String())
}

// TestMarketplaceSmoke runs -size marketplace on a few sellers, so its harness
// (the real binary, streamed COPY, both sweeps, the tiers, the bare workflows)
// keeps working. Like TestSmoke it asserts no timing.
func TestMarketplaceSmoke(t *testing.T) {
	var progress bytes.Buffer
	step := func(format string, args ...any) { fmt.Fprintf(&progress, format+"\n", args...) }
	m := marketplace{Sellers: 200, Orders: 20_000, TellLimit: 5 * time.Minute, BareSample: 10, LoadFor: time.Second}
	results, err := benchMarketplace(context.Background(), storetest.PostgresAdminURL(), m, step)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if len(results) != 10 {
		t.Fatalf("%d results, want 10: %+v", len(results), results)
	}
	for _, r := range results {
		if r.Ours <= 0 || r.Baseline <= 0 {
			t.Errorf("%s measured nothing: %+v", r.Measure, r)
		}
	}
	if !strings.Contains(results[3].Measure, "every case told, 10 breaches") {
		t.Errorf("sweep 1 told %q, want all 10 breaches told within the limit\n%s", results[3].Measure, progress.String())
	}
	if opened := results[4]; !strings.Contains(opened.Measure, "every case opened") || opened.Missing != "" || opened.Ours < results[3].Ours {
		t.Errorf("sweep 1's cases opened: %+v, want every one opened, no sooner than told\n%s", opened, progress.String())
	}
}
