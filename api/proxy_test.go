package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"testing"

	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// askLinkVia asks for a sign-in link as askLink does, through a proxy that says
// the request came from forwardedFor.
func askLinkVia(t *testing.T, base, forwardedFor, email string) int {
	t.Helper()
	c := clientFrom("127.0.0.1")
	c.Jar, _ = cookiejar.New(nil)
	c.Transport = forwarded{c.Transport, forwardedFor}
	token := form(t, c, base+"/signin")
	resp, err := c.PostForm(base+"/signin", url.Values{"csrf": {token}, "email": {email}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

type forwarded struct {
	next http.RoundTripper
	xff  string
}

func (f forwarded) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.xff)
	return f.next.RoundTrip(r)
}

func cidr(t *testing.T, s string) *net.IPNet {
	t.Helper()
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTrustedProxiesNameTheClient: behind a trusted proxy (AH_TRUSTED_PROXIES),
// the sign-in limits count each client of X-Forwarded-For on its own; a peer
// that is not a trusted proxy cannot dodge them by making the header up.
func TestTrustedProxiesNameTheClient(t *testing.T) {
	newServer := func(trusted ...*net.IPNet) string {
		st := storetest.NewSQLite(t)
		if _, err := st.CreateSeller(context.Background(), store.Seller{ID: "s1", Name: "Sam's Shop", Email: "sam@example.com"}, "h1"); err != nil {
			t.Fatal(err)
		}
		return testServer(t, api.Config{Store: st, TrustedProxies: trusted}).URL
	}
	limited := []int{200, 200, 200, 429}

	t.Run("trusted proxy", func(t *testing.T) {
		base := newServer(cidr(t, "127.0.0.0/8"))
		var codes []int
		for range 4 {
			codes = append(codes, askLinkVia(t, base, "203.0.113.7", "sam@example.com"))
		}
		if !slices.Equal(codes, limited) {
			t.Errorf("one client behind the proxy: %v, want %v", codes, limited)
		}
		// Another client behind the same proxy has its own allowance.
		if code := askLinkVia(t, base, "203.0.113.8", "sam@example.com"); code != http.StatusOK {
			t.Errorf("another client behind the proxy: %d, want 200", code)
		}
		// A client's own forged entry before the proxy's is not believed either:
		// the nearest address the trusted proxy did not add is the client.
		if code := askLinkVia(t, base, "198.51.100.1, 203.0.113.7", "sam@example.com"); code != http.StatusTooManyRequests {
			t.Errorf("the limited client with a forged entry: %d, want 429", code)
		}
	})
	t.Run("untrusted peer", func(t *testing.T) {
		base := newServer(cidr(t, "10.0.0.0/8"))
		var codes []int
		for i := range 4 {
			codes = append(codes, askLinkVia(t, base, "203.0.113."+string(rune('1'+i)), "sam@example.com"))
		}
		if !slices.Equal(codes, limited) {
			t.Errorf("one peer sending a new X-Forwarded-For each time: %v, want %v", codes, limited)
		}
	})
	t.Run("no proxies", func(t *testing.T) {
		base := newServer()
		var codes []int
		for i := range 4 {
			codes = append(codes, askLinkVia(t, base, "203.0.113."+string(rune('1'+i)), "sam@example.com"))
		}
		if !slices.Equal(codes, limited) {
			t.Errorf("X-Forwarded-For without trusted proxies: %v, want %v", codes, limited)
		}
	})
}
