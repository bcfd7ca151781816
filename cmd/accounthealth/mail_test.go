package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/activities/mail/capture"
	"github.com/accounthealth/accounthealth/store/storetest"
)

type mailResp struct {
	ID        string   `json:"id"`
	Template  string   `json:"template"`
	To        []string `json:"to"`
	Subject   string   `json:"subject"`
	Status    string   `json:"status"`
	Attempts  int      `json:"attempts"`
	LastError *string  `json:"last_error"`
}

type mailList struct {
	Mail       []mailResp `json:"mail"`
	NextCursor *string    `json:"next_cursor"`
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// askSigninLink asks the sign-in page for links to email, as a browser would.
func askSigninLink(t *testing.T, base, email string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	resp, err := c.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	var page strings.Builder
	buf := make([]byte, 1<<16)
	for {
		n, err := resp.Body.Read(buf)
		page.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	m := csrfRe.FindStringSubmatch(page.String())
	if m == nil {
		t.Fatal("no CSRF token on the sign-in page")
	}
	resp, err = c.PostForm(base+"/signin", url.Values{"csrf": {m[1]}, "email": {email}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("asking for a sign-in link: %d", resp.StatusCode)
	}
}

// failedMail waits until n mails are failed, and answers them.
func failedMail(t *testing.T, d *devProcess, n int) []mailResp {
	t.Helper()
	var list mailList
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if code := call(t, "GET", d.base+"/v1/mail?status=failed", d.adminKey, nil, &list); code != http.StatusOK {
			t.Fatalf("list failed mail: %d", code)
		}
		if len(list.Mail) >= n {
			return list.Mail
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%d failed mails after 90s, want %d:\n%s", len(list.Mail), n, d.errs)
	return nil
}

func smtpCheck(t *testing.T, d *devProcess) string {
	t.Helper()
	var h struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if code := call(t, "GET", d.base+"/healthz", "", nil, &h); code != http.StatusOK || h.Status != "ok" {
		t.Fatalf("/healthz: %d %+v (the relay must not make the service unready)", code, h)
	}
	return h.Checks["smtp"]
}

// TestMailIsNeverLostWhenTheRelayIsDown: with the SMTP relay down, /healthz says
// so (still 200); a case's mail and a sign-in link are tried until the policy's
// mail.give_up_after and then end failed, listed by the API with their error;
// once the relay is back a reviewer resends them and each arrives exactly once.
func TestMailIsNeverLostWhenTheRelayIsDown(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t, false)) // nothing listens: the relay is down
	policy := writePolicy(t, "1h")
	f, err := os.OpenFile(policy, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("mail:\n  give_up_after: 2s\n")
	_ = f.Close()
	d := startDev(t, map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_POLICY_FILE": policy,
		"AH_SMTP_URL": "smtp://" + addr})

	if got := smtpCheck(t, d); !strings.HasPrefix(got, "degraded: ") {
		t.Errorf("smtp check with the relay down: %q, want degraded", got)
	}
	key := provisionSeller(t, d.base, d.adminKey, "unmailed")
	c := openCase(t, d, "unmailed", key)
	askSigninLink(t, d.base, "unmailed@example.com")

	failed := failedMail(t, d, 2)
	templates := map[string]mailResp{}
	for _, m := range failed {
		templates[m.Template] = m
		if m.Status != "failed" || m.Attempts < 1 || m.LastError == nil || !strings.Contains(*m.LastError, "refused") ||
			len(m.To) != 1 || m.To[0] != "unmailed@example.com" {
			t.Errorf("failed mail: %+v", m)
		}
	}
	if _, ok := templates["signin"]; !ok {
		t.Errorf("no failed sign-in mail among %+v", failed)
	}
	if len(templates) != 2 {
		t.Errorf("failed mail: %+v, want the case's and the sign-in link", failed)
	}
	// A seller may not see the outbox.
	if code := call(t, "GET", d.base+"/v1/mail?status=failed", key, nil, nil); code != http.StatusForbidden {
		t.Errorf("a seller listing mail: %d, want 403", code)
	}

	relay, err := capture.Start(addr, "") // the relay is back
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	deadline := time.Now().Add(30 * time.Second)
	for smtpCheck(t, d) != "ok" {
		if time.Now().After(deadline) {
			t.Fatal("the smtp check did not become ok within 30s of the relay coming back")
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, m := range failed {
		var out struct {
			Mail mailResp `json:"mail"`
		}
		if code := call(t, "POST", d.base+"/v1/mail/"+m.ID+"/resend", d.adminKey, nil, &out); code != http.StatusAccepted || out.Mail.Status != "pending" {
			t.Fatalf("resend %s: %d %+v", m.ID, code, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, m := range failed {
		if _, err := relay.Wait(ctx, func(got capture.Message) bool { return got.Subject == m.Subject }); err != nil {
			t.Fatalf("resent %s (%s) not delivered: %v", m.ID, m.Subject, err)
		}
	}
	var sent mailList
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		call(t, "GET", d.base+"/v1/mail?status=sent", d.adminKey, nil, &sent)
		if len(sent.Mail) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(sent.Mail) != 2 {
		t.Errorf("sent mail after the resends: %+v", sent.Mail)
	}
	// Sent is final: a resend now is refused, and nothing arrives twice.
	if code := call(t, "POST", d.base+"/v1/mail/"+failed[0].ID+"/resend", d.adminKey, nil, nil); code != http.StatusConflict {
		t.Errorf("resending a sent mail: %d, want 409", code)
	}
	if code := call(t, "POST", d.base+"/v1/mail/mail_nothing/resend", d.adminKey, nil, nil); code != http.StatusNotFound {
		t.Errorf("resending no mail: %d, want 404", code)
	}
	time.Sleep(2 * time.Second)
	ids := map[string]int{}
	for _, m := range relay.Messages() {
		ids[m.Headers["Message-Id"]]++
	}
	if len(relay.Messages()) != 2 || len(ids) != 2 {
		t.Errorf("the relay got %d messages with Message-IDs %v, want each of the 2 once", len(relay.Messages()), ids)
	}
	if !strings.Contains(failed[0].Subject+failed[1].Subject, c.ID) {
		t.Errorf("no failed mail names case %s: %+v", c.ID, failed)
	}
}
