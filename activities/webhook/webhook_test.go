package webhook_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/activities/webhook"
)

// The vector published with the Standard Webhooks reference libraries.
func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	got, err := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

func TestReach(t *testing.T) {
	for _, tc := range []struct {
		ip                  string
		public, loop, anyOK bool
	}{
		{"127.0.0.1", false, true, true},
		{"::1", false, true, true},
		{"10.1.2.3", false, false, true},
		{"172.16.0.1", false, false, true},
		{"192.168.1.1", false, false, true},
		{"169.254.169.254", false, false, true}, // cloud metadata
		{"fe80::1", false, false, true},
		{"fd00::1", false, false, true},
		{"100.64.0.1", false, false, true},
		{"0.0.0.0", false, false, true},
		{"::ffff:127.0.0.1", false, true, true},
		{"93.184.216.34", true, true, true},
		{"2606:4700::1111", true, true, true},
	} {
		ip := netip.MustParseAddr(tc.ip)
		for _, r := range []struct {
			reach webhook.Reach
			ok    bool
		}{{webhook.Public, tc.public}, {webhook.Loopback, tc.loop}, {webhook.Any, tc.anyOK}} {
			if err := r.reach.Allowed(ip); (err == nil) != r.ok {
				t.Errorf("%s under reach %d: %v, want allowed=%v", tc.ip, r.reach, err, r.ok)
			}
		}
	}
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func TestCheckURL(t *testing.T) {
	res := fakeResolver{"hooks.example.com": {netip.MustParseAddr("93.184.216.34")},
		"rebind.example.com": {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.1")}}
	for _, tc := range []struct {
		url, problem string
	}{
		{"https://hooks.example.com/in", ""},
		{"http://93.184.216.34:8080/in", ""},
		{"not a url", "absolute http or https"},
		{"/relative", "absolute http or https"},
		{"ftp://hooks.example.com/in", `scheme "ftp"`},
		{"javascript:alert(1)", "absolute http or https"},
		{"https://user:pw@hooks.example.com/", "user or password"},
		{"http://127.0.0.1/in", "loopback"},
		{"http://[::1]:80/in", "loopback"},
		{"http://10.0.0.8/in", "private"},
		{"http://169.254.169.254/latest/meta-data", "not a public unicast"},
		{"https://rebind.example.com/", "private"},
		{"https://nowhere.example.com/", "does not resolve"},
	} {
		err := webhook.CheckURL(context.Background(), tc.url, webhook.Public, res)
		if tc.problem == "" && err != nil || tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.problem)
		}
	}
	// The real resolver: localhost resolves to loopback.
	if err := webhook.CheckURL(context.Background(), "http://localhost:9/x", webhook.Public, net.DefaultResolver); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("localhost: %v, want refused as loopback", err)
	}
	if err := webhook.CheckURL(context.Background(), "http://localhost:9/x", webhook.Loopback, net.DefaultResolver); err != nil {
		t.Errorf("localhost in dev: %v", err)
	}
}

// The sender checks the address it dials, whatever the name said at registration.
func TestSenderRefusesToDialAPrivateAddress(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	s := webhook.NewSender(webhook.Public, 2*time.Second)
	for _, u := range []string{srv.URL, "http://localhost" + port + "/"} {
		_, err := s.Send(context.Background(), u, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "evt_1", []byte(`{}`), time.Now())
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%s: %v, want refused at dial", u, err)
		}
	}
	if hits != 0 {
		t.Fatalf("the receiver was reached %d times", hits)
	}
}

// A receiver that redirects, answers 10 MB, or hangs, costs the sender a
// bounded read and a bounded wait, and the redirect is not followed.
func TestSenderBoundsWhatAReceiverCanDo(t *testing.T) {
	followed := false
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) })
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { followed = true })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.Copy(w, io.LimitReader(zeros{}, 10<<20))
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	})
	var got http.Header
	var body []byte
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s := webhook.NewSender(webhook.Loopback, 500*time.Millisecond)
	secret, _ := webhook.NewSecret()
	ctx := context.Background()

	res, err := s.Send(ctx, srv.URL+"/redirect", secret, "evt_1", []byte(`{}`), time.Now())
	if err != nil || res.StatusCode != http.StatusFound || res.OK() || followed {
		t.Errorf("redirect: %+v %v followed=%v", res, err, followed)
	}
	res, err = s.Send(ctx, srv.URL+"/big", secret, "evt_1", []byte(`{}`), time.Now())
	if err != nil || res.StatusCode != 500 || len(res.Answer) != webhook.MaxAnswer {
		t.Errorf("big answer: %d bytes read, status %d, %v", len(res.Answer), res.StatusCode, err)
	}
	start := time.Now()
	if _, err = s.Send(ctx, srv.URL+"/hang", secret, "evt_1", []byte(`{}`), time.Now()); err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("hanging receiver: %v after %s", err, time.Since(start))
	}
	res, err = s.Send(ctx, srv.URL+"/ok", secret, "evt_9", []byte(`{"id":"evt_9"}`), time.Now())
	if err != nil || !res.OK() {
		t.Fatalf("ok: %+v %v", res, err)
	}
	if got.Get("webhook-id") != "evt_9" || webhook.Verify(secret, got, body, time.Now(), 5*time.Minute) != nil {
		t.Errorf("headers %v do not verify", got)
	}
	if webhook.Verify(secret, got, []byte(`{"id":"evt_8"}`), time.Now(), 5*time.Minute) == nil {
		t.Error("a changed body verified")
	}
	if webhook.Verify(secret, got, body, time.Now().Add(time.Hour), 5*time.Minute) == nil {
		t.Error("an old timestamp verified")
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}
