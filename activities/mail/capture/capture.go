// Package capture is an in-process SMTP sink for the dev command and tests.
//
// It accepts any mail (and any AUTH PLAIN credentials) on a loopback address,
// decodes it into Message values and optionally persists each one as JSON so
// captured mail survives a restart. It never relays anything.
//
// With a folder, memory holds only the latest messages (Keep): a marketplace's
// sweep mails every seller, and holding a million mails took gigabytes of the
// dev process. Every message stays on disk.
package capture

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// MaxMessageBytes caps a single captured message.
const MaxMessageBytes = 32 << 20

// Keep is how many of the latest messages a server with a folder holds in
// memory (Messages and Wait see those); the folder keeps them all.
const Keep = 10_000

// ErrClosed is returned by Wait once the server has been closed.
var ErrClosed = errors.New("capture: server closed")

// Message is one captured mail. From and To are the SMTP envelope (what the
// server was actually asked to deliver, including Bcc); the header versions
// are in Headers.
type Message struct {
	ID         string            `json:"id"`
	From       string            `json:"from"`
	To         []string          `json:"to"`
	Subject    string            `json:"subject"`
	Text       string            `json:"text"`
	HTML       string            `json:"html"`
	ReceivedAt time.Time         `json:"received_at"`
	Headers    map[string]string `json:"headers,omitempty"` // top-level headers, canonical keys, RFC 2047-decoded, first value only
}

func (m Message) clone() Message {
	m.To = append([]string(nil), m.To...)
	if m.Headers != nil {
		h := make(map[string]string, len(m.Headers))
		for k, v := range m.Headers {
			h[k] = v
		}
		m.Headers = h
	}
	return m
}

// Server is a running capture server.
type Server struct {
	dir      string
	ln       net.Listener
	srv      *smtp.Server
	serveErr chan error
	done     chan struct{}

	mu   sync.Mutex
	msgs []Message
	// keep bounds msgs (0: no bound); dropped counts the messages let go
	// from its front, so Wait's positions survive a trim.
	keep    int
	dropped int
	total   int           // captured ever, the folder's included
	notify  chan struct{} // closed and replaced on every new message
	closed  bool
}

// Start listens on addr, which must be a loopback address such as
// "127.0.0.1:0" or "localhost:2525": the server accepts any credentials over
// plaintext, so it must not be reachable from other hosts. If dir is not
// empty, messages already stored there are loaded and new ones are written
// there as <id>.json, and memory holds only the latest Keep.
func Start(addr string, dir string) (*Server, error) {
	keep := 0
	if dir != "" {
		keep = Keep
	}
	return StartKeeping(addr, dir, keep)
}

// StartKeeping is Start holding at most keep messages in memory (0: all; with
// no folder, the ones let go are gone).
func StartKeeping(addr string, dir string, keep int) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("capture: bad listen address %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); !(host == "localhost" || ip != nil && ip.IsLoopback()) {
		return nil, fmt.Errorf("capture: listen address %q is not loopback", addr)
	}
	s := &Server{dir: dir, keep: keep, notify: make(chan struct{}), done: make(chan struct{}), serveErr: make(chan error, 1)}
	if dir != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	// "localhost" could resolve to something odd; check what was really bound.
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("capture: bound %s, which is not loopback", ln.Addr())
	}
	s.ln = ln

	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{s: s}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // loopback only, enforced above
	srv.MaxMessageBytes = MaxMessageBytes
	srv.MaxRecipients = 1000
	srv.ReadTimeout = time.Minute // a stuck client must not pin a goroutine forever
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(os.Stderr, "capture smtp: ", log.LstdFlags)
	s.srv = srv
	go func() { s.serveErr <- srv.Serve(ln) }()
	return s, nil
}

// Addr returns the host:port actually bound.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns an smtp:// URL for mail.Config.
func (s *Server) URL() string { return "smtp://" + s.Addr() }

// Messages returns copies of the captured messages held in memory (all, or the
// latest Keep), oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.msgs))
	for i, m := range s.msgs {
		out[i] = m.clone()
	}
	return out
}

// Total is how many messages were captured, those only on disk included.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Wait returns the first message, already captured or arriving later, for
// which pred returns true (nil pred matches anything); of those captured before,
// only the ones still held in memory. It gives up when ctx is done or the
// server is closed.
func (s *Server) Wait(ctx context.Context, pred func(Message) bool) (Message, error) {
	if pred == nil {
		pred = func(Message) bool { return true }
	}
	next := 0
	closed := false
	for {
		// Copy under the lock, evaluate pred outside it: pred may call back
		// into the server (e.g. Messages).
		s.mu.Lock()
		from := max(next-s.dropped, 0) // next counts from the first message ever held
		batch := make([]Message, 0, len(s.msgs)-from)
		for _, m := range s.msgs[from:] {
			batch = append(batch, m.clone())
		}
		next = s.dropped + len(s.msgs)
		ch := s.notify
		s.mu.Unlock()
		for _, m := range batch {
			if pred(m) {
				return m, nil
			}
		}
		if closed {
			return Message{}, ErrClosed
		}
		select {
		case <-ch:
		case <-s.done:
			closed = true // one more scan for anything that raced with Close
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}

// Close stops the server and its connections. Captured messages remain
// readable via Messages. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	err := s.srv.Close()
	if serr := <-s.serveErr; serr != nil && err == nil {
		err = serr
	}
	return err
}

func (s *Server) add(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	// ID and time are assigned under the lock so slice order, ReceivedAt order
	// and on-disk order all agree.
	m.ReceivedAt = time.Now().UTC()
	if n := len(s.msgs); n > 0 && !m.ReceivedAt.After(s.msgs[n-1].ReceivedAt) {
		m.ReceivedAt = s.msgs[n-1].ReceivedAt.Add(time.Nanosecond)
	}
	m.ID = newID(m.ReceivedAt)
	if s.dir != "" {
		if err := s.persist(m); err != nil {
			return err
		}
	}
	s.msgs = append(s.msgs, m)
	s.total++
	s.trim()
	close(s.notify)
	s.notify = make(chan struct{})
	return nil
}

// trim lets go of the oldest messages past keep, a quarter of keep at a time so
// that adding stays cheap.
func (s *Server) trim() {
	if s.keep <= 0 || len(s.msgs) <= s.keep+s.keep/4 {
		return
	}
	n := len(s.msgs) - s.keep
	s.msgs = append([]Message(nil), s.msgs[n:]...)
	s.dropped += n
}

func newID(t time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return t.Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b[:])
}

// persist writes via a temp file and rename so a crash never leaves a
// half-written .json that would make the next Start fail.
func (s *Server) persist(m Message) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, m.ID+".json"))
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func (s *Server) load() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		names = append(names, name)
	}
	// A name starts with its instant (newID), so the latest sort last.
	sort.Strings(names)
	s.total = len(names)
	if s.keep > 0 && len(names) > s.keep {
		s.dropped = len(names) - s.keep
		names = names[s.dropped:]
	}
	for _, name := range names {
		p := filepath.Join(s.dir, name)
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("capture: %w", err)
		}
		var m Message
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("capture: load %s: %w", p, err)
		}
		s.msgs = append(s.msgs, m)
	}
	sort.SliceStable(s.msgs, func(i, j int) bool {
		a, b := s.msgs[i], s.msgs[j]
		if !a.ReceivedAt.Equal(b.ReceivedAt) {
			return a.ReceivedAt.Before(b.ReceivedAt)
		}
		return a.ID < b.ID
	})
	return nil
}

type session struct {
	s    *Server
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error { return nil }), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(bytes.NewReader(raw))
	if err != nil {
		// Rejecting makes malformed mail fail loudly at the sender, which is
		// what a test sink is for.
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "capture: cannot parse message: " + err.Error()}
	}
	m.From = ss.from
	m.To = append([]string(nil), ss.to...)
	if err := ss.s.add(m); err != nil {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "capture: cannot store message: " + err.Error()}
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }
