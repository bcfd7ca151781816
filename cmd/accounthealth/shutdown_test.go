package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/activities/mail/capture"
)

// slowRelay forwards SMTP connections to target after holding each one for delay,
// and says on connected when a client has dialled: a mail is then being sent.
func slowRelay(t *testing.T, target string, delay time.Duration) (addr string, connected <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	ch := make(chan struct{}, 16)
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			ch <- struct{}{}
			go func() {
				defer in.Close()
				time.Sleep(delay)
				out, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer out.Close()
				go func() { _, _ = io.Copy(out, in) }()
				_, _ = io.Copy(in, out)
			}()
		}
	}()
	return ln.Addr().String(), ch
}

// TestSIGTERMLetsRunningActivitiesFinish: SIGTERM while an activity is sending a
// mail (held by a slow relay) stops the real binary only after the mail went
// out; the process exits 0.
func TestSIGTERMLetsRunningActivitiesFinish(t *testing.T) {
	bin := buildBinary(t)
	smtp, err := capture.Start("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	relay, connected := slowRelay(t, smtp.Addr(), 3*time.Second)
	httpPort := freePort(t, false)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	env := []string{
		"AH_DATA_DIR=" + t.TempDir(), fmt.Sprintf("AH_HTTP_ADDR=127.0.0.1:%d", httpPort),
		fmt.Sprintf("AH_TEMPORAL_DEV_PORT=%d", freePort(t, true)), "AH_SMTP_URL=smtp://" + relay,
		"AH_ADMIN_KEY=admin-key-for-the-shutdown-test", "AH_DATABASE_URL=", "AH_TEMPORAL_ADDRESS=",
	}
	cmd := startBinary(t, bin, env, base)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	admin := "admin-key-for-the-shutdown-test"
	provisionSeller(t, base, admin, "otto")
	var rev struct {
		APIKey string `json:"api_key"`
	}
	call(t, "POST", base+"/v1/reviewers", admin, map[string]string{"name": "Rita", "email": "rita@example.com"}, &rev)
	var pc caseResp
	if code := call(t, "POST", base+"/v1/cases", rev.APIKey, map[string]string{"seller_id": "otto", "listing_id": "L-1",
		"violation": "ip_complaint", "note": "The listing copies a registered design."}, &pc); code != http.StatusCreated {
		t.Fatalf("policy case: %d", code)
	}
	select {
	case <-connected:
	case <-time.After(30 * time.Second):
		t.Fatal("the enforcement mail was never sent")
	}
	if len(smtp.Messages()) != 0 {
		t.Fatal("the relay did not hold the mail")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want 0", err)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("still running 45s after SIGTERM")
	}
	msgs := smtp.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, pc.ID) || msgs[0].To[0] != "otto@example.com" {
		t.Fatalf("mails delivered by the time the process exited: %+v, want the enforcement mail of %s", msgs, pc.ID)
	}
	t.Logf("exited %v after SIGTERM; the mail arrived %v after it", time.Since(signalled).Round(time.Millisecond),
		msgs[0].ReceivedAt.Sub(signalled).Round(time.Millisecond))
}
