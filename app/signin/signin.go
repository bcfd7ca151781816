// Package signin holds the use cases of signing in to the web pages: asking for
// one-time links by mail (limited per address and client, the same answer
// whether or not an account has the address), spending a link for a session,
// and signing out.
package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/telemetry"
	"github.com/accounthealth/accounthealth/templates"
)

// Lifetimes of what signing in makes.
const (
	LinkTTL    = 15 * time.Minute
	SessionTTL = 12 * time.Hour
)

// Limits: one client may ask for an address's links a few times in the life of a
// link; all clients together a few times more, so that no single client can stop
// the owner's links while mail to an address stays bounded.
var Limits = store.SigninLimits{Window: LinkTTL, PerClient: 3, PerAddress: 10}

// Store is what signing in reads and writes.
type Store interface {
	RequestSignin(ctx context.Context, email, client string, now time.Time, lim store.SigninLimits) (store.SigninVerdict, error)
	PeopleByEmail(ctx context.Context, email string) ([]store.Person, error)
	CreateLoginToken(ctx context.Context, t store.LoginToken) error
	UseLoginToken(ctx context.Context, hash string, now time.Time) (store.LoginToken, error)
	CreateSession(ctx context.Context, sess store.Session) error
	DeleteSession(ctx context.Context, hash string) error
	QueueMail(ctx context.Context, m store.OutboxMail) error
	MarkMailSent(ctx context.Context, key string) error
	MarkMailFailed(ctx context.Context, key string, cause error) error
	MarkMailUndeliverable(ctx context.Context, key string, cause error) (bool, error)
}

// Deliveries retries a queued mail until it is delivered or given up on (flow.Client).
type Deliveries = app.Deliveries

// Mailer sends a message.
type Mailer = app.Mailer

// Service runs the use cases.
type Service struct {
	Store      Store
	Mailer     Mailer
	Deliveries Deliveries
	PublicURL  string // the base of the links
	Log        *slog.Logger
}

// Limited is a request for links refused by a limit; the message says which.
type Limited struct{ Message string }

func (e *Limited) Error() string { return e.Message }

// Request asks for sign-in links for email from client. Unless a limit refuses
// it, each account with the address is mailed its own link, after the answer, so
// neither the answer nor its timing tells whether an account exists.
func (s *Service) Request(ctx context.Context, email, client string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		return email, app.Invalid("That is not an email address; please check it.", map[string]string{"email": "must be an email address"})
	}
	verdict, err := s.Store.RequestSignin(ctx, email, client, time.Now(), Limits)
	if err != nil {
		return email, err
	}
	wait := fmt.Sprintf("Sign-in links work for %d minutes: use the newest one you have, or ask again later.", int(LinkTTL.Minutes()))
	switch verdict {
	case store.SigninClientLimited:
		return email, &Limited{fmt.Sprintf("Sign-in links for %s were asked for %d times from here in the last %d minutes. %s",
			email, Limits.PerClient, int(Limits.Window.Minutes()), wait)}
	case store.SigninAddressLimited:
		return email, &Limited{fmt.Sprintf("Sign-in links for %s were asked for %d times in the last %d minutes, from several places. %s",
			email, Limits.PerAddress, int(Limits.Window.Minutes()), wait)}
	}
	go s.sendLinks(context.WithoutCancel(ctx), email) // the request's id and logger go along
	return email, nil
}

// sendLinks mails each account with the address its own link, so two accounts
// sharing an address each get theirs.
func (s *Service) sendLinks(ctx context.Context, email string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	log := telemetry.Logger(ctx, s.Log)
	now := time.Now().UTC()
	people, err := s.Store.PeopleByEmail(ctx, email)
	if err != nil {
		log.Error("sign-in lookup", "err", err)
		return
	}
	for _, p := range people {
		token := app.NewKey("ahl")
		t := store.LoginToken{TokenHash: app.HashKey(token), Email: email, Role: p.Role, CreatedAt: now, ExpiresAt: now.Add(LinkTTL)}
		if p.SellerID != "" {
			t.SellerID = &p.SellerID
		}
		if p.ReviewerID != "" {
			t.ReviewerID = &p.ReviewerID
		}
		if err := s.Store.CreateLoginToken(ctx, t); err != nil {
			log.Error("sign-in token", "err", err)
			return
		}
		m, err := templates.Render(templates.SignIn, templates.MailData{SellerName: p.Name, CaseURL: s.PublicURL + "/signin/" + token})
		if err != nil {
			log.Error("sign-in mail", "err", err)
			return
		}
		s.deliver(ctx, log, store.OutboxMail{Key: "signin/" + t.TokenHash, Template: templates.SignIn, Subject: m.Subject,
			TextBody: m.Text, HTMLBody: m.HTML, CreatedAt: now}, p.Email)
	}
}

// deliver queues a link in the outbox and hands it to the courier: sent at
// once, retried like every other mail when the relay does not take it, and
// failed in the outbox, for a reviewer to see, rather than lost.
func (s *Service) deliver(ctx context.Context, log *slog.Logger, m store.OutboxMail, to string) {
	rcpts, _ := json.Marshal([]string{to})
	m.Recipients = string(rcpts)
	if err := s.Store.QueueMail(ctx, m); err != nil {
		log.Error("queue sign-in mail", "err", err)
		return
	}
	app.Courier{Store: s.Store, Mailer: s.Mailer, Deliveries: s.Deliveries, Log: log}.Send(ctx, m, []string{to})
}

// ErrLinkSpent is a link that is unknown, used or expired.
var ErrLinkSpent = errors.New("sign-in links work once, for 15 minutes; ask for a new one on the sign-in page")

// Complete spends a sign-in link for a new session, and answers the session and
// the secret its cookie carries.
func (s *Service) Complete(ctx context.Context, token string) (store.Session, string, error) {
	t, err := s.Store.UseLoginToken(ctx, app.HashKey(token), time.Now().UTC())
	if errors.Is(err, store.ErrTokenInvalid) {
		return store.Session{}, "", ErrLinkSpent
	}
	if err != nil {
		return store.Session{}, "", err
	}
	id := app.NewKey("ahsess")
	now := time.Now().UTC()
	sess := store.Session{IDHash: app.HashKey(id), Role: t.Role, SellerID: t.SellerID, ReviewerID: t.ReviewerID,
		CSRF: app.NewKey("csrf"), CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	return sess, id, s.Store.CreateSession(ctx, sess)
}

// SignOut ends the session whose cookie carries id.
func (s *Service) SignOut(ctx context.Context, id string) error {
	return s.Store.DeleteSession(ctx, app.HashKey(id))
}
