// Package mailbox holds the staff's use cases on the outbox: listing mail by
// status (the failed mail waits there for them) and sending a failed mail again.
package mailbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/store"
)

// Store is what the use cases read and write.
type Store interface {
	ListMail(ctx context.Context, status string, p store.Page) ([]store.OutboxMail, *store.Cursor, error)
	RetryMail(ctx context.Context, id string) (store.OutboxMail, error)
	MarkMailUndeliverable(ctx context.Context, key string, cause error) (bool, error)
}

// Deliveries starts a mail's delivery (flow.Client).
type Deliveries interface {
	DeliverMail(ctx context.Context, id, key string) error
}

// Service runs the use cases.
type Service struct {
	Store      Store
	Deliveries Deliveries
}

// List lists a page of mail of a status ("" for all) by id.
func (s *Service) List(ctx context.Context, status string, p store.Page) ([]store.OutboxMail, *store.Cursor, error) {
	if status != "" && !slices.Contains(store.MailStatuses, status) {
		return nil, nil, app.Invalid("unknown status", map[string]string{"status": "must be one of " + strings.Join(store.MailStatuses, ", ")})
	}
	return s.Store.ListMail(ctx, status, p)
}

// Resend sends a failed mail again. Only a failed mail is taken: a sent mail is
// never sent twice, and one still being tried is left to its retries. The mail
// keeps its key, so its Message-ID is the one its first tries carried.
func (s *Service) Resend(ctx context.Context, id string) (store.OutboxMail, error) {
	m, err := s.Store.RetryMail(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return m, app.NotFound("mail " + id)
	case errors.Is(err, store.ErrConflict):
		return m, app.Conflict("mail %s is %s; only a failed mail is sent again", id, m.Status())
	case err != nil:
		return m, err
	}
	if err := s.Deliveries.DeliverMail(ctx, m.ID, m.Key); err != nil {
		// Not started: the mail goes back to failed, so it is neither lost nor stuck pending.
		_, _ = s.Store.MarkMailUndeliverable(context.WithoutCancel(ctx), m.Key, err)
		return m, fmt.Errorf("resend %s: %w", id, err)
	}
	return m, nil
}
