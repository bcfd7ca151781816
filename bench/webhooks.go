package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// stormUntil evaluates every seller (each breach opens a case) and waits until
// done says the storm has arrived.
func stormUntil(ctx context.Context, e *env, what string, done func() (bool, error)) (time.Duration, error) {
	e.sink.on = true
	defer func() { e.sink.on = false }()
	start := time.Now()
	if _, err := evaluate(ctx, e, "bench-storm"); err != nil {
		return 0, err
	}
	for {
		ok, err := done()
		if err != nil {
			return 0, err
		}
		if ok {
			return time.Since(start), nil
		}
		if time.Since(start) > 30*time.Minute {
			return 0, fmt.Errorf("storm: %s not there after 30 minutes", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// counter is the marketplace's end of the webhook storm: it counts the distinct
// case.opened events it is sent (a repeat of an id is not counted twice).
type counter struct {
	mu     sync.Mutex
	opened map[string]bool
	srv    *httptest.Server
}

func newCounter() *counter {
	c := &counter{opened: map[string]bool{}}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if bytes.Contains(b, []byte(`"type":"case.opened"`)) {
			c.mu.Lock()
			c.opened[r.Header.Get("webhook-id")] = true
			c.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	return c
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.opened)
}

// benchWebhooks: the storm without webhooks (time until k warned cases with
// queued mail), then on a fresh system with one endpoint registered for
// case.opened: time until the k-th case.opened has arrived at it.
func benchWebhooks(ctx context.Context, plain, hooked *env, k int) (result, error) {
	bare, err := stormUntil(ctx, plain, "the warned cases", func() (bool, error) {
		var cases, mails int
		err := plain.pg.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM cases WHERE state = 'warned'), (SELECT COUNT(*) FROM outbox WHERE template = 'warning')`).Scan(&cases, &mails)
		return cases >= k && mails >= k, err
	})
	if err != nil {
		return result{}, err
	}
	rcv := newCounter()
	defer rcv.srv.Close()
	body, _ := json.Marshal(map[string]any{"url": rcv.srv.URL, "events": []string{"case.opened"}})
	req, _ := http.NewRequestWithContext(ctx, "POST", hooked.api.URL+"/v1/webhooks", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return result{}, err
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return result{}, fmt.Errorf("register the webhook: %d %s", resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	hook, err := stormUntil(ctx, hooked, "the case.opened events", func() (bool, error) { return rcv.count() >= k, nil })
	if err != nil {
		return result{}, err
	}
	return result{Name: "webhooks", Measure: fmt.Sprintf("%d breaches until the last case.opened arrives vs the storm without webhooks", k),
		Ours: hook.Seconds(), Baseline: bare.Seconds(), Unit: "s", Aim: "ratio <= 1.5",
		Note: fmt.Sprintf("%d case.opened delivered; the storm without webhooks ends at %d warned cases with queued mail", rcv.count(), k)}, nil
}
