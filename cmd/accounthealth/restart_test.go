package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds the real binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "accounthealth")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// startBinary runs `accounthealth dev` as its own process and waits for its banner
// and a healthy /healthz.
func startBinary(t *testing.T, bin string, env []string, base string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "dev")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	banner := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(strings.TrimSpace(sc.Text()), "Admin key:") {
				banner <- b.String()
			}
		}
	}()
	select {
	case out := <-banner:
		if !strings.Contains(out, "API:") || !strings.Contains(out, "Web UI:") {
			t.Errorf("banner lacks the URLs:\n%s", out)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("no banner within 2 minutes")
	}
	for range 100 {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("not healthy")
	return nil
}

// TestKilledDevKeepsItsState kills `dev` with SIGKILL and starts it again on the
// same data dir (SQLite and the embedded Temporal server's file): the sellers,
// their events and health, and the admin key are all still there.
func TestKilledDevKeepsItsState(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()
	httpPort := freePort(t, false)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	env := []string{
		"AH_DATA_DIR=" + dataDir,
		fmt.Sprintf("AH_HTTP_ADDR=127.0.0.1:%d", httpPort),
		fmt.Sprintf("AH_TEMPORAL_DEV_PORT=%d", freePort(t, true)),
		"AH_DATABASE_URL=", "AH_ADMIN_KEY=", "AH_SMTP_URL=", "AH_TEMPORAL_ADDRESS=",
	}
	first := startBinary(t, bin, env, base)
	keyBytes, err := os.ReadFile(filepath.Join(dataDir, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(keyBytes))
	d := &devProcess{base: base, adminKey: admin}

	var created struct {
		APIKey string `json:"api_key"`
	}
	if code := call(t, "POST", base+"/v1/sellers", admin, map[string]string{"id": "keeper", "name": "Keeper", "email": "k@example.com"}, &created); code != http.StatusCreated {
		t.Fatalf("create seller: %d", code)
	}
	now := time.Now().UTC()
	var events []map[string]any
	for i := range 12 {
		oid := fmt.Sprintf("k-%d", i)
		events = append(events, map[string]any{"id": "p" + oid, "type": "order_placed", "at": ts(now.Add(-48 * time.Hour)), "seller_id": "keeper",
			"order_id": oid, "ship_by": ts(now.Add(-24 * time.Hour)), "deliver_by": ts(now.Add(72 * time.Hour))})
		if i < 3 {
			events = append(events, map[string]any{"id": "f" + oid, "type": "feedback", "at": ts(now.Add(-time.Hour)), "order_id": oid, "rating": 1})
		}
	}
	if code := call(t, "POST", base+"/v1/events", admin, map[string]any{"events": events}, nil); code != http.StatusOK {
		t.Fatalf("post events: %d", code)
	}
	ev := evaluate(t, d, map[string]any{})

	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	startBinary(t, bin, env, base)
	var h healthResp
	if code := call(t, "GET", base+"/v1/sellers/keeper/health", created.APIKey, nil, &h); code != http.StatusOK {
		t.Fatalf("health after restart: %d", code)
	}
	odr := h.Metrics[0]
	if odr.Metric != "odr" || odr.Numerator != 3 || odr.Denominator != 12 || odr.Status != "bad" || h.EvaluatedAt == nil || !h.EvaluatedAt.Equal(*ev.AsOf) {
		t.Errorf("after restart: %+v", h)
	}
	var again struct{ Accepted, Duplicates int }
	call(t, "POST", base+"/v1/events", admin, map[string]any{"events": events}, &again)
	if again.Accepted != 0 || again.Duplicates != len(events) {
		t.Errorf("events re-sent after restart: %+v, want all duplicates", again)
	}
	// The workflow engine came back too: a new evaluation runs to completion.
	if ev2 := evaluate(t, d, map[string]any{}); ev2.SellersEvaluated != 1 {
		t.Errorf("evaluation after restart: %+v", ev2)
	}
}

// TestKilledDuringGraceStillEnforcesOnTime kills `dev` (SIGKILL) while a case
// waits in its grace period and starts it again: the durable timer still fires,
// the case reaches enforced on time, and no mail is sent twice.
func TestKilledDuringGraceStillEnforcesOnTime(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()
	httpPort := freePort(t, false)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	const grace = 12 * time.Second
	env := []string{
		"AH_DATA_DIR=" + dataDir,
		fmt.Sprintf("AH_HTTP_ADDR=127.0.0.1:%d", httpPort),
		fmt.Sprintf("AH_TEMPORAL_DEV_PORT=%d", freePort(t, true)),
		"AH_POLICY_FILE=" + writePolicy(t, grace.String()),
		"AH_DATABASE_URL=", "AH_ADMIN_KEY=", "AH_SMTP_URL=", "AH_TEMPORAL_ADDRESS=",
	}
	first := startBinary(t, bin, env, base)
	keyBytes, err := os.ReadFile(filepath.Join(dataDir, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	d := &devProcess{base: base, adminKey: strings.TrimSpace(string(keyBytes))}
	key := provisionSeller(t, base, d.adminKey, "mia")
	c := openCase(t, d, "mia", key)
	waitMail(t, base, d.adminKey, c.ID, "Warning", "mia@example.com")
	var opened caseResp
	call(t, "GET", base+"/v1/cases/"+c.ID, key, nil, &opened)
	if opened.State != "warned" {
		t.Fatalf("case is %s before the kill, want warned", opened.State)
	}

	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	startBinary(t, bin, env, base)

	enforced := waitState(t, base, key, c.ID, "enforced")
	waitMail(t, base, d.adminKey, c.ID, "account suspension", "mia@example.com")
	openedAt, enforcedAt := enforced.Timeline[0].At, enforced.Timeline[len(enforced.Timeline)-1].At
	if enforced.Timeline[len(enforced.Timeline)-1].Type != "enforced" || enforcedAt.Before(openedAt.Add(grace)) || enforcedAt.After(openedAt.Add(grace+20*time.Second)) {
		t.Errorf("opened %v, enforced %v: want the grace period (%v) and not much more", openedAt, enforcedAt, grace)
	}
	time.Sleep(2 * time.Second) // give a duplicate the chance to show
	count := map[string]int{}
	for _, m := range mails(t, base, d.adminKey) {
		count[m.Subject]++
	}
	if len(count) != 2 {
		t.Errorf("mails %v, want a warning and an enforcement", count)
	}
	for s, n := range count {
		if n != 1 {
			t.Errorf("%q sent %d times", s, n)
		}
	}
}
