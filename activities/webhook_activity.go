package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/accounthealth/accounthealth/activities/killpoint"
	"github.com/accounthealth/accounthealth/activities/webhook"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// How an endpoint's dispatcher runs: one activity delivers for a stretch, then
// returns so its workflow's history stays short; it heartbeats while it works,
// so a worker killed under it is noticed within the heartbeat timeout.
const (
	DispatchStretch          = 10 * time.Minute
	DispatchHeartbeatTimeout = 10 * time.Second
	dispatchParallel         = 32                     // sellers in flight at once to one endpoint
	dispatchPoll             = 200 * time.Millisecond // how often an idle dispatcher looks for due deliveries
)

// Webhooks delivers events to the marketplace's endpoints.
type Webhooks struct {
	Store  *store.Store
	Policy health.WebhookPolicy
	Sender *webhook.Sender
	Log    *slog.Logger
	// Observe, when set, is told every attempt's outcome (metrics).
	Observe func(status string)
}

// Dispatch delivers an endpoint's due events for a stretch: each seller's oldest
// pending delivery, up to dispatchParallel sellers at once, one at a time per
// seller, so a seller's events arrive in order and a seller whose deliveries
// fail holds back only its own. Each outcome is written before the seller's next
// delivery is read; a delivery sent and not yet written when the worker dies is
// sent again, under the same id.
func (a *Webhooks) Dispatch(ctx context.Context, in flow.WebhookInput) (flow.DispatchResult, error) {
	end := time.Now().Add(DispatchStretch)
	inflight := map[string]bool{}
	done := make(chan string, dispatchParallel)
	wait := func() {
		for len(inflight) > 0 {
			delete(inflight, <-done)
		}
	}
	defer wait()
	tick := time.NewTicker(dispatchPoll)
	defer tick.Stop()
	for {
		activity.RecordHeartbeat(ctx) // throttled by the SDK
		if err := ctx.Err(); err != nil {
			return flow.DispatchResult{}, err
		}
		stretchOver := time.Now().After(end)
		if stretchOver && len(inflight) == 0 {
			return flow.DispatchResult{}, nil
		}
		if !stretchOver && len(inflight) < dispatchParallel {
			w, err := a.Store.Webhook(ctx, in.WebhookID)
			if errors.Is(err, store.ErrNotFound) {
				return flow.DispatchResult{Gone: true}, nil
			}
			if err != nil {
				return flow.DispatchResult{}, err
			}
			due, err := a.Store.DueDeliveries(ctx, w.ID, time.Now(), 2*dispatchParallel)
			if err != nil {
				return flow.DispatchResult{}, err
			}
			for _, d := range due {
				if len(inflight) >= dispatchParallel {
					break
				}
				if inflight[d.SellerID] {
					continue
				}
				inflight[d.SellerID] = true
				go func() {
					a.attempt(ctx, w, d)
					done <- d.SellerID
				}()
			}
		}
		select {
		case s := <-done:
			delete(inflight, s)
			for more := true; more; { // take every outcome that is in before asking again
				select {
				case s := <-done:
					delete(inflight, s)
				default:
					more = false
				}
			}
		case <-tick.C:
		case <-ctx.Done():
		}
	}
}

// attempt sends one delivery and writes its outcome.
func (a *Webhooks) attempt(ctx context.Context, w store.Webhook, d store.WebhookDelivery) {
	res, err := a.Sender.Send(ctx, w.URL, w.Secret, d.EventID, []byte(d.Body), time.Now())
	if ctx.Err() != nil && (err != nil || !res.OK()) {
		return // the worker is stopping: this attempt does not count, the next one sends again
	}
	at := time.Now()
	att := store.Attempt{At: at, StatusCode: res.StatusCode}
	if err == nil && res.OK() {
		killpoint.Hit(killpoint.WebhookAfterSend)
		att.Delivered = true
	} else {
		att.Error = describe(err, res)
		first := at
		if d.FirstAttemptAt != nil {
			first = *d.FirstAttemptAt
		}
		if at.Sub(first) < a.Policy.GiveUpAfter { // tried for at least give_up_after before failing for good
			att.Next = at.Add(a.Policy.Backoff(d.Attempts + 1))
		}
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := a.Store.RecordAttempt(wctx, d, att); err != nil && a.Log != nil {
		// Not written: the delivery stays pending as it was and is sent again, same id.
		a.Log.Error("webhook attempt not recorded", "webhook", w.ID, "event", d.EventID, "error", err)
	}
	if a.Observe != nil {
		switch {
		case att.Delivered:
			a.Observe(store.DeliveryDelivered)
		case att.Next.IsZero():
			a.Observe(store.DeliveryFailed)
		default:
			a.Observe("retry")
		}
	}
}

// describe is a failed attempt's last error, as the deliveries list shows it.
func describe(err error, res webhook.Result) string {
	if err != nil {
		return err.Error()
	}
	s := fmt.Sprintf("answered %d", res.StatusCode)
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		s += " (redirects are not followed)"
	}
	body := strings.Map(func(r rune) rune { // an answer may hold anything; the database takes text
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(res.Answer, "?"))
	if body = strings.TrimSpace(body); body != "" {
		if len(body) > 200 {
			body = strings.ToValidUTF8(body[:200], "") + "…"
		}
		s += ": " + body
	}
	return s
}
