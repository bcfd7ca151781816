package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// askLink asks base for sign-in links to email as a new visitor from ip would
// (the page first, for its CSRF token), and returns the status and the page.
func askLink(t *testing.T, base, ip, email string) (int, string) {
	t.Helper()
	c := clientFrom(ip)
	c.Jar, _ = cookiejar.New(nil)
	token := form(t, c, base+"/signin")
	resp, err := c.PostForm(base+"/signin", url.Values{"csrf": {token}, "email": {email}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (o *outbox) count(subject string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, m := range o.sent {
		if strings.Contains(m.Subject, subject) {
			n++
		}
	}
	return n
}

// TestSigninCannotBeBlockedByOthers: an anonymous client asking for an
// address's links again and again uses up only its own allowance; the owner,
// from elsewhere, still gets a link, and the attacker is told it must wait in
// words that do not tell whether the address has an account.
func TestSigninCannotBeBlockedByOthers(t *testing.T) {
	st := storetest.NewSQLite(t)
	mails := &outbox{}
	srv := testServer(t, api.Config{Store: st, Mailer: mails})
	if _, err := st.CreateSeller(context.Background(), store.Seller{ID: "s1", Name: "Sam's Shop", Email: "sam@example.com"}, "h1"); err != nil {
		t.Fatal(err)
	}
	const attacker, owner = "127.0.0.1", "127.0.0.2"
	for _, email := range []string{"sam@example.com", "nobody@example.com"} {
		var codes []int
		var last string
		for range 5 {
			code, page := askLink(t, srv.URL, attacker, email)
			codes = append(codes, code)
			last = page
		}
		want := []int{200, 200, 200, 429, 429}
		if !slices.Equal(codes, want) {
			t.Errorf("five requests for %s from one client: %v, want %v (the same for any address)", email, codes, want)
		}
		if !strings.Contains(last, "from here") {
			t.Errorf("the refusal does not say the limit is this client's: %s", last)
		}
	}
	mails.wait(t, 3)
	if code, _ := askLink(t, srv.URL, owner, "sam@example.com"); code != http.StatusOK {
		t.Errorf("the owner asking from elsewhere: %d, want 200", code)
	}
	if got := mails.wait(t, 4); len(got) != 4 {
		t.Errorf("%d links mailed, want the attacker's 3 and the owner's", len(got))
	}
}

// TestSigninCeiling: all clients together get at most the per-address ceiling,
// and the page then says so.
func TestSigninCeiling(t *testing.T) {
	st := storetest.NewSQLite(t)
	mails := &outbox{}
	srv := testServer(t, api.Config{Store: st, Mailer: mails})
	if _, err := st.CreateSeller(context.Background(), store.Seller{ID: "s1", Name: "Sam's Shop", Email: "sam@example.com"}, "h1"); err != nil {
		t.Fatal(err)
	}
	granted, refused := 0, ""
	for _, ip := range []string{"127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14", "127.0.0.15"} {
		for range 3 {
			switch code, page := askLink(t, srv.URL, ip, "sam@example.com"); code {
			case http.StatusOK:
				granted++
			case http.StatusTooManyRequests:
				refused = page
			default:
				t.Fatalf("from %s: %d", ip, code)
			}
		}
	}
	if granted != 10 || !strings.Contains(refused, "from several places") {
		t.Errorf("15 requests from 5 clients: %d granted, want 10; the refusal: %s", granted, refused)
	}
	mails.wait(t, 10)
}

// TestSigninSharedAddress: two accounts with one address each get their own
// link for each request, up to the limit: one account's links do not use up
// the other's.
func TestSigninSharedAddress(t *testing.T) {
	st := storetest.NewSQLite(t)
	mails := &outbox{}
	srv := testServer(t, api.Config{Store: st, Mailer: mails})
	ctx := context.Background()
	if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "North Shop", Email: "team@example.com"}, "h1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSeller(ctx, store.Seller{ID: "s2", Name: "South Shop", Email: "team@example.com"}, "h2"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if code, _ := askLink(t, srv.URL, "127.0.0.1", "team@example.com"); code != http.StatusOK {
			t.Fatalf("asking for the shared address: %d", code)
		}
	}
	mails.wait(t, 6)
	if n, s := mails.count("North Shop"), mails.count("South Shop"); n != 3 || s != 3 {
		t.Errorf("links: North %d, South %d; want 3 each", n, s)
	}
}

// TestSigninAcrossReplicas: two servers on one PostgreSQL database, as two
// `serve` processes would be, asked at once for one address by several
// clients, grant no more than the limits between them.
func TestSigninAcrossReplicas(t *testing.T) {
	u := storetest.NewPostgresURL(t)
	mails := &outbox{}
	var bases []string
	var stores []*store.Store
	for range 2 {
		st, err := store.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if _, err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, st)
		if len(bases) == 0 {
			if _, err := st.CreateSeller(context.Background(), store.Seller{ID: "s1", Name: "Sam's Shop", Email: "sam@example.com"}, "h1"); err != nil {
				t.Fatal(err)
			}
		}
		bases = append(bases, testServer(t, api.Config{Store: st, Mailer: mails}).URL)
	}
	clients := []string{"127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24", "127.0.0.25", "127.0.0.26"}
	var mu sync.Mutex
	grantedBy := map[string]int{}
	var wg sync.WaitGroup
	for _, ip := range clients {
		for i := range 6 { // three on each replica, all at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _ := askLink(t, bases[i%2], ip, "sam@example.com")
				mu.Lock()
				defer mu.Unlock()
				switch code {
				case http.StatusOK:
					grantedBy[ip]++
				case http.StatusTooManyRequests:
				default:
					t.Errorf("from %s: %d", ip, code)
				}
			}()
		}
	}
	wg.Wait()
	total := 0
	for ip, n := range grantedBy {
		total += n
		if n > 3 {
			t.Errorf("%s was granted %d requests, want at most 3", ip, n)
		}
	}
	if total != 10 {
		t.Errorf("36 requests from 6 clients on 2 replicas: %d granted, want the ceiling, 10", total)
	}
	mails.wait(t, total)
	var tokens int
	if err := stores[0].DB().QueryRow("SELECT COUNT(*) FROM login_tokens WHERE email = 'sam@example.com'").Scan(&tokens); err != nil || tokens != total {
		t.Errorf("%d links issued (%v), want %d", tokens, err, total)
	}
}
