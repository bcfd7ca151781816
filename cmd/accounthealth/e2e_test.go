package main

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/accounthealth/accounthealth/store/storetest"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// An order as the test generates it: the truth its events are made from.
type genOrder struct {
	id, seller                  string
	placed, shipBy, deliverBy   time.Time
	shipped, scanned, delivered *time.Time
	tracking                    string
	cancelled                   *time.Time
	cancelledBy                 string
	feedback                    int // latest rating, 0 for none
	claimOutcome                string
	chargeback                  bool
	returned                    bool // a return event was sent (delivered or not)
	sellerRefund                bool // refunded by the seller (perhaps also by the marketplace)
}

type genMessage struct {
	id, seller    string
	received      time.Time
	needsResponse bool
	responded     *time.Time
}

type world struct {
	orders   []genOrder
	messages []genMessage
	events   []map[string]any
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func sorted(ids []string) []string { return slices.Sorted(slices.Values(ids)) }

// generate makes a seller's orders and messages over the last 75 days, with rates
// of trouble that differ per seller, and the events that tell them, shuffled
// within each order's follow-ups so that arrival order differs from time order.
func (w *world) generate(r *rand.Rand, seller string, nOrders int, trouble float64, now time.Time) {
	at := func(base time.Time, max time.Duration) time.Time {
		return base.Add(time.Duration(r.Int64N(int64(max)))).Truncate(time.Second)
	}
	before := func(t time.Time) *time.Time {
		if t.Before(now) {
			return &t
		}
		return nil
	}
	ev := func(typ string, t time.Time, f map[string]any) {
		f["id"] = fmt.Sprintf("ev-%d", len(w.events))
		f["type"] = typ
		f["at"] = ts(t)
		w.events = append(w.events, f)
	}
	for i := range nOrders {
		o := genOrder{id: fmt.Sprintf("%s-o%d", seller, i), seller: seller}
		o.placed = at(now.Add(-75*24*time.Hour), 75*24*time.Hour)
		o.shipBy = o.placed.Add(time.Duration(24+r.IntN(24)) * time.Hour)
		o.deliverBy = o.shipBy.Add(time.Duration(3+r.IntN(3)) * 24 * time.Hour)
		ev("order_placed", o.placed, map[string]any{"seller_id": seller, "order_id": o.id, "ship_by": ts(o.shipBy), "deliver_by": ts(o.deliverBy)})
		var follow []func()
		if r.Float64() < trouble/2 {
			c := at(o.placed, 30*time.Hour)
			if o.cancelled = before(c); o.cancelled != nil {
				o.cancelledBy = []string{"seller", "buyer", "expired"}[r.IntN(3)]
				follow = append(follow, func() { ev("order_cancelled", c, map[string]any{"order_id": o.id, "by": o.cancelledBy}) })
			}
		}
		if o.cancelled == nil && r.Float64() < 0.97 {
			delay := time.Duration(r.Int64N(int64(30 * time.Hour)))
			if r.Float64() < trouble {
				delay += 48 * time.Hour // late
			}
			if s := before(o.placed.Add(delay).Truncate(time.Second)); s != nil {
				o.shipped = s
				if r.Float64() > trouble {
					o.tracking = "TRK" + o.id
				}
				follow = append(follow, func() {
					ev("order_shipped", *s, map[string]any{"order_id": o.id, "tracking_number": o.tracking, "carrier": "UPS"})
				})
				if r.Float64() > trouble {
					if sc := before(s.Add(6 * time.Hour)); sc != nil {
						o.scanned = sc
						follow = append(follow, func() { ev("tracking_scanned", *sc, map[string]any{"order_id": o.id}) })
						d := sc.Add(time.Duration(24+r.IntN(24*6)) * time.Hour)
						if dd := before(d); dd != nil {
							o.delivered = dd
							follow = append(follow, func() { ev("order_delivered", *dd, map[string]any{"order_id": o.id}) })
						}
					}
				}
			}
		}
		// A rating: negative (1 or 2) as often as the seller's trouble, else 3 to 5.
		rating := func() int {
			if r.Float64() < trouble {
				return 1 + r.IntN(2)
			}
			return 3 + r.IntN(3)
		}
		if r.Float64() < 0.15 {
			first := rating()
			f1 := at(o.placed, 24*time.Hour)
			o.feedback = first
			follow = append(follow, func() { ev("feedback", f1, map[string]any{"order_id": o.id, "rating": first}) })
			if r.Float64() < 0.3 { // revised later (1 to 5, 5 to 1, …)
				second := rating()
				o.feedback = second
				follow = append(follow, func() { ev("feedback", f1.Add(time.Hour), map[string]any{"order_id": o.id, "rating": second}) })
			}
		}
		if r.Float64() < trouble/3 {
			c1 := at(o.placed, 24*time.Hour)
			o.claimOutcome = "open"
			follow = append(follow, func() { ev("a_to_z_claim", c1, map[string]any{"order_id": o.id, "outcome": "open"}) })
			if r.Float64() < 0.5 {
				o.claimOutcome = []string{"granted", "denied"}[r.IntN(2)]
				out := o.claimOutcome
				follow = append(follow, func() { ev("a_to_z_claim", c1.Add(2*time.Hour), map[string]any{"order_id": o.id, "outcome": out}) })
			}
		}
		if r.Float64() < trouble/10 {
			o.chargeback = true
			cb := at(o.placed, 24*time.Hour)
			follow = append(follow, func() { ev("chargeback", cb, map[string]any{"order_id": o.id}) })
		}
		// Returns: of delivered orders as often as the trouble; now and then of an
		// order still on its way, which counts nowhere.
		if o.delivered != nil && r.Float64() < trouble || o.shipped != nil && o.delivered == nil && r.Float64() < 0.1 {
			from := *o.shipped
			if o.delivered != nil {
				from = *o.delivered
			}
			if rt := before(at(from, 5*24*time.Hour)); rt != nil {
				o.returned = true
				follow = append(follow, func() { ev("order_returned", *rt, map[string]any{"order_id": o.id}) })
			}
		}
		// Refunds: the seller's as often as a third of the trouble, the marketplace's
		// (never counted) on 5% of orders, some orders both.
		if r.Float64() < trouble/3 {
			if rf := before(at(o.placed, 10*24*time.Hour)); rf != nil {
				o.sellerRefund = true
				follow = append(follow, func() { ev("refund_issued", *rf, map[string]any{"order_id": o.id, "by": "seller"}) })
			}
		}
		if r.Float64() < 0.05 {
			if rf := before(at(o.placed, 10*24*time.Hour)); rf != nil {
				follow = append(follow, func() { ev("refund_issued", *rf, map[string]any{"order_id": o.id, "by": "marketplace"}) })
			}
		}
		r.Shuffle(len(follow), func(i, j int) { follow[i], follow[j] = follow[j], follow[i] })
		for _, f := range follow {
			f()
		}
		w.orders = append(w.orders, o)
	}
	for i := range nOrders / 5 {
		m := genMessage{id: fmt.Sprintf("%s-m%d", seller, i), seller: seller, needsResponse: r.Float64() < 0.8}
		m.received = at(now.Add(-35*24*time.Hour), 35*24*time.Hour)
		ev("buyer_message", m.received, map[string]any{"seller_id": seller, "message_id": m.id, "needs_response": m.needsResponse})
		if r.Float64() < 0.9 {
			rt := m.received.Add(time.Duration(r.Int64N(int64(24*time.Hour) + int64(trouble*float64(48*time.Hour))))).Truncate(time.Second)
			if m.responded = before(rt); m.responded != nil {
				ev("message_response", rt, map[string]any{"message_id": m.id})
			}
		}
		w.messages = append(w.messages, m)
	}
}

// counts are one metric's: the numerator's ids and the ids counted but not in
// it (what an "at least" metric cites when bad).
type counts struct {
	num, den    int64
	ids, failed []string
}

// seen is what the test knows of a seller beside its metrics.
type seen struct {
	expired int64 // orders of the last 30 days that expired unconfirmed
	parts   map[string]int64
}

// expected counts every metric of seller at now straight from the metric rules the README states,
// written without looking at the SQL.
func (w *world) expected(seller string, now time.Time) (map[string]*counts, seen) {
	in := func(t time.Time, days int) bool {
		return !t.Before(now.Add(-time.Duration(days)*24*time.Hour)) && t.Before(now)
	}
	out := map[string]*counts{}
	add := func(m string, num bool, id string) {
		c := out[m]
		if c == nil {
			c = &counts{}
			out[m] = c
		}
		c.den++
		if num {
			c.num++
			c.ids = append(c.ids, id)
		} else {
			c.failed = append(c.failed, id)
		}
	}
	other := seen{parts: map[string]int64{}}
	for _, o := range w.orders {
		if o.seller != seller {
			continue
		}
		negative := o.feedback == 1 || o.feedback == 2
		claim := o.claimOutcome != "" && o.claimOutcome != "denied"
		cancelledBeforeShip := o.cancelled != nil && (o.shipped == nil || o.cancelled.Before(*o.shipped))
		if in(o.placed, 60) {
			add("odr", negative || claim || o.chargeback, o.id)
			for part, has := range map[string]bool{"negative_feedback": negative, "a_to_z_claims": claim, "chargebacks": o.chargeback} {
				if has {
					other.parts[part]++
				}
			}
		}
		if in(o.placed, 7) { // an expired order is the seller's cancellation
			add("cancel_rate", cancelledBeforeShip && (o.cancelledBy == "seller" || o.cancelledBy == "expired"), o.id)
		}
		if in(o.placed, 30) && cancelledBeforeShip && o.cancelledBy == "expired" {
			other.expired++
		}
		if in(o.shipBy, 30) && !cancelledBeforeShip {
			add("late_shipment_rate", o.shipped == nil || o.shipped.After(o.shipBy), o.id)
		}
		if o.shipped != nil && in(*o.shipped, 30) {
			add("valid_tracking_rate", o.tracking != "" && o.scanned != nil, o.id)
		}
		if o.scanned != nil && in(o.deliverBy, 30) {
			add("on_time_delivery_rate", o.delivered != nil && !o.delivered.After(o.deliverBy), o.id)
		}
		if o.delivered != nil && in(*o.delivered, 30) {
			add("return_rate", o.returned, o.id)
		}
		if in(o.placed, 30) {
			add("refund_rate", o.sellerRefund, o.id)
		}
		if in(o.placed, 90) && o.feedback != 0 {
			add("negative_feedback_rate", negative, o.id)
		}
	}
	for _, m := range w.messages {
		if m.seller != seller || !m.needsResponse {
			continue
		}
		if !m.received.Before(now.Add(-30*24*time.Hour)) && m.received.Before(now.Add(-24*time.Hour)) {
			add("response_rate", m.responded != nil && !m.responded.After(m.received.Add(24*time.Hour)), m.id)
		}
	}
	return out, other
}

type healthResp struct {
	SellerID string `json:"seller_id"`
	Status   string `json:"status"`
	Rating   struct {
		Score int    `json:"score"`
		Band  string `json:"band"`
	} `json:"rating"`
	Metrics []struct {
		Metric      string   `json:"metric"`
		Numerator   int64    `json:"numerator"`
		Denominator int64    `json:"denominator"`
		Value       *float64 `json:"value"`
		Status      string   `json:"status"`
		WindowDays  int      `json:"window_days"`
		Target      struct {
			Op    string  `json:"op"`
			Value float64 `json:"value"`
		} `json:"target"`
		Parts    map[string]int64 `json:"parts"`
		Evidence *struct {
			OrderIDs   []string `json:"order_ids"`
			MessageIDs []string `json:"message_ids"`
		} `json:"evidence"`
	} `json:"metrics"`
	EvaluatedAt   *time.Time `json:"evaluated_at"`
	ExpiredOrders *int64     `json:"expired_orders"`
}

type evaluation struct {
	ID               string     `json:"id"`
	Status           string     `json:"status"`
	SellersEvaluated int        `json:"sellers_evaluated"`
	Breaches         int        `json:"breaches"`
	AsOf             *time.Time `json:"as_of"`
}

func evaluate(t *testing.T, d *devProcess, body any) evaluation {
	t.Helper()
	var started evaluation
	if code := call(t, "POST", d.base+"/v1/evaluations", d.adminKey, body, &started); code != http.StatusAccepted {
		t.Fatalf("start evaluation: %d", code)
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var e evaluation
		call(t, "GET", d.base+"/v1/evaluations/"+started.ID, d.adminKey, nil, &e)
		switch e.Status {
		case "completed":
			return e
		case "failed":
			t.Fatalf("evaluation failed: %+v", e)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("evaluation %s did not complete in a minute", started.ID)
	return evaluation{}
}

// TestEndToEnd drives the real program (dev, on real Postgres, a real embedded
// Temporal server and real SMTP) over HTTP only.
func TestEndToEnd(t *testing.T) {
	dbURL := storetest.NewPostgresURL(t)
	d := startDev(t, map[string]string{"AH_DATABASE_URL": dbURL})
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := func() (n int) {
		if err := db.QueryRow(`SELECT (SELECT COUNT(*) FROM processed_events) + (SELECT COUNT(*) FROM orders) + (SELECT COUNT(*) FROM buyer_messages)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Provisioning.
	sellers := []string{"acme", "bolt", "cress", "dune"}
	trouble := []float64{0.01, 0.08, 0.2, 0.4}
	keys := map[string]string{}
	for _, s := range sellers {
		var resp struct {
			Seller struct{ ID, Email string } `json:"seller"`
			APIKey string                     `json:"api_key"`
		}
		if code := call(t, "POST", d.base+"/v1/sellers", d.adminKey, map[string]string{"id": s, "name": "Shop " + s, "email": s + "@example.com"}, &resp); code != http.StatusCreated {
			t.Fatalf("create seller %s: %d", s, code)
		}
		if resp.Seller.ID != s || resp.APIKey == "" {
			t.Fatalf("create seller: %+v", resp)
		}
		keys[s] = resp.APIKey
	}
	var stored string
	if err := db.QueryRow(`SELECT key_hash FROM api_keys WHERE seller_id = 'acme'`).Scan(&stored); err != nil || strings.Contains(stored, keys["acme"]) || len(stored) != 64 {
		t.Errorf("the stored key is %q (%v): want only a SHA-256 hex digest", stored, err)
	}
	var apiErr apiError
	if code := call(t, "POST", d.base+"/v1/sellers", d.adminKey, map[string]string{"id": "acme", "name": "Again", "email": "a@example.com"}, &apiErr); code != http.StatusConflict {
		t.Errorf("duplicate seller: %d, want 409", code)
	}
	var rev struct {
		Reviewer struct{ ID string } `json:"reviewer"`
		APIKey   string              `json:"api_key"`
	}
	if code := call(t, "POST", d.base+"/v1/reviewers", d.adminKey, map[string]string{"name": "Rita", "email": "rita@example.com"}, &rev); code != http.StatusCreated || rev.Reviewer.ID == "" {
		t.Fatalf("create reviewer: %d %+v", code, rev)
	}

	// Events: a few thousand, in batches.
	now := time.Now().UTC()
	r := rand.New(rand.NewPCG(7, 11))
	w := &world{}
	for i, s := range sellers {
		w.generate(r, s, 350, trouble[i], now)
	}
	if len(w.events) < 2000 {
		t.Fatalf("generated only %d events", len(w.events))
	}
	accepted := 0
	for from := 0; from < len(w.events); from += 1000 {
		batch := w.events[from:min(from+1000, len(w.events))]
		var res struct{ Accepted, Duplicates int }
		if code := call(t, "POST", d.base+"/v1/events", d.adminKey, map[string]any{"events": batch}, &res); code != http.StatusOK {
			t.Fatalf("post events: %d", code)
		}
		accepted += res.Accepted
	}
	if accepted != len(w.events) {
		t.Errorf("accepted %d of %d events", accepted, len(w.events))
	}
	var dup struct{ Accepted, Duplicates int }
	call(t, "POST", d.base+"/v1/events", d.adminKey, map[string]any{"events": w.events[:500]}, &dup)
	if dup.Accepted != 0 || dup.Duplicates != 500 {
		t.Errorf("a repeated batch: %+v, want 0 accepted and 500 duplicates", dup)
	}

	t.Run("a bad event rejects the whole batch and stores nothing", func(t *testing.T) {
		good := func(id string) map[string]any {
			return map[string]any{"id": id, "type": "order_placed", "at": ts(now.Add(-time.Hour)), "seller_id": "acme", "order_id": "new-" + id,
				"ship_by": ts(now.Add(time.Hour)), "deliver_by": ts(now.Add(48 * time.Hour))}
		}
		for _, c := range []struct {
			name  string
			bad   map[string]any
			field string
		}{
			{"unknown type", map[string]any{"id": "b1", "type": "order_teleported", "at": ts(now)}, "events[1].type"},
			{"missing field", map[string]any{"id": "b2", "type": "order_shipped", "at": ts(now)}, "events[1].order_id"},
			{"rating out of range", map[string]any{"id": "b3", "type": "feedback", "at": ts(now), "order_id": "acme-o1", "rating": 6}, "events[1].rating"},
			{"not RFC 3339", map[string]any{"id": "b4", "type": "chargeback", "at": "22/11/2026 10:00", "order_id": "acme-o1"}, "events[1].at"},
			{"an order nobody placed", map[string]any{"id": "b5", "type": "chargeback", "at": ts(now), "order_id": "nobody"}, "events[1].order_id"},
			{"an unknown seller", map[string]any{"id": "b6", "type": "buyer_message", "at": ts(now), "seller_id": "ghost", "message_id": "mm", "needs_response": true}, "events[1].seller_id"},
			{"a refund by expired", map[string]any{"id": "b7", "type": "refund_issued", "at": ts(now), "order_id": "acme-o1", "by": "expired"}, "events[1].by"},
			{"an unknown canceller", map[string]any{"id": "b8", "type": "order_cancelled", "at": ts(now), "order_id": "acme-o1", "by": "courier"}, "events[1].by"},
			{"a refund by nobody", map[string]any{"id": "b9", "type": "refund_issued", "at": ts(now), "order_id": "acme-o1"}, "events[1].by"},
			{"a return of an order nobody placed", map[string]any{"id": "b10", "type": "order_returned", "at": ts(now), "order_id": "nobody"}, "events[1].order_id"},
		} {
			before := rows()
			var e apiError
			code := call(t, "POST", d.base+"/v1/events", d.adminKey, map[string]any{"events": []any{good("g-" + c.name), c.bad, good("h-" + c.name)}}, &e)
			if code != http.StatusBadRequest || e.Error.Code != "validation_failed" || e.Error.Fields[c.field] == "" {
				t.Errorf("%s: %d %+v, want 400 naming %s", c.name, code, e.Error, c.field)
			}
			if after := rows(); after != before {
				t.Errorf("%s: %d rows before, %d after: a rejected batch stored something", c.name, before, after)
			}
		}
		var e apiError
		if code := call(t, "POST", d.base+"/v1/events", d.adminKey, `{"events": [`, &e); code != http.StatusBadRequest {
			t.Errorf("malformed JSON: %d", code)
		}
		big := `{"events":[` + strings.Repeat(`{"id":"x","type":"chargeback","at":"2026-01-01T00:00:00Z","order_id":"x"},`, 1_000_000) + `{}]}`
		if code := call(t, "POST", d.base+"/v1/events", d.adminKey, big, &e); code != http.StatusRequestEntityTooLarge || e.Error.Code != "too_large" {
			t.Errorf("a 70 MB batch: %d %+v, want 413", code, e.Error)
		}
		if code := call(t, "POST", d.base+"/v1/sellers", d.adminKey, `{"id":"x","name":"`+strings.Repeat("n", 2<<20)+`"}`, &e); code != http.StatusRequestEntityTooLarge {
			t.Errorf("a 2 MB seller: %d, want 413", code)
		}
		if code := call(t, "POST", d.base+"/v1/sellers", d.adminKey, map[string]string{"id": "bad id!", "name": "", "email": "nope"}, &e); code != http.StatusBadRequest ||
			e.Error.Fields["id"] == "" || e.Error.Fields["name"] == "" || e.Error.Fields["email"] == "" {
			t.Errorf("bad seller: %d %+v, want 400 naming id, name and email", code, e.Error)
		}
	})

	// Evaluation, and every metric checked against the test's own count.
	ev := evaluate(t, d, map[string]any{})
	if ev.SellersEvaluated != len(sellers) || ev.AsOf == nil {
		t.Fatalf("evaluation: %+v", ev)
	}
	saveHistory(t, d, "evaluation/"+ev.ID, "evaluation.json")
	ranOn(t, d, "evaluation/"+ev.ID, flow.EvaluationTaskQueue)
	breaches := 0
	for _, s := range sellers {
		var h healthResp
		if code := call(t, "GET", d.base+"/v1/sellers/"+s+"/health", keys[s], nil, &h); code != http.StatusOK {
			t.Fatalf("health of %s: %d", s, code)
		}
		want, other := w.expected(s, *ev.AsOf)
		if len(h.Metrics) != 9 || h.EvaluatedAt == nil || !h.EvaluatedAt.Equal(*ev.AsOf) {
			t.Errorf("%s: %d metrics evaluated at %v, want 9 at %v", s, len(h.Metrics), h.EvaluatedAt, ev.AsOf)
		}
		if h.ExpiredOrders == nil || *h.ExpiredOrders != other.expired {
			t.Errorf("%s: expired_orders %v, the test counts %d", s, h.ExpiredOrders, other.expired)
		}
		for _, m := range h.Metrics {
			c := want[m.Metric]
			if c == nil {
				c = &counts{}
			}
			if m.Numerator != c.num || m.Denominator != c.den {
				t.Errorf("%s %s = %d/%d, the test counts %d/%d", s, m.Metric, m.Numerator, m.Denominator, c.num, c.den)
			}
			if m.Metric == "odr" && !reflect.DeepEqual(m.Parts, map[string]int64{"negative_feedback": other.parts["negative_feedback"],
				"a_to_z_claims": other.parts["a_to_z_claims"], "chargebacks": other.parts["chargebacks"]}) {
				t.Errorf("%s odr parts %v, the test counts %v", s, m.Parts, other.parts)
			}
			if m.Metric != "odr" && m.Parts != nil {
				t.Errorf("%s %s has parts %v", s, m.Metric, m.Parts)
			}
			// A bad metric cites the orders (messages) behind it: the numerator's for
			// an "at most" target, the failures for an "at least" one.
			if m.Status != "bad" {
				if m.Evidence != nil {
					t.Errorf("%s %s is %s but cites %+v", s, m.Metric, m.Status, m.Evidence)
				}
				continue
			}
			breaches++
			cited := c.ids
			if strings.HasPrefix(m.Target.Op, ">") {
				cited = c.failed
			}
			var got []string
			switch {
			case m.Evidence == nil:
				t.Errorf("%s %s is bad but cites nothing", s, m.Metric)
				continue
			case m.Metric == "response_rate":
				got = m.Evidence.MessageIDs
				if m.Evidence.OrderIDs == nil || len(m.Evidence.OrderIDs) != 0 {
					t.Errorf("%s response_rate cites orders %v, want []", s, m.Evidence.OrderIDs)
				}
			default:
				got = m.Evidence.OrderIDs
			}
			if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(cited)) {
				t.Errorf("%s %s cites %d ids %v, the test counts %d: %v", s, m.Metric, len(got), got, len(cited), cited)
			}
		}
		t.Logf("%s: expired %d, odr parts %v", s, other.expired, other.parts)
		for _, m := range h.Metrics {
			t.Logf("%s %s %d/%d %s", s, m.Metric, m.Numerator, m.Denominator, m.Status)
		}
	}
	if breaches != ev.Breaches || breaches == 0 {
		t.Errorf("%d metrics bad in health, evaluation counted %d (want equal and above 0)", breaches, ev.Breaches)
	}

	t.Run("ownership and roles", func(t *testing.T) {
		var e apiError
		for _, c := range []struct {
			method, path, key string
			body              any
			want              int
		}{
			{"GET", "/v1/sellers/bolt/health", keys["acme"], nil, http.StatusNotFound},
			{"GET", "/v1/sellers/acme/health", keys["acme"], nil, http.StatusOK},
			{"GET", "/v1/sellers/acme/health", rev.APIKey, nil, http.StatusOK},
			{"GET", "/v1/sellers/acme/health", "", nil, http.StatusUnauthorized},
			{"GET", "/v1/sellers/acme/health", "not-a-key", nil, http.StatusUnauthorized},
			{"GET", "/v1/sellers/nobody/health", d.adminKey, nil, http.StatusNotFound},
			{"POST", "/v1/events", keys["acme"], map[string]any{"events": []any{}}, http.StatusForbidden},
			{"POST", "/v1/sellers", rev.APIKey, map[string]string{"id": "z", "name": "z", "email": "z@example.com"}, http.StatusForbidden},
			{"POST", "/v1/evaluations", keys["acme"], map[string]any{}, http.StatusForbidden},
			{"GET", "/v1/evaluations/" + ev.ID, rev.APIKey, nil, http.StatusForbidden},
			{"GET", "/dev/mail", keys["acme"], nil, http.StatusForbidden},
		} {
			if code := call(t, c.method, d.base+c.path, c.key, c.body, &e); code != c.want {
				t.Errorf("%s %s as %q: %d, want %d", c.method, c.path, c.key, code, c.want)
			}
		}
	})

	t.Run("evaluating named sellers", func(t *testing.T) {
		var e apiError
		if code := call(t, "POST", d.base+"/v1/evaluations", d.adminKey, map[string]any{"seller_ids": []string{"acme", "ghost"}}, &e); code != http.StatusBadRequest || e.Error.Fields["seller_ids[1]"] == "" {
			t.Errorf("unknown seller in the list: %d %+v", code, e.Error)
		}
		one := evaluate(t, d, map[string]any{"seller_ids": []string{"bolt"}})
		if one.SellersEvaluated != 1 {
			t.Errorf("evaluated %d sellers, want 1", one.SellersEvaluated)
		}
	})
}
