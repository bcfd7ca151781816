package app

import (
	"context"
	"errors"
	"log/slog"

	amail "github.com/accounthealth/accounthealth/activities/mail"
	"github.com/accounthealth/accounthealth/store"
)

// CourierStore marks what became of a mail already queued in the outbox.
type CourierStore interface {
	MarkMailSent(ctx context.Context, key string) error
	MarkMailFailed(ctx context.Context, key string, cause error) error
	MarkMailUndeliverable(ctx context.Context, key string, cause error) (bool, error)
}

// Deliveries retries a queued mail until it is delivered or given up on (flow.Client).
type Deliveries interface {
	DeliverMail(ctx context.Context, id, key string) error
}

// Mailer sends one message.
type Mailer interface {
	Send(ctx context.Context, m amail.Message) error
}

// Courier sends, from a request, a mail the request queued in the outbox: at
// once, because a person waits for it (a sign-in link, a message on a case);
// when that fails, the mail workflow retries it like every other mail; when no
// retry can start, the mail ends failed in the outbox, for a reviewer to see
// and send again. A mail is never dropped.
type Courier struct {
	Store      CourierStore
	Mailer     Mailer
	Deliveries Deliveries
	Log        *slog.Logger
}

// Send delivers m to its recipients to.
func (c Courier) Send(ctx context.Context, m store.OutboxMail, to []string) {
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	err := c.Mailer.Send(ctx, amail.Message{Key: m.Key, To: to, Subject: m.Subject, Text: m.TextBody, HTML: m.HTMLBody,
		Headers: map[string]string{"X-Accounthealth-Key": m.Key}})
	ctx = context.WithoutCancel(ctx) // what became of the mail is recorded even when the request has gone
	if err == nil {
		if err := c.Store.MarkMailSent(ctx, m.Key); err != nil {
			log.Error("mail sent but not marked sent", "key", m.Key, "err", err)
		}
		return
	}
	log.Warn("send mail; it will be retried", "key", m.Key, "template", m.Template, "err", err)
	_ = c.Store.MarkMailFailed(ctx, m.Key, err)
	if c.Deliveries == nil {
		err = errors.New("no retries configured")
	} else {
		err = c.Deliveries.DeliverMail(ctx, store.MailID(m.Key), m.Key)
	}
	if err != nil {
		log.Error("mail not retried; it is failed in the outbox", "key", m.Key, "err", err)
		_, _ = c.Store.MarkMailUndeliverable(ctx, m.Key, err)
	}
}
