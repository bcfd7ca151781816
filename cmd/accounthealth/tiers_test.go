package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store/storetest"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// quarterSeller is a seller's orders of one quarter, as the test writes them.
type quarterSeller struct {
	id                        string
	orders, late, negative    int
	fixLate, fixNegative      int // turned good later
	key                       string
	wantTier, wantAfterFix    string
	gapMetric                 string
	wantOrdersToFix           int
	extraNegativeAfterRevoked int
}

// quarterEvents writes n orders of seller placed in the 20 days before end,
// shipped on time with tracking and a scan, delivered; the first `late` shipped
// after their ship-by, the `negative` after those with a 1-star feedback.
func quarterEvents(s quarterSeller, end time.Time, prefix string) []map[string]any {
	var ev []map[string]any
	for i := range s.orders {
		oid := fmt.Sprintf("%s-%s%d", s.id, prefix, i)
		placed := end.Add(-20*24*time.Hour + time.Duration(i)*time.Minute)
		shipped := placed.Add(time.Hour)
		if i < s.late {
			shipped = placed.Add(36 * time.Hour) // ship-by is a day after placing
		}
		ev = append(ev,
			map[string]any{"id": oid + "-p", "type": "order_placed", "at": ts(placed), "seller_id": s.id, "order_id": oid,
				"ship_by": ts(placed.Add(24 * time.Hour)), "deliver_by": ts(placed.Add(5 * 24 * time.Hour))},
			map[string]any{"id": oid + "-s", "type": "order_shipped", "at": ts(shipped), "order_id": oid, "tracking_number": "T" + oid, "carrier": "DHL"},
			map[string]any{"id": oid + "-c", "type": "tracking_scanned", "at": ts(shipped.Add(time.Hour)), "order_id": oid},
			map[string]any{"id": oid + "-d", "type": "order_delivered", "at": ts(placed.Add(3 * 24 * time.Hour)), "order_id": oid})
		if i >= s.late && i < s.late+s.negative {
			ev = append(ev, map[string]any{"id": oid + "-f", "type": "feedback", "at": ts(placed.Add(4 * 24 * time.Hour)), "order_id": oid, "rating": 1})
		}
	}
	return ev
}

type tierResp struct {
	Tier     string  `json:"tier"`
	Quarter  *string `json:"quarter"`
	Criteria []struct {
		Metric string `json:"metric"`
		Met    bool   `json:"met"`
	} `json:"criteria"`
	Next *struct {
		Tier string `json:"tier"`
		Gaps []struct {
			Metric      string `json:"metric"`
			OrdersToFix int    `json:"orders_to_fix"`
		} `json:"gaps"`
	} `json:"next"`
	History []struct {
		Quarter string `json:"quarter"`
		Tier    string `json:"tier"`
	} `json:"history"`
}

type programResp struct {
	Program  string `json:"program"`
	Status   string `json:"status"`
	Criteria []struct {
		Metric string `json:"metric"`
		Met    bool   `json:"met"`
	} `json:"criteria"`
}

func evaluateQuarter(t *testing.T, d *devProcess, quarter string) string {
	t.Helper()
	var started struct {
		ID string `json:"id"`
	}
	if code := call(t, "POST", d.base+"/v1/tier-evaluations", d.adminKey, map[string]string{"quarter": quarter}, &started); code != http.StatusAccepted {
		t.Fatalf("start tier evaluation of %s: %d", quarter, code)
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var e struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		call(t, "GET", d.base+"/v1/tier-evaluations/"+started.ID, d.adminKey, nil, &e)
		switch e.Status {
		case "completed":
			return started.ID
		case "failed":
			t.Fatalf("tier evaluation failed: %s", e.Error)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("tier evaluation of %s did not complete in a minute", quarter)
	return ""
}

// mailsTo counts the mails to addr whose subject holds word.
func mailsTo(t *testing.T, d *devProcess, addr, word string) int {
	n := 0
	for _, m := range mails(t, d.base, d.adminKey) {
		if len(m.To) == 1 && m.To[0] == addr && strings.Contains(m.Subject, word) {
			n++
		}
	}
	return n
}

func waitMailsTo(t *testing.T, d *devProcess, addr, word string, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && mailsTo(t, d, addr, word) < want {
		time.Sleep(100 * time.Millisecond)
	}
	if got := mailsTo(t, d, addr, word); got != want {
		t.Fatalf("%d mails to %s about %q, want %d", got, addr, word, want)
	}
}

// TestTiersAndProgramsEndToEnd runs the real program (dev on PostgreSQL, the
// embedded Temporal server, real SMTP) over HTTP only: sellers with a generated
// quarter of orders land in each tier as the test's own count says, with the gaps
// in orders right (turning that many defective orders into good ones reaches the
// next tier); a quarter evaluated again changes and mails nothing; the quarter
// before, within the introductory period, holds everyone at standard; a program
// invitation is mailed once, accepted, and revoked after a bad quarter.
func TestTiersAndProgramsEndToEnd(t *testing.T) {
	q := health.QuarterOf(time.Now()).Prev()
	before := q.Prev()
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	// The introductory period ends with the quarter before q.
	err := os.WriteFile(policy, []byte(fmt.Sprintf(`evaluation: {sweep_interval: 0s}
tiers:
  intro_until: "%s"
programs:
  business: {title: "Business seller program", window_days: 250, min_orders: 20, criteria: {odr: "< 0.01", late_shipment_rate: "< 0.02"}}
`, before.End().Add(-24*time.Hour).Format("2006-01-02"))), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	d := startDev(t, map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_POLICY_FILE": policy})

	// The built-in levels: premium 100+ orders, ODR <= 0.25%, late <= 1%; advanced
	// 50+, late <= 2%; standard: ODR < 1%, late < 4%; else basic.
	sellers := []*quarterSeller{
		{id: "prem", orders: 120, wantTier: "premium", extraNegativeAfterRevoked: 3},
		{id: "adv", orders: 120, late: 2, fixLate: 1, wantTier: "advanced", wantAfterFix: "premium", gapMetric: "late_shipment_rate", wantOrdersToFix: 1},
		{id: "std", orders: 60, late: 2, wantTier: "standard", gapMetric: "late_shipment_rate", wantOrdersToFix: 1},
		{id: "bas", orders: 30, negative: 3, fixNegative: 3, wantTier: "basic", wantAfterFix: "standard", gapMetric: "odr", wantOrdersToFix: 3},
	}
	var events []map[string]any
	for _, s := range sellers {
		s.key = provisionSeller(t, d.base, d.adminKey, s.id)
		events = append(events, quarterEvents(*s, q.End(), "q")...)
	}
	// A perfect quarter before, inside the introductory period.
	events = append(events, quarterEvents(quarterSeller{id: "prem", orders: 120}, before.End(), "b")...)
	for len(events) > 0 {
		n := min(len(events), 2000)
		if code := call(t, "POST", d.base+"/v1/events", d.adminKey, map[string]any{"events": events[:n]}, nil); code != http.StatusOK {
			t.Fatalf("post events: %d", code)
		}
		events = events[n:]
	}
	tierOf := func(s *quarterSeller) tierResp {
		var tr tierResp
		if code := call(t, "GET", d.base+"/v1/sellers/"+s.id+"/tier", s.key, nil, &tr); code != http.StatusOK {
			t.Fatalf("tier of %s: %d", s.id, code)
		}
		return tr
	}

	// Bad input.
	var e apiError
	for _, bad := range []string{"2026-Q5", "2026-3", health.QuarterOf(time.Now()).String()} {
		if code := call(t, "POST", d.base+"/v1/tier-evaluations", d.adminKey, map[string]string{"quarter": bad}, &e); code != http.StatusBadRequest || e.Error.Fields["quarter"] == "" {
			t.Errorf("quarter %s: %d %+v, want 400 naming quarter", bad, code, e.Error)
		}
	}
	if code := call(t, "POST", d.base+"/v1/tier-evaluations", sellers[0].key, map[string]string{"quarter": q.String()}, nil); code != http.StatusForbidden {
		t.Errorf("a seller starting a tier evaluation: %d, want 403", code)
	}

	// The quarter before: the introductory period holds everyone at standard.
	evaluateQuarter(t, d, before.String())
	for _, s := range sellers {
		if tr := tierOf(s); tr.Tier != "standard" {
			t.Errorf("%s in the introductory quarter: %s, want standard", s.id, tr.Tier)
		}
	}

	// Programs: a sweep invites the sellers meeting every criterion, once.
	first := evaluate(t, d, map[string]any{})
	evaluate(t, d, map[string]any{})
	saveHistory(t, d, "evaluation/"+first.ID, "evaluation_bulk_mail.json")
	if ranOn(t, d, "evaluation/"+first.ID, flow.EvaluationTaskQueue) == 0 {
		t.Errorf("the sweep that invites delivered no batch of mail")
	}
	waitMailsTo(t, d, "prem@example.com", "invited", 1)
	waitMailsTo(t, d, "adv@example.com", "invited", 1) // late 2/120 = 1.7% < 2%
	noMailKeysIn(t, d, "evaluation/"+first.ID, "program/")
	if n := mailsTo(t, d, "std@example.com", "invited") + mailsTo(t, d, "bas@example.com", "invited"); n != 0 {
		t.Errorf("%d invitations to sellers not meeting the criteria", n)
	}
	answer := func(s *quarterSeller, program, verb string) (int, programResp) {
		var pr programResp
		code := call(t, "POST", d.base+"/v1/sellers/"+s.id+"/programs/"+program+"/"+verb, s.key, nil, &pr)
		return code, pr
	}
	if code, pr := answer(sellers[0], "business", "accept"); code != http.StatusOK || pr.Status != "accepted" {
		t.Errorf("accept: %d %+v", code, pr)
	}
	if code, _ := answer(sellers[0], "business", "accept"); code != http.StatusConflict {
		t.Errorf("accept twice: %d, want 409", code)
	}
	if code, pr := answer(sellers[1], "business", "decline"); code != http.StatusOK || pr.Status != "declined" {
		t.Errorf("decline: %d %+v", code, pr)
	}
	if code, _ := answer(sellers[2], "business", "accept"); code != http.StatusConflict {
		t.Errorf("accept without an invitation: %d, want 409", code)
	}
	if code, _ := answer(sellers[0], "exporters", "accept"); code != http.StatusNotFound {
		t.Errorf("an unknown program: %d, want 404", code)
	}
	if code := call(t, "POST", d.base+"/v1/sellers/prem/programs/business/decline", sellers[3].key, nil, nil); code != http.StatusNotFound {
		t.Errorf("another seller answering: %d, want 404", code)
	}

	// The quarter: every seller in the tier the test's own count says, with the gaps.
	evaluateQuarter(t, d, q.String())
	for _, s := range sellers {
		tr := tierOf(s)
		if tr.Tier != s.wantTier || tr.Quarter == nil || *tr.Quarter != q.String() {
			t.Errorf("%s: tier %s of %v, want %s of %s", s.id, tr.Tier, tr.Quarter, s.wantTier, q)
			continue
		}
		if s.gapMetric == "" {
			continue
		}
		found := false
		for _, g := range tr.Next.Gaps {
			if g.Metric == s.gapMetric {
				found = true
				if g.OrdersToFix != s.wantOrdersToFix {
					t.Errorf("%s: %d %s orders to fix, want %d", s.id, g.OrdersToFix, g.Metric, s.wantOrdersToFix)
				}
			}
		}
		if !found {
			t.Errorf("%s: no %s gap in %+v", s.id, s.gapMetric, tr.Next)
		}
	}
	if h := tierOf(sellers[0]).History; len(h) != 2 || h[0].Tier != "premium" || h[1].Tier != "standard" {
		t.Errorf("prem's history %+v, want premium then standard", h)
	}
	waitMailsTo(t, d, "prem@example.com", "performance tier", 1)
	waitMailsTo(t, d, "adv@example.com", "performance tier", 1)
	waitMailsTo(t, d, "bas@example.com", "performance tier", 1)
	if n := mailsTo(t, d, "std@example.com", "performance tier"); n != 0 {
		t.Errorf("%d tier mails to a seller whose tier did not change", n)
	}
	// Again: the same tiers, no second mail.
	evaluateQuarter(t, d, q.String())
	for _, s := range sellers {
		if tr := tierOf(s); tr.Tier != s.wantTier {
			t.Errorf("%s evaluated again: %s, want %s", s.id, tr.Tier, s.wantTier)
		}
	}
	time.Sleep(2 * time.Second) // a second mail, if any, would be on its way
	for _, s := range sellers {
		want := 1
		if s.id == "std" {
			want = 0
		}
		if n := mailsTo(t, d, s.id+"@example.com", "performance tier"); n != want {
			t.Errorf("%s after evaluating again: %d tier mails, want %d", s.id, n, want)
		}
	}

	// Turn as many defective orders good as the gaps said; make prem's quarter bad.
	var fixes []map[string]any
	for _, s := range sellers {
		for i := range s.fixLate { // an earlier shipment, on time: the first shipment counts
			oid := fmt.Sprintf("%s-q%d", s.id, i)
			placed := q.End().Add(-20*24*time.Hour + time.Duration(i)*time.Minute)
			fixes = append(fixes, map[string]any{"id": oid + "-s0", "type": "order_shipped", "at": ts(placed.Add(2 * time.Hour)), "order_id": oid, "tracking_number": "T" + oid, "carrier": "DHL"})
		}
		for i := s.late; i < s.late+s.fixNegative; i++ { // the feedback revised to 5 stars, within the quarter
			oid := fmt.Sprintf("%s-q%d", s.id, i)
			placed := q.End().Add(-20*24*time.Hour + time.Duration(i)*time.Minute)
			fixes = append(fixes, map[string]any{"id": oid + "-f5", "type": "feedback", "at": ts(placed.Add(5 * 24 * time.Hour)), "order_id": oid, "rating": 5})
		}
		for i := range s.extraNegativeAfterRevoked {
			oid := fmt.Sprintf("%s-q%d", s.id, 100+i)
			placed := q.End().Add(-20*24*time.Hour + time.Duration(100+i)*time.Minute)
			fixes = append(fixes, map[string]any{"id": oid + "-fneg", "type": "feedback", "at": ts(placed.Add(4 * 24 * time.Hour)), "order_id": oid, "rating": 2})
		}
	}
	if code := call(t, "POST", d.base+"/v1/events", d.adminKey, map[string]any{"events": fixes}, nil); code != http.StatusOK {
		t.Fatalf("post fixes: %d", code)
	}
	fixed := "tier-evaluation/" + evaluateQuarter(t, d, q.String())
	saveHistory(t, d, fixed, "tier_evaluation_bulk_mail.json")
	ranOn(t, d, fixed, flow.EvaluationTaskQueue)
	for _, s := range sellers {
		want := s.wantTier
		switch {
		case s.wantAfterFix != "":
			want = s.wantAfterFix
		case s.id == "prem":
			want = "basic" // ODR 3/120 = 2.5%
		}
		if tr := tierOf(s); tr.Tier != want {
			t.Errorf("%s after the fixes: %s, want %s", s.id, tr.Tier, want)
		}
	}
	waitMailsTo(t, d, "adv@example.com", "performance tier", 2)
	waitMailsTo(t, d, "bas@example.com", "performance tier", 2)
	waitMailsTo(t, d, "prem@example.com", "membership", 1)
	noMailKeysIn(t, d, fixed, "tier/", "program/")
	var progs struct {
		Programs []programResp `json:"programs"`
	}
	call(t, "GET", d.base+"/v1/sellers/prem/programs", sellers[0].key, nil, &progs)
	if len(progs.Programs) != 1 || progs.Programs[0].Status != "revoked" {
		t.Errorf("prem's programs after a bad quarter: %+v", progs.Programs)
	}
	for _, m := range mails(t, d.base, d.adminKey) {
		if strings.Contains(m.Subject, "membership") && !strings.Contains(m.Text, "Order Defect Rate: 1.25% (3 of 240)") {
			t.Errorf("the revocation does not name the criterion missed:\n%s", m.Text)
		}
	}
}
