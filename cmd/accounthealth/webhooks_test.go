package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/store/storetest"
)

// receiver is the marketplace's end: it verifies every delivery the way a
// receiver would (nothing from this repository), and can fail a seller's first
// attempts.
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	secret string
	failN  map[string]int // seller → attempts still to answer 500
	got    []received     // every verified delivery answered 2xx, in arrival order
	tries  map[string]int // event id → attempts seen
	srv    *httptest.Server
}

type received struct {
	ID, Type, Seller string
	At               time.Time
	Data             map[string]any
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, failN: map[string]int{}, tries: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// verify is what a marketplace writes: HMAC-SHA256 over "id.timestamp.body",
// keyed by the base64 after "whsec_", compared in constant time.
func verify(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	ts, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !verify(r.secret, req.Header, body) {
		r.t.Errorf("a delivery does not verify: %v %s", req.Header, body)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev struct {
		ID   string         `json:"id"`
		Type string         `json:"type"`
		At   time.Time      `json:"at"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != req.Header.Get("webhook-id") {
		r.t.Errorf("body %s (%v) does not carry the webhook-id %s", body, err, req.Header.Get("webhook-id"))
	}
	seller, _ := ev.Data["seller_id"].(string)
	if c, ok := ev.Data["case"].(map[string]any); ok {
		seller, _ = c["seller_id"].(string)
	}
	r.tries[ev.ID]++
	if r.failN[seller] > 0 {
		r.failN[seller]--
		http.Error(w, "not today", http.StatusInternalServerError)
		return
	}
	r.got = append(r.got, received{ID: ev.ID, Type: ev.Type, Seller: seller, At: time.Now(), Data: ev.Data})
	w.WriteHeader(http.StatusNoContent)
}

// of is what arrived for a seller: the types in arrival order, and the events.
func (r *receiver) of(seller string) ([]string, []received) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var types []string
	var evs []received
	for _, e := range r.got {
		if e.Seller == seller {
			types = append(types, e.Type)
			evs = append(evs, e)
		}
	}
	return types, evs
}

func (r *receiver) waitFor(seller string, want []string) []received {
	r.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		types, evs := r.of(seller)
		if len(types) >= len(want) || time.Now().After(deadline) {
			if len(types) < len(want) || strings.Join(types[:len(want)], " ") != strings.Join(want, " ") {
				r.t.Fatalf("%s's events arrived as %v, want %v first", seller, types, want)
			}
			return evs[:len(want)]
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func writeWebhookPolicy(t *testing.T, grace string) string {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	policy := fmt.Sprintf("cases:\n  warning_grace: %s\n  appeal_window: 120s\n  review_sla: 60s\n  info_response_window: 60s\n"+
		"evaluation:\n  sweep_interval: 0s\nwebhooks: {timeout: 2s, first_retry: 1s, max_backoff: 4s, give_up_after: 1h}\n", grace)
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type webhookCreated struct {
	Webhook struct {
		ID     string   `json:"id"`
		URL    string   `json:"url"`
		Events []string `json:"events"`
	} `json:"webhook"`
	Secret string `json:"secret"`
}

type deliveryResp struct {
	ID             string  `json:"id"`
	EventType      string  `json:"event_type"`
	SellerID       string  `json:"seller_id"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	LastStatusCode *int    `json:"last_status_code"`
	LastError      *string `json:"last_error"`
}

var allEventTypes = []string{"seller.status_changed", "case.opened", "case.enforced", "case.under_review", "case.info_requested",
	"case.resolved", "case.reinstated", "case.deactivated", "case.withdrawn", "tier.changed", "program.invited", "program.revoked"}

// TestWebhooksDeliverSignedEventsInOrder runs the real program (dev: loopback
// allowed) on Postgres with a real HTTP receiver: a seller's breach, enforcement,
// appeal and reinstatement arrive signed and in order; another seller whose
// first three attempts fail gets its events in order too, and meanwhile the first
// seller's keep arriving. Bad registrations are refused, naming the field.
func TestWebhooksDeliverSignedEventsInOrder(t *testing.T) {
	d := startDev(t, map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_POLICY_FILE": writeWebhookPolicy(t, "4s")})
	rcv := newReceiver(t)
	rcv.failN["bert"] = 3

	// Bad input stores nothing.
	var e apiError
	for _, bad := range []struct {
		body  any
		field string
	}{
		{map[string]any{"url": "not a url", "events": []string{"case.opened"}}, "url"},
		{map[string]any{"url": "ftp://example.com/hook", "events": []string{"case.opened"}}, "url"},
		{map[string]any{"url": "http://10.1.2.3/hook", "events": []string{"case.opened"}}, "url"},
		{map[string]any{"url": "http://169.254.169.254/latest", "events": []string{"case.opened"}}, "url"},
		{map[string]any{"url": rcv.srv.URL, "events": []string{"case.opened", "case.exploded"}}, "events[1]"},
		{map[string]any{"url": rcv.srv.URL, "events": []string{}}, "events"},
	} {
		if code := call(t, "POST", d.base+"/v1/webhooks", d.adminKey, bad.body, &e); code != http.StatusBadRequest || e.Error.Fields[bad.field] == "" {
			t.Errorf("%v: %d %+v, want 400 naming %s", bad.body, code, e.Error, bad.field)
		}
	}
	if code := call(t, "DELETE", d.base+"/v1/webhooks/wh_nothing", d.adminKey, nil, &e); code != http.StatusNotFound {
		t.Errorf("delete of nothing: %d", code)
	}
	if code := call(t, "GET", d.base+"/v1/webhooks/wh_nothing/deliveries", d.adminKey, nil, &e); code != http.StatusNotFound {
		t.Errorf("deliveries of nothing: %d", code)
	}
	var list struct {
		Webhooks []map[string]any `json:"webhooks"`
	}
	if call(t, "GET", d.base+"/v1/webhooks", d.adminKey, nil, &list); len(list.Webhooks) != 0 {
		t.Fatalf("refused registrations stored: %v", list.Webhooks)
	}

	var wh webhookCreated
	if code := call(t, "POST", d.base+"/v1/webhooks", d.adminKey, map[string]any{"url": rcv.srv.URL + "/hooks", "events": allEventTypes}, &wh); code != http.StatusCreated ||
		!strings.HasPrefix(wh.Secret, "whsec_") {
		t.Fatalf("register: %d %+v", code, wh)
	}
	rcv.mu.Lock()
	rcv.secret = wh.Secret
	rcv.mu.Unlock()
	if call(t, "GET", d.base+"/v1/webhooks", d.adminKey, nil, &list); len(list.Webhooks) != 1 || list.Webhooks[0]["secret"] != nil {
		t.Fatalf("list: %v (the secret is never listed)", list.Webhooks)
	}

	lena := provisionSeller(t, d.base, d.adminKey, "lena")
	provisionSeller(t, d.base, d.adminKey, "bert")
	var rev struct {
		APIKey string `json:"api_key"`
	}
	call(t, "POST", d.base+"/v1/reviewers", d.adminKey, map[string]string{"name": "Rita Reviewer", "email": "rita@example.com"}, &rev)

	// bert's events wait behind three failures; lena's arrive meanwhile.
	bertStart := time.Now()
	openCase(t, d, "bert", d.adminKey)
	c := openCase(t, d, "lena", lena)
	c = waitState(t, d.base, lena, c.ID, "enforced")
	var a struct {
		Appeal appealResp `json:"appeal"`
	}
	if code := call(t, "POST", d.base+"/v1/cases/"+c.ID+"/appeals", lena, goodPOA, &a); code != http.StatusCreated {
		t.Fatalf("appeal: %d", code)
	}
	if code := call(t, "POST", d.base+"/v1/appeals/"+a.Appeal.ID+"/decision", rev.APIKey, map[string]string{"decision": "approve"}, nil); code != http.StatusOK {
		t.Fatalf("approve: %d", code)
	}

	lenaEvents := rcv.waitFor("lena", []string{"case.opened", "seller.status_changed", "case.enforced", "seller.status_changed",
		"case.under_review", "case.reinstated", "seller.status_changed"})
	statuses := []string{}
	for _, ev := range lenaEvents {
		if ev.Type == "seller.status_changed" {
			statuses = append(statuses, fmt.Sprint(ev.Data["previous"], ">", ev.Data["current"]))
			if ev.Data["case_id"] != c.ID {
				t.Errorf("status change names case %v, want %s", ev.Data["case_id"], c.ID)
			}
		} else if cs, _ := ev.Data["case"].(map[string]any); cs["id"] != c.ID || cs["timeline"] != nil {
			t.Errorf("%s carries case %v", ev.Type, cs)
		} else if want := strings.TrimPrefix(ev.Type, "case."); want != "opened" && cs["state"] != want {
			t.Errorf("%s carries a case in state %v", ev.Type, cs["state"])
		}
	}
	if got := strings.Join(statuses, " "); got != "active>at_risk at_risk>suspended suspended>active" {
		t.Errorf("status changes %s", got)
	}
	bertEvents := rcv.waitFor("bert", []string{"case.opened", "seller.status_changed"})
	if !lenaEvents[0].At.Before(bertEvents[0].At) {
		t.Errorf("lena's first event arrived at %v, after bert's first success at %v: one seller's failures held another's back",
			lenaEvents[0].At.Sub(bertStart), bertEvents[0].At.Sub(bertStart))
	}
	rcv.mu.Lock()
	if n := rcv.tries[bertEvents[0].ID]; n != 4 {
		t.Errorf("bert's first event was tried %d times, want 4 (3 failures)", n)
	}
	ids := map[string]bool{}
	for _, ev := range rcv.got {
		if ids[ev.ID] {
			t.Errorf("event %s arrived twice", ev.ID)
		}
		ids[ev.ID] = true
	}
	rcv.mu.Unlock()

	var ds struct {
		Deliveries []deliveryResp `json:"deliveries"`
	}
	call(t, "GET", d.base+"/v1/webhooks/"+wh.Webhook.ID+"/deliveries?status=delivered", d.adminKey, nil, &ds)
	if len(ds.Deliveries) < 9 {
		t.Errorf("%d deliveries delivered, want at least 9: %+v", len(ds.Deliveries), ds.Deliveries)
	}
	for _, dl := range ds.Deliveries {
		if dl.ID == bertEvents[0].ID && (dl.Attempts != 4 || dl.LastStatusCode == nil || *dl.LastStatusCode != 204) {
			t.Errorf("bert's first delivery: %+v", dl)
		}
	}
	if code := call(t, "GET", d.base+"/v1/webhooks/"+wh.Webhook.ID+"/deliveries?status=lost", d.adminKey, nil, &e); code != http.StatusBadRequest || e.Error.Fields["status"] == "" {
		t.Errorf("unknown status: %d %+v", code, e.Error)
	}
	if code := call(t, "POST", d.base+"/v1/webhooks/"+wh.Webhook.ID+"/deliveries/"+bertEvents[0].ID+"/retry", d.adminKey, nil, &e); code != http.StatusConflict {
		t.Errorf("retry of a delivered one: %d, want 409", code)
	}
	if code := call(t, "DELETE", d.base+"/v1/webhooks/"+wh.Webhook.ID, d.adminKey, nil, nil); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
}

// TestWebhookDeliveriesSurviveAKilledWorker kills `dev` (the worker with it) with
// SIGKILL right after the receiver took a delivery and before it was marked, and
// starts it again: every event arrives, the one in flight again under its own
// id, and no change arrives under two ids.
func TestWebhookDeliveriesSurviveAKilledWorker(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()
	httpPort := freePort(t, false)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	env := []string{
		"AH_DATA_DIR=" + dataDir, fmt.Sprintf("AH_HTTP_ADDR=127.0.0.1:%d", httpPort),
		fmt.Sprintf("AH_TEMPORAL_DEV_PORT=%d", freePort(t, true)), "AH_POLICY_FILE=" + writeWebhookPolicy(t, "1h"),
		"AH_DATABASE_URL=", "AH_SMTP_URL=", "AH_TEMPORAL_ADDRESS=", "AH_ADMIN_KEY=admin-key-for-tests-0123456789",
	}
	first := startBinary(t, bin, append(env, "AH_KILLPOINTS=webhook.after-send:3"), base)
	d := &devProcess{base: base, adminKey: "admin-key-for-tests-0123456789"}
	rcv := newReceiver(t)
	var wh webhookCreated
	if code := call(t, "POST", base+"/v1/webhooks", d.adminKey, map[string]any{"url": rcv.srv.URL, "events": allEventTypes}, &wh); code != http.StatusCreated {
		t.Fatalf("register: %d", code)
	}
	rcv.mu.Lock()
	rcv.secret = wh.Secret
	rcv.mu.Unlock()
	sellers := []string{"ann", "ben", "cat"}
	for _, s := range sellers {
		provisionSeller(t, base, d.adminKey, s)
		if code := call(t, "POST", base+"/v1/events", d.adminKey, map[string]any{"events": breachEvents(s, time.Now().UTC())}, nil); code != http.StatusOK {
			t.Fatalf("events: %d", code)
		}
	}
	// The deliveries start while the evaluation runs: the kill may come before it
	// is seen complete, so it is not waited for.
	if code := call(t, "POST", base+"/v1/evaluations", d.adminKey, map[string]any{}, nil); code != http.StatusAccepted {
		t.Fatalf("evaluate: %d", code)
	}
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	select {
	case err := <-done:
		if ws, ok := first.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("dev ended without being killed: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("dev was not killed at the third delivery")
	}
	startBinary(t, bin, env, base)
	for _, s := range sellers {
		rcv.waitFor(s, []string{"case.opened", "seller.status_changed"})
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	again := 0
	seen := map[string]string{} // (seller, type) → id
	ids := map[string]bool{}
	for _, ev := range rcv.got {
		if ids[ev.ID] {
			again++
			continue
		}
		ids[ev.ID] = true
		k := ev.Seller + " " + ev.Type
		if seen[k] != "" {
			t.Errorf("%s arrived under two ids: %s and %s", k, seen[k], ev.ID)
		}
		seen[k] = ev.ID
	}
	// Those in flight when the process died (the one at the kill point, and any
	// other taken but not yet marked) arrive again, under their own ids.
	if len(ids) != 6 || again < 1 || again > 3 {
		t.Errorf("%d events arrived, %d of them again; want 6, and those in flight at the kill again", len(ids), again)
	}
}
