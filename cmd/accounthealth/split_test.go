//go:build !nodev

package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/activities/mail/capture"
	"github.com/accounthealth/accounthealth/cmd/accounthealth/internal/devtemporal"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// waitFor gets url until it answers code, for at most d.
func waitFor(t *testing.T, d time.Duration, url string, code int) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == code {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %d within %s (last: %v)", url, code, d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServeWorkerAndMigrateApart runs the production parts as separate programs
// (migrate, then serve and worker) against one Postgres, one Temporal server and
// one SMTP server, and drives a breach through to its warning mail.
func TestServeWorkerAndMigrateApart(t *testing.T) {
	ts, err := devtemporal.Start(context.Background(), devtemporal.Options{DataDir: t.TempDir(), Port: freePort(t, true), Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Stop()
	smtp, err := capture.Start("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, false))
	workerAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, false))
	env := map[string]string{
		"AH_WORKER_ADDR":  workerAddr,
		"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_TEMPORAL_ADDRESS": ts.FrontendAddress(), "AH_SMTP_URL": smtp.URL(),
		"AH_ADMIN_KEY": "admin-key-for-the-split-test", "AH_HTTP_ADDR": httpAddr, "AH_POLICY_FILE": writePolicy(t, "1h"),
	}
	getenv := func(k string) string { return env[k] }

	var out, errs syncBuffer
	if code := run(context.Background(), []string{"migrate"}, getenv, &out, &errs); code != 0 || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("migrate: %d\n%s\n%s", code, out.String(), errs.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 2)
	for _, mode := range []string{"worker", "serve"} {
		go func() { done <- run(ctx, []string{mode}, getenv, &out, &errs) }()
	}
	defer func() {
		cancel()
		for range 2 {
			if code := <-done; code != 0 {
				t.Errorf("a part exited with %d:\n%s", code, errs.String())
			}
		}
	}()
	d := &devProcess{base: "http://" + httpAddr, adminKey: env["AH_ADMIN_KEY"]}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(d.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not healthy:\n%s", errs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The worker answers its probes on its own listener.
	for _, base := range []string{d.base, "http://" + workerAddr} {
		var h struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}
		waitFor(t, time.Minute, base+"/livez", http.StatusOK)
		if code := call(t, "GET", base+"/healthz", "", nil, &h); code != http.StatusOK || h.Status != "ok" ||
			h.Checks["database"] != "ok" || h.Checks["temporal"] != "ok" || h.Checks["smtp"] != "ok" {
			t.Errorf("%s/healthz: %d %+v", base, code, h)
		}
	}
	// The worker's metrics are on its internal port, without a key.
	if code, m := scrape(t, "http://"+workerAddr, ""); code != http.StatusOK || len(m) == 0 {
		t.Errorf("worker /metrics: %d, %d series", code, len(m))
	}
	key := provisionSeller(t, d.base, d.adminKey, "split")
	c := openCase(t, d, "split", key)
	m, err := smtp.Wait(ctx, func(m capture.Message) bool { return strings.Contains(m.Subject, c.ID) })
	if err != nil || m.To[0] != "split@example.com" {
		t.Errorf("warning mail: %+v %v", m, err)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	for _, c := range []struct {
		mode string
		env  map[string]string
		want string
	}{
		{"serve", map[string]string{}, "AH_DATABASE_URL"},
		{"serve", map[string]string{"AH_DATABASE_URL": "postgres://x/y"}, "AH_TEMPORAL_ADDRESS"},
		{"worker", map[string]string{"AH_DATABASE_URL": "postgres://x/y", "AH_TEMPORAL_ADDRESS": "t:7233"}, "AH_SMTP_URL"},
		{"dev", map[string]string{"AH_HTTP_ADDR": "nonsense"}, "AH_HTTP_ADDR"},
		{"dev", map[string]string{"AH_TEMPORAL_DEV_PORT": "99999"}, "AH_TEMPORAL_DEV_PORT"},
		{"dev", map[string]string{"AH_SMTP_URL": "http://mail"}, "AH_SMTP_URL"},
		{"dev", map[string]string{"AH_MAIL_FROM": "not an address"}, "AH_MAIL_FROM"},
		{"dev", map[string]string{"AH_ADMIN_KEY": "short"}, "AH_ADMIN_KEY"},
		{"dev", map[string]string{"AH_PUBLIC_URL": "ftp://x"}, "AH_PUBLIC_URL"},
		{"dev", map[string]string{"AH_POLICY_FILE": "/nonexistent/policy.yaml"}, "AH_POLICY_FILE"},
		{"bogus", map[string]string{}, "unknown command"},
	} {
		var out, errs syncBuffer
		code := run(context.Background(), []string{c.mode}, func(k string) string { return c.env[k] }, &out, &errs)
		if code == 0 || !strings.Contains(errs.String(), c.want) {
			t.Errorf("%s with %v: exit %d, %q; want an error naming %s", c.mode, c.env, code, errs.String(), c.want)
		}
	}
	// A malformed policy names its key.
	path := writePolicy(t, "soon")
	var out, errs syncBuffer
	if code := run(context.Background(), []string{"dev"}, func(k string) string {
		return map[string]string{"AH_POLICY_FILE": path}[k]
	}, &out, &errs); code == 0 || !strings.Contains(errs.String(), "cases.warning_grace") {
		t.Errorf("a malformed policy: exit %d, %q", code, errs.String())
	}
}

// TestScheduledSweepEvaluatesEverySeller: with a sweep interval in the policy, the
// Temporal Schedule made at start evaluates sellers nobody asked about, and a
// breach it finds opens a case.
func TestScheduledSweepEvaluatesEverySeller(t *testing.T) {
	d := startDev(t, map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_POLICY_FILE": writePolicyWithSweep(t, "1h", "2s")})
	key := provisionSeller(t, d.base, d.adminKey, "swept")
	if code := call(t, "POST", d.base+"/v1/events", d.adminKey, map[string]any{"events": breachEvents("swept", time.Now().UTC())}, nil); code != http.StatusOK {
		t.Fatalf("post events: %d", code)
	}
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		var list struct {
			Cases []caseResp `json:"cases"`
		}
		call(t, "GET", d.base+"/v1/cases", key, nil, &list)
		if len(list.Cases) == 1 {
			var h healthResp
			call(t, "GET", d.base+"/v1/sellers/swept/health", key, nil, &h)
			if h.EvaluatedAt == nil {
				t.Error("a case opened but the health shows no evaluation")
			}
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatal("the scheduled sweep never opened the case")
}
