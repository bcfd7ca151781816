// Package mail sends outbound mail over SMTP for Temporal activities.
//
// Messages are rendered with github.com/jordan-wright/email but delivered by
// driving net/smtp over a connection we dial ourselves: the library's own Send
// helpers have no dial timeout and silently skip STARTTLS, which is not
// acceptable for credentials or for activities that must honour deadlines.
package mail

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jordan-wright/email"
)

// DefaultTimeout bounds a single Send when Config.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// Config configures a Sender.
type Config struct {
	URL     string        // smtp://[user:pass@]host:port or smtps://... (implicit TLS)
	From    string        // header From and envelope sender, e.g. "Account Health <noreply@example.com>"
	Timeout time.Duration // per send; DefaultTimeout when zero
}

// Endpoint is a parsed and validated SMTP URL.
type Endpoint struct {
	Scheme   string // "smtp" or "smtps"
	Host     string // host name or IP, without brackets
	Port     int
	Username string
	Password string
}

// Addr returns host:port for dialing.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// ImplicitTLS reports whether TLS starts before the SMTP greeting (smtps).
func (e Endpoint) ImplicitTLS() bool { return e.Scheme == "smtps" }

// HasAuth reports whether the URL carried credentials.
func (e Endpoint) HasAuth() bool { return e.Username != "" }

// String renders the endpoint with the password redacted so it is safe to log.
func (e Endpoint) String() string {
	u := url.URL{Scheme: e.Scheme, Host: e.Addr()}
	if e.HasAuth() {
		u.User = url.UserPassword(e.Username, "xxxxx")
	}
	return u.String()
}

// ParseURL parses and validates an smtp:// or smtps:// URL. Errors never echo
// the raw URL because it may contain a password.
func ParseURL(raw string) (Endpoint, error) {
	if strings.TrimSpace(raw) == "" {
		return Endpoint{}, errors.New("mail: SMTP URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return Endpoint{}, fmt.Errorf("mail: invalid SMTP URL: %v", err)
	}
	var ep Endpoint
	switch u.Scheme {
	case "smtp", "smtps":
		ep.Scheme = u.Scheme
	case "":
		return Endpoint{}, errors.New("mail: SMTP URL has no scheme; want smtp:// or smtps://")
	default:
		return Endpoint{}, fmt.Errorf("mail: unsupported SMTP URL scheme %q; want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" {
		return Endpoint{}, errors.New("mail: SMTP URL must be of the form scheme://host:port")
	}
	if u.Path != "" && u.Path != "/" {
		return Endpoint{}, errors.New("mail: SMTP URL must not have a path")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Endpoint{}, errors.New("mail: SMTP URL must not have a query or fragment")
	}
	ep.Host = u.Hostname()
	if ep.Host == "" {
		return Endpoint{}, errors.New("mail: SMTP URL has no host")
	}
	port := u.Port()
	if port == "" {
		// No default on purpose: 25, 465 and 587 all occur and guessing wrong
		// fails only at send time.
		return Endpoint{}, errors.New("mail: SMTP URL has no port")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return Endpoint{}, fmt.Errorf("mail: SMTP URL port %q out of range 1-65535", port)
	}
	ep.Port = p
	if u.User != nil {
		ep.Username = u.User.Username()
		ep.Password, _ = u.User.Password()
		if ep.Username == "" {
			return Endpoint{}, errors.New("mail: SMTP URL has credentials without a username")
		}
		if ep.Password == "" {
			return Endpoint{}, errors.New("mail: SMTP URL has a username without a password")
		}
	}
	return ep, nil
}

// Message is one outbound mail.
type Message struct {
	// Key names the message for good, such as its outbox key. Its Message-ID
	// header is derived from it, so every resend of one key carries the same
	// Message-ID and a relay or mail client can drop the repeat. Required.
	Key     string
	To      []string
	Subject string
	Text    string
	HTML    string
	Headers map[string]string // extra headers, e.g. "X-Accounthealth-Key" for idempotency tracing
}

// reservedHeaders are derived from Config/Message fields or from the MIME
// structure; letting Headers override them would produce broken or
// misleading mail.
var reservedHeaders = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Subject": true, "Message-Id": true,
	"Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true,
}

// fallbackIDDomain is the right side of Message-IDs when the From address's
// domain cannot stand there (a non-ASCII domain).
const fallbackIDDomain = "accounthealth.invalid"

// MessageID is the Message-ID header of the message named key, sent from an
// address at domain: <32 hex digits of SHA-256(key)@domain> (RFC 5322 msg-id).
// It is the same on every send of key; the hash keeps the key's characters
// (slashes, spaces) out of the header.
func MessageID(key, domain string) string {
	if !dotAtom(domain) {
		domain = fallbackIDDomain
	}
	h := sha256.Sum256([]byte(key))
	return "<" + hex.EncodeToString(h[:16]) + "@" + domain + ">"
}

// dotAtom reports whether s is RFC 5322 dot-atom-text: atext runs joined by single dots.
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", c) >= 0) {
			return false
		}
	}
	return true
}

// Sender delivers Messages to one SMTP endpoint. It is safe for concurrent use;
// every Send uses its own connection.
type Sender struct {
	ep      Endpoint
	from    string // header From as configured
	envFrom string // bare address for MAIL FROM
	idHost  string // right side of Message-IDs: the From address's domain
	timeout time.Duration

	// Test seams: tests fake a non-loopback peer and trust a test CA.
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	tlsConfig *tls.Config
}

// NewSender validates c and returns a Sender.
func NewSender(c Config) (*Sender, error) {
	ep, err := ParseURL(c.URL)
	if err != nil {
		return nil, err
	}
	from, err := netmail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("mail: invalid From %q: %v", c.From, err)
	}
	if c.Timeout < 0 {
		return nil, fmt.Errorf("mail: negative Timeout %v", c.Timeout)
	}
	t := c.Timeout
	if t == 0 {
		t = DefaultTimeout
	}
	d := &net.Dialer{}
	idHost := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	return &Sender{ep: ep, from: c.From, envFrom: from.Address, idHost: idHost, timeout: t, dial: d.DialContext}, nil
}

// Endpoint returns the parsed endpoint (use its String method for logging).
func (s *Sender) Endpoint() Endpoint { return s.ep }

// Send delivers m. It is bounded by the earlier of ctx's deadline and the
// configured Timeout; on expiry the returned error wraps
// context.DeadlineExceeded (or context.Canceled). SMTP replies from the server
// are wrapped as *textproto.Error so callers can tell 4xx from 5xx.
func (s *Sender) Send(ctx context.Context, m Message) error {
	rcpts, raw, err := s.render(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.deliver(ctx, rcpts, raw); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("mail: send via %s: %w: %w", s.ep, cerr, err)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The conn deadline can fire a hair before ctx notices.
			return fmt.Errorf("mail: send via %s: %w: %w", s.ep, context.DeadlineExceeded, err)
		}
		return fmt.Errorf("mail: send via %s: %w", s.ep, err)
	}
	return nil
}

func (s *Sender) render(m Message) (rcpts []string, raw []byte, err error) {
	if m.Key == "" {
		return nil, nil, errors.New("mail: message has no key to derive its Message-ID from")
	}
	if len(m.To) == 0 {
		return nil, nil, errors.New("mail: message has no recipients")
	}
	if m.Text == "" && m.HTML == "" {
		return nil, nil, errors.New("mail: message has neither text nor HTML body")
	}
	for _, to := range m.To {
		a, err := netmail.ParseAddress(to)
		if err != nil {
			return nil, nil, fmt.Errorf("mail: invalid recipient %q: %v", to, err)
		}
		rcpts = append(rcpts, a.Address)
	}
	e := email.NewEmail()
	e.From = s.from
	e.To = append([]string(nil), m.To...)
	e.Subject = m.Subject
	e.Text = []byte(m.Text)
	e.HTML = []byte(m.HTML)
	for k, v := range m.Headers {
		if !validHeaderName(k) {
			return nil, nil, fmt.Errorf("mail: invalid header name %q", k)
		}
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if reservedHeaders[ck] {
			return nil, nil, fmt.Errorf("mail: header %q is set from the message fields and cannot be overridden", ck)
		}
		// Values need no CR/LF check: the library Q-encodes any value with
		// control characters, so they cannot inject headers.
		e.Headers.Set(ck, v)
	}
	// Set here, the library keeps it; left out, it would make a random one per send.
	e.Headers.Set("Message-Id", MessageID(m.Key, s.idHost))
	raw, err = e.Bytes()
	if err != nil {
		return nil, nil, fmt.Errorf("mail: render message: %w", err)
	}
	return rcpts, raw, nil
}

// validHeaderName accepts RFC 5322 field names: printable ASCII except ':'.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

func (s *Sender) baseTLS() *tls.Config {
	var c *tls.Config
	if s.tlsConfig != nil {
		c = s.tlsConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	c.ServerName = s.ep.Host
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

func (s *Sender) deliver(ctx context.Context, rcpts []string, raw []byte) error {
	conn, err := s.dial(ctx, "tcp", s.ep.Addr())
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	// One absolute deadline for the whole exchange, and cancellation of ctx
	// unblocks any pending read/write immediately.
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return err
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()

	// Decided from the address actually connected to, not the URL's host
	// name, so "localhost" and all of 127.0.0.0/8 and ::1 count but a name
	// that merely looks local does not.
	loopback := isLoopback(conn.RemoteAddr())

	var c *smtp.Client
	if s.ep.ImplicitTLS() {
		tc := tls.Client(conn, s.baseTLS())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		c, err = smtp.NewClient(tc, s.ep.Host)
	} else {
		c, err = smtp.NewClient(conn, s.ep.Host)
	}
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()

	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	_, secure := c.TLSConnectionState()
	if !secure {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.baseTLS()); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
			secure = true
		}
	}
	if s.ep.HasAuth() {
		if !secure && !loopback {
			return fmt.Errorf("server %s does not offer STARTTLS; refusing to send credentials in plaintext to a non-loopback host (use smtps:// or a server with STARTTLS)", s.ep.Addr())
		}
		if ok, mechs := c.Extension("AUTH"); !ok || !hasMech(mechs, "PLAIN") {
			return fmt.Errorf("server %s does not offer AUTH PLAIN (offers %q)", s.ep.Addr(), mechs)
		}
		if err := c.Auth(&plainAuth{user: s.ep.Username, pass: s.ep.Password, loopback: loopback}); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(s.envFrom); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The server has accepted the message. A failing QUIT must not turn into
	// an error, or an activity retry would deliver it twice.
	_ = c.Quit()
	return nil
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

func hasMech(params, want string) bool {
	for _, m := range strings.Fields(params) {
		if strings.EqualFold(m, want) {
			return true
		}
	}
	return false
}

// plainAuth is AUTH PLAIN with our own transport policy. net/smtp.PlainAuth
// judges "local" by host name only (127.0.0.1, ::1, localhost), which
// disagrees with the peer-address check above.
type plainAuth struct {
	user, pass string
	loopback   bool
}

func (a *plainAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !a.loopback {
		return "", nil, errors.New("refusing AUTH over an unencrypted connection")
	}
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a *plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected AUTH PLAIN challenge")
	}
	return nil, nil
}

// ProbeTimeout bounds a Probe.
const ProbeTimeout = 5 * time.Second

// Probe checks that the relay answers: it connects, reads the greeting, says
// EHLO and QUIT, and sends nothing. Health checks call it.
func (s *Sender) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	conn, err := s.dial(ctx, "tcp", s.ep.Addr())
	if err != nil {
		return fmt.Errorf("mail: probe %s: dial: %w", s.ep, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	var c *smtp.Client
	if s.ep.ImplicitTLS() {
		tc := tls.Client(conn, s.baseTLS())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("mail: probe %s: TLS handshake: %w", s.ep, err)
		}
		c, err = smtp.NewClient(tc, s.ep.Host)
	} else {
		c, err = smtp.NewClient(conn, s.ep.Host)
	}
	if err != nil {
		return fmt.Errorf("mail: probe %s: greeting: %w", s.ep, err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("mail: probe %s: EHLO: %w", s.ep, err)
	}
	_ = c.Quit()
	return nil
}
