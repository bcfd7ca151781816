package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	netmail "net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/activities/mail/capture"
	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

func startCapture(t *testing.T) *capture.Server {
	t.Helper()
	srv, err := capture.Start("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func waitKey(t *testing.T, srv *capture.Server, key string) capture.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := srv.Wait(ctx, func(m capture.Message) bool { return m.Headers["X-Accounthealth-Key"] == key })
	if err != nil {
		t.Fatalf("waiting for %s: %v", key, err)
	}
	return m
}

func TestSendToCapture(t *testing.T) {
	srv := startCapture(t)
	s, err := NewSender(Config{URL: srv.URL(), From: "Account Health <noreply@accounthealth.test>"})
	if err != nil {
		t.Fatal(err)
	}
	text := "Hallo Jürgen,\nIhr Fall ist eröffnet. " + strings.Repeat("Eine sehr lange Zeile, ", 8) + "Ende.\n=3D is not an escape here.\n.leading dot"
	html := `<p style="color: red">Grüße — <b>Fall Nr. ü 42</b></p>` + "\n" + strings.Repeat("<span>x</span>", 20)
	err = s.Send(context.Background(), Message{
		Key:     "case-42/notify/1",
		To:      []string{"Kundin Müller <kundin@example.com>", "ops@example.com"},
		Subject: "Fall Nr. ü 42",
		Text:    text,
		HTML:    html,
		Headers: map[string]string{"X-Accounthealth-Key": "case-42/notify/1", "x-lowercase-header": "v"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := waitKey(t, srv, "case-42/notify/1")
	if m.From != "noreply@accounthealth.test" {
		t.Errorf("envelope from = %q", m.From)
	}
	if !strings.Contains(m.Headers["From"], "Account Health") || !strings.Contains(m.Headers["From"], "noreply@accounthealth.test") {
		t.Errorf("header From = %q", m.Headers["From"])
	}
	if want := []string{"kundin@example.com", "ops@example.com"}; !slices.Equal(m.To, want) {
		t.Errorf("to = %q, want %q", m.To, want)
	}
	if !strings.Contains(m.Headers["To"], "Kundin Müller") {
		t.Errorf("header To = %q", m.Headers["To"])
	}
	if m.Subject != "Fall Nr. ü 42" {
		t.Errorf("subject = %q", m.Subject)
	}
	if m.Text != text {
		t.Errorf("text = %q\nwant   %q", m.Text, text)
	}
	if m.HTML != html {
		t.Errorf("html = %q\nwant   %q", m.HTML, html)
	}
	if m.Headers["X-Lowercase-Header"] != "v" {
		t.Errorf("headers = %v", m.Headers)
	}
	if m.ID == "" || m.ReceivedAt.IsZero() {
		t.Errorf("id/received_at not set: %+v", m)
	}
}

func TestSendSinglePartAndLoopbackAuth(t *testing.T) {
	srv := startCapture(t)
	// Plaintext AUTH is fine here because the peer is loopback.
	u := strings.Replace(srv.URL(), "smtp://", "smtp://user:p%40ss@", 1)
	s, err := NewSender(Config{URL: u, From: "noreply@accounthealth.test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{Key: "html", To: []string{"a@example.com"}, Subject: "only html", HTML: "<p>ü</p>", Headers: map[string]string{"X-Accounthealth-Key": "html"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{Key: "text", To: []string{"a@example.com"}, Subject: "only text", Text: "plain ü", Headers: map[string]string{"X-Accounthealth-Key": "text"}}); err != nil {
		t.Fatal(err)
	}
	if m := waitKey(t, srv, "html"); strings.TrimRight(m.HTML, "\n") != "<p>ü</p>" || m.Text != "" {
		t.Errorf("html-only: %+v", m)
	}
	if m := waitKey(t, srv, "text"); strings.TrimRight(m.Text, "\n") != "plain ü" || m.HTML != "" {
		t.Errorf("text-only: %+v", m)
	}
}

// silentListener accepts connections and never says anything.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestSendTimeout(t *testing.T) {
	addr := silentListener(t)
	msg := Message{Key: "k", To: []string{"a@example.com"}, Subject: "s", Text: "t"}

	cases := []struct {
		name    string
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
		want    error
	}{
		{"config timeout", 200 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, context.DeadlineExceeded},
		{"ctx deadline shorter than timeout", time.Minute, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, context.DeadlineExceeded},
		{"ctx cancel", time.Minute, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSender(Config{URL: "smtp://" + addr, From: "noreply@accounthealth.test", Timeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			err = s.Send(ctx, msg)
			el := time.Since(start)
			if err == nil {
				t.Fatal("Send succeeded against a silent server")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want wrapping %v", err, tc.want)
			}
			if el > 3*time.Second {
				t.Errorf("Send took %v", el)
			}
		})
	}
}

// recorder is a go-smtp backend noting what the client did.
type recorder struct {
	mu       sync.Mutex
	auths    int
	authTLS  bool
	datas    int
	mailFrom string
}

type recSession struct {
	r *recorder
	c *gosmtp.Conn
}

func (s *recSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *recSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.r.mu.Lock()
		defer s.r.mu.Unlock()
		s.r.auths++
		_, s.r.authTLS = s.c.TLSConnectionState()
		if user != "user" || pass != "secret" {
			return errors.New("bad credentials")
		}
		return nil
	}), nil
}
func (s *recSession) Mail(from string, _ *gosmtp.MailOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.mailFrom = from
	return nil
}
func (s *recSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (s *recSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.datas++
	return err
}
func (s *recSession) Reset()        {}
func (s *recSession) Logout() error { return nil }

// startRecorder runs a go-smtp server in mode "plain" (AUTH allowed without
// TLS, no STARTTLS), "starttls" or "smtps".
func startRecorder(t *testing.T, mode string, cert *tls.Certificate) (string, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &recSession{r: rec, c: c}, nil
	}))
	srv.Domain = "mail.example.test"
	srv.ErrorLog = discardLogger{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "plain":
		srv.AllowInsecureAuth = true
	case "starttls":
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	case "smtps":
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), rec
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...interface{}) {}
func (discardLogger) Println(...interface{})        {}

// remoteConn makes a loopback connection look like it reached a remote host,
// so the plaintext-credentials policy can be exercised without a second
// machine. 127.0.0.2 would not do: it is loopback, and treating it as such is
// correct since the traffic never leaves the host.
type remoteConn struct {
	net.Conn
	raddr net.Addr
}

func (c remoteConn) RemoteAddr() net.Addr { return c.raddr }

func viaRemote(target string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, target)
		if err != nil {
			return nil, err
		}
		return remoteConn{c, &net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 587}}, nil
	}
}

func remoteSender(t *testing.T, url, target string, roots *x509.CertPool) *Sender {
	t.Helper()
	s, err := NewSender(Config{URL: url, From: "noreply@accounthealth.test", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s.dial = viaRemote(target)
	if roots != nil {
		s.tlsConfig = &tls.Config{RootCAs: roots}
	}
	return s
}

var testMsg = Message{Key: "k", To: []string{"a@example.com"}, Subject: "s", Text: "t"}

func TestRefusePlaintextCredentialsToRemoteHost(t *testing.T) {
	addr, rec := startRecorder(t, "plain", nil)
	_, port, _ := net.SplitHostPort(addr)

	s := remoteSender(t, "smtp://user:secret@mail.example.test:"+port, addr, nil)
	err := s.Send(context.Background(), testMsg)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err = %v, want refusal mentioning STARTTLS", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks password: %v", err)
	}
	rec.mu.Lock()
	if rec.auths != 0 || rec.datas != 0 {
		t.Errorf("server saw auths=%d datas=%d, want none", rec.auths, rec.datas)
	}
	rec.mu.Unlock()

	// Without credentials plaintext to a remote host is allowed.
	s = remoteSender(t, "smtp://mail.example.test:"+port, addr, nil)
	if err := s.Send(context.Background(), testMsg); err != nil {
		t.Fatalf("no-credential plaintext send: %v", err)
	}

	// The same server reached over real loopback may get credentials.
	s, err = NewSender(Config{URL: "smtp://user:secret@" + addr, From: "noreply@accounthealth.test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), testMsg); err != nil {
		t.Fatalf("loopback auth send: %v", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.auths != 1 || rec.datas != 2 {
		t.Errorf("auths=%d datas=%d, want 1 and 2", rec.auths, rec.datas)
	}
}

func TestIsLoopback(t *testing.T) {
	for ip, want := range map[string]bool{
		"127.0.0.1": true, "127.0.0.2": true, "::1": true, "::ffff:127.0.0.1": true,
		"192.0.2.10": false, "10.0.0.1": false, "::": false, "2001:db8::1": false,
	} {
		if got := isLoopback(&net.TCPAddr{IP: net.ParseIP(ip), Port: 25}); got != want {
			t.Errorf("isLoopback(%s) = %v", ip, got)
		}
	}
	if isLoopback(nil) {
		t.Error("isLoopback(nil) = true")
	}
}

func TestTLSWithCredentials(t *testing.T) {
	cert, roots := testCert(t)
	for _, mode := range []string{"starttls", "smtps"} {
		t.Run(mode, func(t *testing.T) {
			addr, rec := startRecorder(t, mode, cert)
			_, port, _ := net.SplitHostPort(addr)
			scheme := map[string]string{"starttls": "smtp", "smtps": "smtps"}[mode]
			url := scheme + "://user:secret@mail.example.test:" + port

			if err := remoteSender(t, url, addr, roots).Send(context.Background(), testMsg); err != nil {
				t.Fatal(err)
			}
			rec.mu.Lock()
			if rec.auths != 1 || !rec.authTLS || rec.datas != 1 || rec.mailFrom != "noreply@accounthealth.test" {
				t.Errorf("auths=%d authTLS=%v datas=%d from=%q", rec.auths, rec.authTLS, rec.datas, rec.mailFrom)
			}
			rec.mu.Unlock()

			// An untrusted certificate must fail rather than fall back.
			err := remoteSender(t, url, addr, nil).Send(context.Background(), testMsg)
			var uerr x509.UnknownAuthorityError
			if !errors.As(err, &uerr) {
				t.Errorf("untrusted cert: err = %v", err)
			}
			rec.mu.Lock()
			if rec.auths != 1 || rec.datas != 1 {
				t.Errorf("after untrusted: auths=%d datas=%d", rec.auths, rec.datas)
			}
			rec.mu.Unlock()
		})
	}
}

func testCert(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mail.example.test"},
		DNSNames:              []string{"mail.example.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestParseURL(t *testing.T) {
	good := []struct {
		in   string
		want Endpoint
	}{
		{"smtp://localhost:1025", Endpoint{Scheme: "smtp", Host: "localhost", Port: 1025}},
		{"smtps://u%40x:p%3Ass@mail.example.com:465", Endpoint{Scheme: "smtps", Host: "mail.example.com", Port: 465, Username: "u@x", Password: "p:ss"}},
		{"SMTP://[::1]:25/", Endpoint{Scheme: "smtp", Host: "::1", Port: 25}},
	}
	for _, tc := range good {
		got, err := ParseURL(tc.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.in, err)
		} else if got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}

	bad := []struct{ in, wantErr string }{
		{"", "empty"},
		{"   ", "empty"},
		{"http://host:25", "scheme"},
		{"host:25", "scheme"},
		{"//host:25", "no scheme"},
		{"smtp:host:25", "form"},
		{"smtp://:25", "host"},
		{"smtp://", "host"},
		{"smtp://host", "port"},
		{"smtp://host:", "port"},
		{"smtp://host:0", "port"},
		{"smtp://host:65536", "port"},
		{"smtp://u:s3cret@host:x1", "port"},
		{"smtp://host:25/path", "path"},
		{"smtp://host:25?tls=1", "query"},
		{"smtp://host:25#frag", "fragment"},
		{"smtp://user@host:25", "without a password"},
		{"smtp://:s3cret@host:25", "without a username"},
		{"smtp://u:s3cret@ho st:25", "invalid"},
	}
	for _, tc := range bad {
		_, err := ParseURL(tc.in)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseURL(%q) = %v, want mention of %q", tc.in, err, tc.wantErr)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseURL(%q) error leaks password: %v", tc.in, err)
		}
	}

	ep, _ := ParseURL("smtp://u:s3cret@host:25")
	if s := ep.String(); strings.Contains(s, "s3cret") {
		t.Errorf("Endpoint.String leaks password: %s", s)
	}
}

func TestSendValidation(t *testing.T) {
	s, err := NewSender(Config{URL: "smtp://127.0.0.1:1", From: "noreply@accounthealth.test"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		m    Message
		want string
	}{
		{"no key", Message{To: []string{"a@example.com"}, Text: "x"}, "no key"},
		{"no recipients", Message{Key: "k", Text: "x"}, "no recipients"},
		{"bad recipient", Message{Key: "k", To: []string{"not an address"}, Text: "x"}, "invalid recipient"},
		{"no body", Message{Key: "k", To: []string{"a@example.com"}}, "neither"},
		{"reserved header", Message{Key: "k", To: []string{"a@example.com"}, Text: "x", Headers: map[string]string{"bcc": "x@example.com"}}, "cannot be overridden"},
		{"own Message-ID", Message{Key: "k", To: []string{"a@example.com"}, Text: "x", Headers: map[string]string{"Message-ID": "<mine@example.com>"}}, "cannot be overridden"},
		{"bad header name", Message{Key: "k", To: []string{"a@example.com"}, Text: "x", Headers: map[string]string{"X-Evil:\r\nBcc": "x"}}, "invalid header name"},
	}
	for _, tc := range cases {
		if err := s.Send(context.Background(), tc.m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewSender(Config{URL: "smtp://h:25", From: "nope"}); err == nil {
		t.Error("NewSender accepted invalid From")
	}
	if _, err := NewSender(Config{URL: "smtp://h", From: "a@example.com"}); err == nil {
		t.Error("NewSender accepted URL without port")
	}
}

func TestHeaderValueCannotInject(t *testing.T) {
	srv := startCapture(t)
	s, err := NewSender(Config{URL: srv.URL(), From: "noreply@accounthealth.test"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Message{
		Key: "inject", To: []string{"a@example.com"}, Subject: "hi\r\nBcc: victim@example.com", Text: "x",
		Headers: map[string]string{"X-Accounthealth-Key": "inject", "X-Note": "a\r\nX-Injected: yes"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := waitKey(t, srv, "inject")
	if _, ok := m.Headers["Bcc"]; ok {
		t.Errorf("Bcc injected: %v", m.Headers)
	}
	if _, ok := m.Headers["X-Injected"]; ok {
		t.Errorf("header injected: %v", m.Headers)
	}
	if !slices.Equal(m.To, []string{"a@example.com"}) {
		t.Errorf("to = %v", m.To)
	}
}

// TestMessageIDFollowsTheKey sends one key twice and another once over real SMTP:
// both copies of the first carry one Message-ID, derived from the key and the
// From address's domain, and the library adds no random one of its own.
func TestMessageIDFollowsTheKey(t *testing.T) {
	srv := startCapture(t)
	s, err := NewSender(Config{URL: srv.URL(), From: "Account Health <noreply@Mail.AccountHealth.test>"})
	if err != nil {
		t.Fatal(err)
	}
	for i, key := range []string{"C-ABC/3/warning", "C-ABC/3/warning", "C-ABC/4/enforcement"} {
		m := Message{Key: key, To: []string{"a@example.com"}, Subject: "s", Text: "t", Headers: map[string]string{"X-Try": fmt.Sprint(i)}}
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := srv.Wait(ctx, func(m capture.Message) bool { return m.Headers["X-Try"] == "2" }); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	msgID := regexp.MustCompile(`^<[0-9a-f]{32}@Mail\.AccountHealth\.test>$`)
	for _, m := range got {
		if !msgID.MatchString(m.Headers["Message-Id"]) {
			t.Errorf("copy %s: Message-ID %q, want <32 hex digits@the From domain>", m.Headers["X-Try"], m.Headers["Message-Id"])
		}
	}
	if a, b, c := got[0].Headers["Message-Id"], got[1].Headers["Message-Id"], got[2].Headers["Message-Id"]; a != b || a == c || a != MessageID("C-ABC/3/warning", "Mail.AccountHealth.test") {
		t.Errorf("Message-IDs %q %q %q: want the first two equal (one key), the third different", a, b, c)
	}
}

func TestMessageIDDomain(t *testing.T) {
	for domain, want := range map[string]string{
		"example.com": "example.com", "localhost": "localhost",
		"[127.0.0.1]": fallbackIDDomain, "bücher.example": fallbackIDDomain, "a..b": fallbackIDDomain, "": fallbackIDDomain,
	} {
		id := MessageID("k", domain)
		if !strings.HasSuffix(id, "@"+want+">") {
			t.Errorf("MessageID(k, %q) = %s, want it at %s", domain, id, want)
		}
		if _, err := netmail.ParseAddress("x <" + strings.Trim(id, "<>") + ">"); err != nil {
			t.Errorf("%s is not addr-spec shaped: %v", id, err)
		}
	}
}
