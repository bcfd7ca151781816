package api_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// deliveringWorkflows records the deliveries it is asked to start.
type deliveringWorkflows struct {
	idleWorkflows
	mu        sync.Mutex
	delivered []string
}

func (w *deliveringWorkflows) DeliverMail(_ context.Context, id, _ string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.delivered = append(w.delivered, id)
	return nil
}

// TestFailedMailPage: the reviewer console lists failed mail with its error and
// sends one again from a form; a seller may not see the page.
func TestFailedMailPage(t *testing.T) {
	st := storetest.NewSQLite(t)
	flows := &deliveringWorkflows{}
	srv := httptest.NewServer(api.New(api.Config{Store: st, Workflows: flows, Policy: health.DefaultPolicy(),
		AdminKeyHash: api.HashKey(adminKey), Mailer: &outbox{}, PublicURL: "http://health.example"}).Handler())
	defer srv.Close()
	ctx := context.Background()
	r, err := st.CreateReviewer(ctx, store.Reviewer{Name: "Rita", Email: "rita@example.com"}, "kr")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := st.CreateSession(ctx, store.Session{IDHash: api.HashKey("sess-rita"), Role: store.RoleReviewer, ReviewerID: &r.ID,
		CSRF: "csrf-rita", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := st.QueueMail(ctx, store.OutboxMail{Key: "case/C-1/1/enforcement", Template: "enforcement", Recipients: `["sam@example.com"]`,
		Subject: "Your account is restricted", TextBody: "t", HTMLBody: "h", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkMailUndeliverable(ctx, "case/C-1/1/enforcement", errors.New("550 mailbox unavailable")); err != nil {
		t.Fatal(err)
	}
	id := store.MailID("case/C-1/1/enforcement")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (*http.Response, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "ah_session", Value: "sess-rita"})
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, page := do("GET", "/review/mail", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, id) || !strings.Contains(page, "550 mailbox unavailable") ||
		!strings.Contains(page, "Send again") || !strings.Contains(page, `href="/review/mail"`) {
		t.Fatalf("failed mail page: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = do("POST", "/review/mail/"+id+"/resend", url.Values{"csrf": {"csrf-rita"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/review/mail?resent=") {
		t.Fatalf("resend form: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if len(flows.delivered) != 1 || flows.delivered[0] != id {
		t.Errorf("deliveries started: %v, want %s", flows.delivered, id)
	}
	if _, page = do("GET", "/review/mail?resent="+id, nil); !strings.Contains(page, "being sent again") || !strings.Contains(page, "No failed mail") {
		t.Errorf("after the resend the page shows:\n%s", page)
	}
	if resp, _ = do("POST", "/review/mail/"+id+"/resend", url.Values{"csrf": {"csrf-rita"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("a second resend: %d, want 409", resp.StatusCode)
	}
}
