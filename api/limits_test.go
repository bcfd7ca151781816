package api_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// clientFrom is an HTTP client whose connections come from ip (any 127.x.y.z
// is loopback on Linux), so a test can play several clients.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext, MaxConnsPerHost: 0},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       20 * time.Second,
	}
}

func testServer(t *testing.T, cfg api.Config) *httptest.Server {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = storetest.NewSQLite(t)
	}
	cfg.Workflows, cfg.Policy, cfg.AdminKeyHash = idleWorkflows{}, health.DefaultPolicy(), api.HashKey(adminKey)
	if cfg.Mailer == nil {
		cfg.Mailer = &outbox{}
	}
	cfg.PublicURL = "http://health.example"
	srv := httptest.NewServer(api.New(cfg).Handler())
	t.Cleanup(srv.Close)
	return srv
}

func errorOf(t *testing.T, resp *http.Response) (code, message string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("%d: not the error shape: %v", resp.StatusCode, err)
	}
	return e.Error.Code, e.Error.Message
}

// TestWrongMethodIs405: a path that exists for other methods answers 405 with
// Allow, in the error shape on the API and as a page on the web.
func TestWrongMethodIs405(t *testing.T) {
	srv := testServer(t, api.Config{})
	for _, c := range []struct {
		method, path, allow string
		page                bool
	}{
		{"DELETE", "/v1/sellers", "GET, POST", false},
		{"DELETE", "/v1/cases/c1", "GET", false},
		{"PUT", "/v1/cases", "GET, POST", false},
		{"POST", "/healthz", "GET", false},
		{"GET", "/signout", "POST", true},
		{"PUT", "/signin", "GET, POST", true},
		{"DELETE", "/review/appeals/a1/claim", "POST", true},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		req.Header.Set("Authorization", "Bearer "+adminKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), c.allow)
		} else if c.page {
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%s %s: a %s answer, want a page", c.method, c.path, ct)
			}
		} else if code, _ := errorOf(t, resp); code != "method_not_allowed" {
			t.Errorf("%s %s: code %q, want method_not_allowed", c.method, c.path, code)
		}
		resp.Body.Close()
	}
	// A path no method has is still 404.
	for _, p := range []string{"/v1/nothing", "/nothing"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+adminKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Allow") != "" {
			t.Errorf("GET %s: %d Allow %q, want 404", p, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

// TestInFlightCapPerClient: one client holding many slow requests gets 429 past
// the cap; another client is served meanwhile, and the first is served again
// once its requests end.
func TestInFlightCapPerClient(t *testing.T) {
	const limit = 4
	srv := testServer(t, api.Config{InFlightPerClient: limit})
	greedy, other := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	healthz := func(c *http.Client) int {
		resp, err := c.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// limit requests whose bodies never end hold the client's slots.
	var held []*io.PipeWriter
	var wg sync.WaitGroup
	for range limit {
		pr, pw := io.Pipe()
		held = append(held, pw)
		req, _ := http.NewRequest("POST", srv.URL+"/v1/events", pr)
		req.Header.Set("Authorization", "Bearer "+adminKey)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := greedy.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		if _, err := pw.Write([]byte(`{"events":[`)); err != nil { // the server is reading it
			t.Fatal(err)
		}
	}
	got429 := false
	for range 200 { // the held requests reach the server in their own time
		if healthz(greedy) == http.StatusTooManyRequests {
			got429 = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !got429 {
		t.Errorf("%d requests in flight from one client, and the next was not refused with 429", limit)
	}
	if code := healthz(other); code != http.StatusOK {
		t.Errorf("another client meanwhile: %d, want 200", code)
	}
	for _, pw := range held {
		pw.CloseWithError(fmt.Errorf("done"))
	}
	wg.Wait()
	if code := healthz(greedy); code != http.StatusOK {
		t.Errorf("the client after its requests ended: %d, want 200", code)
	}
}

// TestSlowBodyIsCut: a body that stops arriving is answered once its deadline
// passes, instead of holding the request open.
func TestSlowBodyIsCut(t *testing.T) {
	srv := testServer(t, api.Config{BodyTimeout: 200 * time.Millisecond, EventsBodyTimeout: 300 * time.Millisecond})
	for _, path := range []string{"/v1/sellers", "/v1/events"} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		// 100 bytes announced, 6 sent, and nothing more.
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{\"id\":", path, adminKey)
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second)) // far beyond the body's deadline
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Errorf("POST %s with a stalled body: %v, want an answer", path, err)
		} else {
			if code, msg := errorOf(t, resp); resp.StatusCode != http.StatusRequestTimeout || code != "timeout" {
				t.Errorf("POST %s with a stalled body: %d %s %q, want 408 timeout", path, resp.StatusCode, code, msg)
			}
			resp.Body.Close()
		}
		conn.Close()
	}
}
