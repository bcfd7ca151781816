package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// TestReportsConsole: a reviewer sees the sellers, worst first, a seller's page, and the open reports in the console, a
// dismissal without a message is refused beside its field with what was typed
// kept, and one with a message is recorded.
func TestReportsConsole(t *testing.T) {
	st := storetest.NewSQLite(t)
	mails := &outbox{}
	srv := httptest.NewServer(api.New(api.Config{Store: st, Workflows: idleWorkflows{}, Policy: health.DefaultPolicy(),
		AdminKeyHash: api.HashKey(adminKey), Mailer: mails, PublicURL: "http://health.example"}).Handler())
	defer srv.Close()
	ctx := context.Background()
	if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "Sam's Shop", Email: "sam@example.com"}, "h1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateReviewer(ctx, store.Reviewer{Name: "Rita", Email: "rita@example.com"}, "h2"); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateReport(ctx, store.Report{ID: "rep_1", SellerID: "s1", Category: "counterfeit", Description: "Not <b>the</b> brand shown.",
		Status: store.ReportOpen, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	token := form(t, browser, srv.URL+"/signin")
	if resp, err := browser.PostForm(srv.URL+"/signin", url.Values{"csrf": {token}, "email": {"rita@example.com"}}); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	link := regexp.MustCompile(`http://health.example(/signin/\S+)`).FindStringSubmatch(mails.wait(t, 1)[0].Text)
	confirm := form(t, browser, srv.URL+link[1])
	if resp, err := browser.PostForm(srv.URL+link[1], url.Values{"csrf": {confirm}}); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %v", err)
	}
	page := func(resp *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := page(browser.Get(srv.URL + "/review/reports"))
	if code != http.StatusOK || !strings.Contains(body, "rep_1") || !strings.Contains(body, "Not &lt;b&gt;the&lt;/b&gt; brand shown.") {
		t.Fatalf("reports page: %d\n%s", code, body)
	}
	// The seller list and a seller's page, linked from it.
	code, body = page(browser.Get(srv.URL + "/review/sellers?status=active"))
	if code != http.StatusOK || !strings.Contains(body, `href="/review/sellers/s1"`) || !strings.Contains(body, "Sam&#39;s Shop") {
		t.Errorf("sellers page: %d\n%s", code, body)
	}
	code, body = page(browser.Get(srv.URL + "/review/sellers/s1"))
	if code != http.StatusOK || !strings.Contains(body, `id="seller-status"`) || !strings.Contains(body, "standard") {
		t.Errorf("seller page: %d\n%s", code, body)
	}
	if code, _ = page(browser.Get(srv.URL + "/review/sellers/nobody")); code != http.StatusNotFound {
		t.Errorf("an unknown seller's page: %d", code)
	}
	csrf := form(t, browser, srv.URL+"/review/reports")
	code, body = page(browser.PostForm(srv.URL+"/review/reports/rep_1/decision", url.Values{"csrf": {csrf}, "decision": {"dismiss"}, "violation": {"kept_text"}}))
	if code != http.StatusBadRequest || !strings.Contains(body, "must say why") || !strings.Contains(body, `value="kept_text"`) {
		t.Errorf("a dismissal without a message: %d\n%s", code, body)
	}
	resp, err := browser.PostForm(srv.URL+"/review/reports/rep_1/decision", url.Values{"csrf": {csrf}, "decision": {"dismiss"}, "message": {"Authentic."}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dismiss: %v %v", resp.StatusCode, err)
	}
	if r, _ := st.Report(ctx, "rep_1"); r.Status != store.ReportDismissed || *r.Message != "Authentic." {
		t.Errorf("report after dismissal: %+v", r)
	}
}
