// Package webhook sends events to the marketplace's endpoints: the Standard
// Webhooks signature, and an HTTP client that reaches only the addresses it is
// allowed to (no loopback, link-local or private address unless told), checked on
// the address it dials, follows no redirect and reads little of an answer.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SecretPrefix starts every signing secret, as Standard Webhooks writes them.
const SecretPrefix = "whsec_"

// NewSecret makes a signing secret: 32 random bytes, base64, after "whsec_".
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// Sign is the webhook-signature header of a message: "v1," and the base64
// HMAC-SHA256 of "<id>.<timestamp>.<body>", keyed by the secret's decoded bytes.
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return "", fmt.Errorf("signing secret: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Verify checks a delivery as a receiver does: one of the signature header's
// space-separated signatures matches, and the timestamp is within tolerance of now.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if err != nil {
		return errors.New("webhook-timestamp: not a number")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook-timestamp: too far from now")
	}
	want, err := Sign(secret, h.Get("webhook-id"), ts, body)
	if err != nil {
		return err
	}
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return errors.New("webhook-signature: no signature matches")
}

// Reach is which addresses an endpoint may have.
type Reach int

const (
	Public   Reach = iota // public addresses only (serve, worker)
	Loopback              // and loopback (dev, so a newcomer can try a receiver on this machine)
	Any                   // anything (AH_WEBHOOK_ALLOW_PRIVATE=true)
)

// Allowed answers why an endpoint may not be at ip, or nil.
func (r Reach) Allowed(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case r == Any:
		return nil
	case ip.IsLoopback():
		if r == Loopback {
			return nil
		}
		return fmt.Errorf("%s is a loopback address", ip)
	case ip.IsUnspecified(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(), ip.IsMulticast():
		return fmt.Errorf("%s is not a public unicast address", ip)
	case ip.IsPrivate(), carrierNAT.Contains(ip):
		return fmt.Errorf("%s is a private address", ip)
	}
	return nil
}

var carrierNAT = netip.MustParsePrefix("100.64.0.0/10") // shared address space, private in practice

// Resolver finds a host's addresses.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// URLError says what is wrong with an endpoint's URL.
type URLError struct{ Problem string }

func (e *URLError) Error() string { return e.Problem }

// CheckURL refuses what is no endpoint: not an absolute http or https URL, or a
// host that is, or resolves to, an address outside reach. The sender checks the
// address again when it dials: a name may resolve elsewhere later.
func CheckURL(ctx context.Context, raw string, reach Reach, res Resolver) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return &URLError{"must be an absolute http or https URL"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return &URLError{fmt.Sprintf("scheme %q: only http and https", u.Scheme)}
	}
	if u.User != nil {
		return &URLError{"must not carry a user or password"}
	}
	host := u.Hostname()
	if host == "" {
		return &URLError{"has no host"}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := reach.Allowed(ip); err != nil {
			return &URLError{err.Error()}
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := res.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return &URLError{fmt.Sprintf("host %q does not resolve", host)}
	}
	for _, ip := range ips {
		if err := reach.Allowed(ip); err != nil {
			return &URLError{fmt.Sprintf("host %q resolves to %v", host, err)}
		}
	}
	return nil
}

// MaxAnswer is how much of an endpoint's answer is read (into the delivery's
// last error); the rest is left unread.
const MaxAnswer = 4 << 10

// Sender posts signed events.
type Sender struct {
	client *http.Client
}

// NewSender makes a sender that reaches only reach and gives each attempt timeout.
func NewSender(reach Reach, timeout time.Duration) *Sender {
	d := &net.Dialer{Timeout: timeout, Control: func(network, address string, _ syscall.RawConn) error {
		// The address being dialled, after any name was resolved: a name that
		// resolved to a public address at registration and to a private one now
		// (DNS rebinding) is refused here.
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("dial %s: %w", address, err)
		}
		return reach.Allowed(ap.Addr())
	}}
	t := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the check
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
	}
	return &Sender{client: &http.Client{Transport: t, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Result is what one attempt got.
type Result struct {
	StatusCode int    // 0 when no answer came
	Answer     string // the start of the answer's body
}

// OK reports whether the endpoint took the event (2xx).
func (r Result) OK() bool { return r.StatusCode >= 200 && r.StatusCode < 300 }

// Send posts one event, signed at now. An error is an attempt without an answer
// (refused address, connection, timeout); a redirect is an answer, not followed.
func (s *Sender) Send(ctx context.Context, endpoint, secret, id string, body []byte, now time.Time) (Result, error) {
	ts := now.Unix()
	sig, err := Sign(secret, id, ts, body)
	if err != nil {
		return Result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "accounthealth-webhooks")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer)) // what is said past this is not read
	return Result{StatusCode: resp.StatusCode, Answer: string(b)}, nil
}
