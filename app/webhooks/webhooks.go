// Package webhooks holds the use cases of the marketplace's endpoints: register
// one (its address checked, its signing secret made and shown once), list and
// delete them, list an endpoint's deliveries and retry a failed one by hand.
// Delivering is the worker's (activities.Webhooks, one workflow per endpoint).
package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accounthealth/accounthealth/activities/webhook"
	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// Store is what the use cases read and write.
type Store interface {
	CreateWebhook(ctx context.Context, w store.Webhook) error
	Webhooks(ctx context.Context, p store.Page) ([]store.Webhook, *store.Cursor, error)
	Webhook(ctx context.Context, id string) (store.Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
	Deliveries(ctx context.Context, webhookID, status string, p store.Page) ([]store.WebhookDelivery, *store.Cursor, error)
	RetryDelivery(ctx context.Context, webhookID, eventID string, now time.Time) (store.WebhookDelivery, error)
}

// Flow starts and stops an endpoint's delivery workflow.
type Flow interface {
	StartWebhook(ctx context.Context, webhookID string) error
	StopWebhook(ctx context.Context, webhookID string) error
}

// Service runs the use cases.
type Service struct {
	Store    Store
	Flow     Flow
	Reach    webhook.Reach    // which addresses an endpoint may have
	Resolver webhook.Resolver // resolves an endpoint's host at registration
}

// Register checks and stores an endpoint and starts delivering to it; it answers
// the endpoint and its signing secret, which is never shown again.
func (s *Service) Register(ctx context.Context, url string, events []string) (store.Webhook, string, error) {
	problems := map[string]string{}
	if strings.TrimSpace(url) == "" {
		problems["url"] = "is required"
	} else if err := webhook.CheckURL(ctx, url, s.Reach, s.Resolver); err != nil {
		var ue *webhook.URLError
		if !errors.As(err, &ue) {
			return store.Webhook{}, "", err
		}
		problems["url"] = ue.Problem
	}
	if len(events) == 0 {
		problems["events"] = "must name at least one event type (" + strings.Join(health.WebhookEventTypes, ", ") + ")"
	}
	var types []string
	seen := map[string]bool{}
	for i, e := range events {
		if !health.KnownEventType(e) {
			problems[fmt.Sprintf("events[%d]", i)] = fmt.Sprintf("%q is not an event type (known: %s)", e, strings.Join(health.WebhookEventTypes, ", "))
		} else if !seen[e] {
			seen[e] = true
			types = append(types, e)
		}
	}
	if len(problems) > 0 {
		return store.Webhook{}, "", app.Invalid("the webhook is not valid", problems)
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return store.Webhook{}, "", err
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return store.Webhook{}, "", err
	}
	doc, _ := json.Marshal(types)
	w := store.Webhook{ID: "wh_" + hex.EncodeToString(b), URL: url, Events: string(doc), Secret: secret,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := s.Store.CreateWebhook(ctx, w); err != nil {
		return store.Webhook{}, "", err
	}
	if err := s.Flow.StartWebhook(ctx, w.ID); err != nil {
		// Not delivered to, so not registered: the caller may try again. (A worker
		// also starts the workflow of every endpoint when it starts.)
		if derr := s.Store.DeleteWebhook(context.WithoutCancel(ctx), w.ID); derr != nil {
			return store.Webhook{}, "", errors.Join(err, derr)
		}
		return store.Webhook{}, "", err
	}
	return w, secret, nil
}

// List lists a page of the endpoints.
func (s *Service) List(ctx context.Context, p store.Page) ([]store.Webhook, *store.Cursor, error) {
	return s.Store.Webhooks(ctx, p)
}

// Delete removes an endpoint and what was waiting for it, and stops its workflow.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.Store.DeleteWebhook(ctx, id); errors.Is(err, store.ErrNotFound) {
		return app.NotFound("webhook")
	} else if err != nil {
		return err
	}
	// Deleted: nothing more is sent. Stopping the workflow only saves it the next
	// look; it also ends by itself when it finds the endpoint gone, so a Temporal
	// away now does not make the deletion an error.
	_ = s.Flow.StopWebhook(ctx, id)
	return nil
}

// Deliveries lists an endpoint's deliveries with a status ("" for all), newest first.
func (s *Service) Deliveries(ctx context.Context, id, status string, p store.Page) ([]store.WebhookDelivery, *store.Cursor, error) {
	switch status {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		return nil, nil, app.Invalid("unknown status", map[string]string{"status": fmt.Sprintf("%q must be pending, delivered or failed", status)})
	}
	if _, err := s.Store.Webhook(ctx, id); errors.Is(err, store.ErrNotFound) {
		return nil, nil, app.NotFound("webhook")
	} else if err != nil {
		return nil, nil, err
	}
	return s.Store.Deliveries(ctx, id, status, p)
}

// Retry puts a failed delivery back in line: it is due at once, and holds the
// seller's later deliveries back again until it is delivered or fails anew.
func (s *Service) Retry(ctx context.Context, id, delivery string) error {
	if _, err := s.Store.Webhook(ctx, id); errors.Is(err, store.ErrNotFound) {
		return app.NotFound("webhook")
	} else if err != nil {
		return err
	}
	_, err := s.Store.RetryDelivery(ctx, id, delivery, time.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return app.NotFound("delivery")
	case errors.Is(err, store.ErrConflict):
		return app.Conflict("delivery %s has not failed: only a failed delivery is retried by hand", delivery)
	case err != nil:
		return err
	}
	return s.Flow.StartWebhook(ctx, id) // running already, as a rule: this only makes sure
}
