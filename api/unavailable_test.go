package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/api/apitest"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// cutProxy forwards loopback connections to target until cut, which closes
// every connection and refuses new ones: the database going away.
type cutProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) cut() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
}

// TestDatabaseDownIs503: with the database gone, API requests answer 503 with
// Retry-After in the error shape (not 500), /healthz is 503 and /livez 200; a
// request without a key still gets 401 with WWW-Authenticate.
func TestDatabaseDownIs503(t *testing.T) {
	u, err := url.Parse(storetest.NewPostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	ctx := context.Background()
	st, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Store: st, Workflows: idleWorkflows{}, Policy: health.DefaultPolicy(),
		AdminKeyHash: api.HashKey(adminKey), Mailer: &outbox{}}).Handler())
	defer srv.Close()
	v, err := apitest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, key string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := v.Check(req, resp.StatusCode, resp.Header, body); err != nil {
			t.Error(err)
		}
		return resp
	}
	if resp := get("/v1/mail", ""); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("no key: %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp := get("/v1/mail?status=failed", adminKey); resp.StatusCode != 200 {
		t.Fatalf("before the outage: %d", resp.StatusCode)
	}
	proxy.cut()
	for _, path := range []string{"/v1/mail?status=failed", "/v1/sellers/s1/health"} {
		resp := get(path, adminKey)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s with the database down: %d, Retry-After %q; want 503 with Retry-After", path, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if resp := get("/healthz", ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/healthz with the database down: %d", resp.StatusCode)
	}
	if resp := get("/livez", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/livez with the database down: %d", resp.StatusCode)
	}
}
