package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	amail "github.com/accounthealth/accounthealth/activities/mail"
	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// outbox is a Mailer that keeps what it is given (this test is of the API alone;
// real SMTP is proven by the end-to-end tests).
type outbox struct {
	mu   sync.Mutex
	sent []amail.Message
}

func (o *outbox) Send(_ context.Context, m amail.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, m)
	return nil
}

func (o *outbox) wait(t *testing.T, n int) []amail.Message {
	t.Helper()
	for range 100 {
		o.mu.Lock()
		got := append([]amail.Message(nil), o.sent...)
		o.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d messages, want %d", len(o.sent), n)
	return nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// form gets a page and returns its CSRF token.
func form(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 1<<16)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	m := csrfField.FindStringSubmatch(b.String())
	if m == nil {
		t.Fatalf("no CSRF token on %s: %d", u, resp.StatusCode)
	}
	return m[1]
}

func TestSignIn(t *testing.T) {
	st := storetest.NewSQLite(t)
	mails := &outbox{}
	srv := httptest.NewServer(api.New(api.Config{Store: st, Workflows: idleWorkflows{}, Policy: health.DefaultPolicy(),
		AdminKeyHash: api.HashKey(adminKey), Mailer: mails, PublicURL: "http://health.example"}).Handler())
	defer srv.Close()
	ctx := context.Background()
	if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "Sam's Shop", Email: "sam@example.com"}, "h1"); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, v url.Values) *http.Response {
		resp, err := browser.PostForm(srv.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	if resp := post("/signin", url.Values{"email": {"sam@example.com"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a sign-in post without a CSRF token: %d, want 403", resp.StatusCode)
	}
	token := form(t, browser, srv.URL+"/signin")
	if token == "" {
		t.Fatal("no token")
	}
	known := post("/signin", url.Values{"csrf": {token}, "email": {"Sam@Example.com"}})
	unknown := post("/signin", url.Values{"csrf": {token}, "email": {"nobody@example.com"}})
	if known.StatusCode != http.StatusOK || unknown.StatusCode != http.StatusOK {
		t.Errorf("known %d, unknown %d: want the same answer", known.StatusCode, unknown.StatusCode)
	}
	sent := mails.wait(t, 1)
	time.Sleep(100 * time.Millisecond)
	if len(mails.sent) != 1 || sent[0].To[0] != "sam@example.com" {
		t.Fatalf("mail %+v: want one link, to the known address only", mails.sent)
	}
	link := regexp.MustCompile(`http://health.example(/signin/\S+)`).FindStringSubmatch(sent[0].Text)
	if link == nil {
		t.Fatalf("no link in %q", sent[0].Text)
	}
	// Its Message-ID comes from the token's hash: the token itself stays out of headers.
	if want := "signin/" + api.HashKey(strings.TrimPrefix(link[1], "/signin/")); sent[0].Key != want {
		t.Errorf("the sign-in mail's key is %q, want %q", sent[0].Key, want)
	}
	confirm := form(t, browser, srv.URL+link[1])
	resp := post(link[1], url.Values{"csrf": {confirm}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("following the link: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "ah_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie %+v: want HttpOnly and SameSite", session)
	}
	if again := anonymousPost(t, srv.URL, link[1]); again != http.StatusBadRequest {
		t.Errorf("the link used twice: %d, want 400", again)
	}
	page, err := browser.Get(srv.URL + "/review")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusForbidden || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Errorf("a seller on the reviewer console: %d %s, want a 403 page", page.StatusCode, page.Header.Get("Content-Type"))
	}

	// An expired link does not work.
	old := time.Now().Add(-time.Hour)
	if err := st.CreateLoginToken(ctx, store.LoginToken{TokenHash: api.HashKey("ahl_old"), Email: "sam@example.com", Role: store.RoleSeller,
		CreatedAt: old, ExpiresAt: old.Add(15 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if code := anonymousPost(t, srv.URL, "/signin/ahl_old"); code != http.StatusBadRequest {
		t.Errorf("an expired link: %d, want 400", code)
	}

	// Repeated requests: a few links per address, then silence; many requests, then 429.
	got429 := false
	for range 15 {
		if code := anonymousPost(t, srv.URL, "/signin", "email", "sam@example.com"); code == http.StatusTooManyRequests {
			got429 = true
			break
		}
	}
	if !got429 {
		t.Error("15 sign-in requests in a row were never rate-limited")
	}
	time.Sleep(200 * time.Millisecond)
	mails.mu.Lock()
	n := len(mails.sent)
	mails.mu.Unlock()
	if n > 3 {
		t.Errorf("%d links sent to one address in 15 minutes, want at most 3", n)
	}
}

// anonymousPost posts a form as a new visitor would: it loads the page for its
// CSRF token first. It returns the status.
func anonymousPost(t *testing.T, base, path string, kv ...string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	v := url.Values{"csrf": {form(t, c, base+path)}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	resp, err := c.PostForm(base+path, v)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestCaseInputsAreValidated: the case and appeal endpoints name the bad field and
// never reach the workflows (idleWorkflows would panic if they did).
func TestCaseInputsAreValidated(t *testing.T) {
	st := storetest.NewSQLite(t)
	srv := httptest.NewServer(api.New(api.Config{Store: st, Workflows: idleWorkflows{}, Policy: health.DefaultPolicy(),
		AdminKeyHash: api.HashKey(adminKey), Mailer: &outbox{}, PublicURL: "http://health.example"}).Handler())
	defer srv.Close()
	ctx := context.Background()
	rk := "reviewer-key-for-validation-test"
	if _, err := st.CreateReviewer(ctx, store.Reviewer{Name: "Rita", Email: "rita@example.com"}, api.HashKey(rk)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path, body string
		field              string
	}{
		{"POST", "/v1/cases", `{"seller_id":"ghost","listing_id":"bad id!","violation":"Not Snake","note":"short"}`, "seller_id"},
		{"POST", "/v1/cases", `{"seller_id":"ghost","listing_id":"bad id!","violation":"Not Snake","note":"short"}`, "listing_id"},
		{"POST", "/v1/cases", `{"seller_id":"ghost","listing_id":"bad id!","violation":"Not Snake","note":"short"}`, "violation"},
		{"POST", "/v1/cases", `{"seller_id":"ghost","listing_id":"bad id!","violation":"Not Snake","note":"short"}`, "note"},
		{"POST", "/v1/cases", `{"seller_id":"x","colour":"red"}`, "colour"},
		{"GET", "/v1/cases?state=bogus", "", "state"},
		{"GET", "/v1/appeals?status=bogus", "", "status"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+rk)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct {
				Code   string            `json:"code"`
				Fields map[string]string `json:"fields"`
			} `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || e.Error.Code != "validation_failed" || e.Error.Fields[c.field] == "" {
			t.Errorf("%s %s: %d %+v, want 400 naming %s", c.method, c.path, resp.StatusCode, e.Error, c.field)
		}
	}
	var n int
	if err := st.DB().QueryRow("SELECT COUNT(*) FROM cases").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d cases stored after bad input (%v)", n, err)
	}
}

// TestCSRFTokenSources: the token counts from the form body or the
// X-CSRF-Token header only, and before sign-in only a cookie of the shape the
// server makes is a token.
func TestCSRFTokenSources(t *testing.T) {
	srv := testServer(t, api.Config{})
	signin := func(c *http.Client, query string, body url.Values, header string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/signin"+query, strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if header != "" {
			req.Header.Set("X-CSRF-Token", header)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	browser := func() (*http.Client, string) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		return c, form(t, c, srv.URL+"/signin")
	}
	email := url.Values{"email": {"sam@example.com"}}

	c, token := browser()
	if code := signin(c, "?csrf="+url.QueryEscape(token), email, ""); code != http.StatusForbidden {
		t.Errorf("the token in the query string: %d, want 403", code)
	}
	if code := signin(c, "", email, token); code != http.StatusOK {
		t.Errorf("the token in X-CSRF-Token: %d, want 200", code)
	}
	if code := signin(c, "", url.Values{"email": {"sam@example.com"}, "csrf": {token}}, ""); code != http.StatusOK {
		t.Errorf("the token in the form: %d, want 200", code)
	}
	if code := signin(c, "", email, token+"x"); code != http.StatusForbidden {
		t.Errorf("a wrong token in X-CSRF-Token: %d, want 403", code)
	}

	// A cookie planted by someone else (a sibling domain can set one) with a
	// token of their choosing is no token.
	u, _ := url.Parse(srv.URL)
	for _, planted := range []string{"x", strings.Repeat("a", 48), "csrf_" + strings.Repeat("!", 43), token + "AAAA"} {
		jar, _ := cookiejar.New(nil)
		jar.SetCookies(u, []*http.Cookie{{Name: "ah_csrf", Value: planted, Path: "/"}})
		victim := &http.Client{Jar: jar}
		if code := signin(victim, "", url.Values{"email": {"sam@example.com"}, "csrf": {planted}}, ""); code != http.StatusForbidden {
			t.Errorf("a planted cookie %q with its token: %d, want 403", planted, code)
		}
		if fresh := form(t, victim, srv.URL+"/signin"); fresh == planted {
			t.Errorf("the sign-in page kept the planted cookie %q as its token", planted)
		}
	}
}
