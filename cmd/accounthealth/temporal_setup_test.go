package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/server/temporaltest"

	"github.com/accounthealth/accounthealth/activities/mail/capture"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// TestTemporalSetupRegistersSearchAttributes: against a cluster that lacks the
// search attributes (a fresh Temporal), the worker refuses to start and names the
// fix; `temporal-setup` adds them, once; then the worker starts.
func TestTemporalSetupRegistersSearchAttributes(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	smtp, err := capture.Start("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	env := map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_TEMPORAL_ADDRESS": ts.GetFrontendHostPort(),
		"AH_TEMPORAL_NAMESPACE": ts.GetDefaultNamespace(), "AH_SMTP_URL": smtp.URL()}
	getenv := func(k string) string { return env[k] }
	runIt := func(ctx context.Context, args ...string) (int, string, string) {
		var out, errs syncBuffer
		code := run(ctx, args, getenv, &out, &errs)
		return code, out.String(), errs.String()
	}

	if code, _, errs := runIt(context.Background(), "worker"); code != 1 || !strings.Contains(errs, "temporal-setup") || !strings.Contains(errs, "SellerId") {
		t.Fatalf("worker on a bare namespace: %d %s, want 1 and a pointer to temporal-setup", code, errs)
	}
	if code, out, errs := runIt(context.Background(), "temporal-setup"); code != 0 || !strings.Contains(out, "added the search attributes CaseId, CaseKind, CaseMetric, CaseState, SellerId") {
		t.Fatalf("temporal-setup: %d %s %s", code, out, errs)
	}
	if code, out, errs := runIt(context.Background(), "temporal-setup"); code != 0 || !strings.Contains(out, "has every search attribute") {
		t.Fatalf("temporal-setup again: %d %s %s", code, out, errs)
	}
	// Now the worker runs until it is stopped.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if code, _, errs := runIt(ctx, "worker"); code != 0 || !strings.Contains(errs, "worker started") {
		t.Errorf("worker after setup: %d %s", code, errs)
	}
}
