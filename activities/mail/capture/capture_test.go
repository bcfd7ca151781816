package capture

import (
	"context"
	"errors"
	"net/smtp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func send(t *testing.T, s *Server, from string, to []string, raw string) {
	t.Helper()
	if err := smtp.SendMail(s.Addr(), nil, from, to, []byte(strings.ReplaceAll(raw, "\n", "\r\n"))); err != nil {
		t.Fatal(err)
	}
}

func waitN(t *testing.T, s *Server, n int) []Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.Wait(ctx, func(Message) bool { return len(s.Messages()) >= n }); err != nil {
		t.Fatal(err)
	}
	return s.Messages()
}

const nested = `From: =?iso-8859-1?q?J=FCrgen?= <j@example.com>
To: a@example.com
Subject: =?UTF-8?B?RmFsbCBOci4gw7wgNDI=?= und =?iso-8859-1?q?mehr_=FC?=
X-Accounthealth-Key: k1
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGFsbG8gw7wKendlaXRlIFplaWxl
--inner
Content-Type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

<p>Gr=FC=DFe, eine sehr lange Zeile die weich umbrochen wird =
und weitergeht</p>
--inner--
--outer
Content-Type: text/plain
Content-Disposition: attachment; filename="a.txt"

not the body
--outer--
`

func TestParseNestedMultipart(t *testing.T) {
	s, err := Start("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	send(t, s, "bounce@example.com", []string{"a@example.com", "hidden@example.com"}, nested)
	m := waitN(t, s, 1)[0]
	if m.Subject != "Fall Nr. ü 42 und mehr ü" {
		t.Errorf("subject = %q", m.Subject)
	}
	if m.Text != "Hallo ü\nzweite Zeile" {
		t.Errorf("text = %q", m.Text)
	}
	if m.HTML != "<p>Grüße, eine sehr lange Zeile die weich umbrochen wird und weitergeht</p>" {
		t.Errorf("html = %q", m.HTML)
	}
	if m.From != "bounce@example.com" || !slices.Equal(m.To, []string{"a@example.com", "hidden@example.com"}) {
		t.Errorf("envelope = %q %q", m.From, m.To)
	}
	if m.Headers["From"] != "Jürgen <j@example.com>" || m.Headers["X-Accounthealth-Key"] != "k1" {
		t.Errorf("headers = %v", m.Headers)
	}
}

func TestPersistence(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	s, err := Start("127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, subj := range []string{"one", "two", "three"} {
		send(t, s, "f@example.com", []string{"t@example.com"}, "Subject: "+subj+"\nX-Accounthealth-Key: "+subj+"\n\nbody "+subj+"\n")
	}
	before := waitN(t, s, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Readable after Close, and Wait reports closure instead of hanging.
	if len(s.Messages()) != 3 {
		t.Fatal("messages lost on Close")
	}
	if _, err := s.Wait(context.Background(), func(m Message) bool { return false }); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait after Close: %v", err)
	}

	s2, err := Start("127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	after := s2.Messages()
	if len(after) != 3 {
		t.Fatalf("after restart: %d messages", len(after))
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.Subject != b.Subject || a.Text != b.Text || !a.ReceivedAt.Equal(b.ReceivedAt) ||
			a.From != b.From || !slices.Equal(a.To, b.To) || a.Headers["X-Accounthealth-Key"] != b.Headers["X-Accounthealth-Key"] {
			t.Errorf("message %d: before %+v after %+v", i, b, a)
		}
	}
	if after[0].Subject != "one" || after[2].Subject != "three" {
		t.Errorf("order: %q %q %q", after[0].Subject, after[1].Subject, after[2].Subject)
	}

	// A message to the restarted server lands next to the old ones.
	send(t, s2, "f@example.com", []string{"t@example.com"}, "Subject: four\n\nbody\n")
	waitN(t, s2, 4)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 4 {
		t.Errorf("%d json files, want 4", len(files))
	}
}

func TestWait(t *testing.T) {
	s, err := Start("localhost:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Wait(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("empty Wait: %v", err)
	}

	got := make(chan Message, 1)
	go func() {
		m, err := s.Wait(context.Background(), func(m Message) bool { return m.Subject == "b" })
		if err != nil {
			t.Error(err)
		}
		got <- m
	}()
	send(t, s, "f@example.com", []string{"t@example.com"}, "Subject: a\n\nx\n")
	send(t, s, "f@example.com", []string{"t@example.com"}, "Subject: b\n\ny\n")
	select {
	case m := <-got:
		if m.Subject != "b" {
			t.Errorf("got %q", m.Subject)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return")
	}
	// Already captured messages match immediately.
	if m, err := s.Wait(context.Background(), func(m Message) bool { return m.Subject == "a" }); err != nil || m.Text != "x\n" {
		t.Errorf("Wait for old message: %+v %v", m, err)
	}
	// Returned messages are copies.
	msgs := s.Messages()
	msgs[0].To[0] = "changed"
	msgs[0].Headers["Subject"] = "changed"
	if m := s.Messages()[0]; m.To[0] != "t@example.com" || m.Headers["Subject"] != "a" {
		t.Errorf("Messages is not a copy: %+v", m)
	}
}

func TestStartRejects(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0", "192.0.2.1:0", "example.com:25", "nonsense"} {
		if s, err := Start(addr, ""); err == nil {
			s.Close()
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Start("127.0.0.1:0", dir); err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Errorf("corrupt file: %v", err)
	}
}

// A server with a folder holds only the latest messages in memory; the folder
// keeps every one, and a restart loads the latest again.
func TestKeepsTheLatestInMemoryAndAllOnDisk(t *testing.T) {
	dir := t.TempDir()
	s, err := StartKeeping("127.0.0.1:0", dir, 4)
	if err != nil {
		t.Fatal(err)
	}
	subject := func(i int) string { return "n" + string(rune('a'+i)) }
	for i := range 10 {
		send(t, s, "f@example.com", []string{"t@example.com"}, "Subject: "+subject(i)+"\n\nbody\n")
	}
	// Wait sees a message arriving after the trims.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if m, err := s.Wait(ctx, func(m Message) bool { return m.Subject == subject(9) }); err != nil || m.Subject != subject(9) {
		t.Fatalf("wait for the last: %v %q", err, m.Subject)
	}
	held := s.Messages()
	if len(held) < 4 || len(held) > 5 || held[len(held)-1].Subject != subject(9) {
		t.Fatalf("held %d messages, last %q; want the latest 4 or 5", len(held), held[len(held)-1].Subject)
	}
	if s.Total() != 10 {
		t.Errorf("total %d, want 10", s.Total())
	}
	s.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 10 {
		t.Fatalf("%d files on disk, want 10", len(files))
	}

	again, err := StartKeeping("127.0.0.1:0", dir, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	var got []string
	for _, m := range again.Messages() {
		got = append(got, m.Subject)
	}
	if !slices.Equal(got, []string{subject(6), subject(7), subject(8), subject(9)}) || again.Total() != 10 {
		t.Errorf("after a restart: %q of %d", got, again.Total())
	}
	send(t, again, "f@example.com", []string{"t@example.com"}, "Subject: later\n\nbody\n")
	if m, err := again.Wait(ctx, func(m Message) bool { return m.Subject == "later" }); err != nil || m.Subject != "later" {
		t.Fatalf("wait after a restart: %v", err)
	}
}
