package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/store/storetest"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

type mailMsg struct {
	ID      string   `json:"id"`
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	HTML    string   `json:"html"`
}

type caseResp struct {
	ID          string `json:"id"`
	SellerID    string `json:"seller_id"`
	Kind        string `json:"kind"`
	Metric      string `json:"metric"`
	State       string `json:"state"`
	Enforcement string `json:"enforcement"`
	Deadline    *time.Time
	Evidence    struct {
		Numerator   int64    `json:"numerator"`
		Denominator int64    `json:"denominator"`
		OrderIDs    []string `json:"order_ids"`
	} `json:"evidence"`
	Appeals  []appealResp `json:"appeals"`
	Timeline []struct {
		At     time.Time      `json:"at"`
		Type   string         `json:"type"`
		Actor  string         `json:"actor"`
		Detail map[string]any `json:"detail"`
	} `json:"timeline"`
}

type appealResp struct {
	ID         string  `json:"id"`
	CaseID     string  `json:"case_id"`
	Status     string  `json:"status"`
	ReasonCode *string `json:"reason_code"`
	Message    *string `json:"message"`
}

func writePolicy(t *testing.T, grace string) string { return writePolicyWithSweep(t, grace, "0s") }

func writePolicyWithSweep(t *testing.T, grace, sweep string) string {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	policy := fmt.Sprintf("cases:\n  warning_grace: %s\n  appeal_window: 120s\n  review_sla: 60s\n  info_response_window: 60s\n  max_appeals: 3\nevaluation:\n  sweep_interval: %s\n", grace, sweep)
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// breachEvents are 20 orders of seller, 5 of them with negative feedback: an ODR
// of 25%, while every other metric is on target or has too few to count.
func breachEvents(seller string, now time.Time) []map[string]any {
	var ev []map[string]any
	for i := range 20 {
		oid := fmt.Sprintf("%s-o%d", seller, i)
		placed := now.Add(-5 * 24 * time.Hour)
		ev = append(ev,
			map[string]any{"id": oid + "-p", "type": "order_placed", "at": ts(placed), "seller_id": seller, "order_id": oid,
				"ship_by": ts(placed.Add(24 * time.Hour)), "deliver_by": ts(placed.Add(4 * 24 * time.Hour))},
			map[string]any{"id": oid + "-s", "type": "order_shipped", "at": ts(placed.Add(time.Hour)), "order_id": oid, "tracking_number": "T" + oid, "carrier": "DHL"},
			map[string]any{"id": oid + "-c", "type": "tracking_scanned", "at": ts(placed.Add(2 * time.Hour)), "order_id": oid},
			map[string]any{"id": oid + "-d", "type": "order_delivered", "at": ts(placed.Add(2 * 24 * time.Hour)), "order_id": oid})
		if i < 5 {
			ev = append(ev, map[string]any{"id": oid + "-f", "type": "feedback", "at": ts(placed.Add(3 * 24 * time.Hour)), "order_id": oid, "rating": 1})
		}
	}
	return ev
}

func mails(t *testing.T, base, admin string) []mailMsg {
	var out struct {
		Messages []mailMsg `json:"messages"`
	}
	if code := call(t, "GET", base+"/dev/mail", admin, nil, &out); code != http.StatusOK {
		t.Fatalf("GET /dev/mail: %d", code)
	}
	return out.Messages
}

// waitMail waits for the mail about caseID whose subject contains word, and checks
// what every seller-facing message must carry.
func waitMail(t *testing.T, base, admin, caseID, word, to string) mailMsg {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range mails(t, base, admin) {
			if strings.Contains(m.Subject, caseID) && strings.Contains(m.Subject, word) {
				if len(m.To) != 1 || m.To[0] != to || m.Text == "" || m.HTML == "" || !strings.Contains(m.HTML, "<html") {
					t.Errorf("mail %q: to %v, %d bytes text, %d bytes html", m.Subject, m.To, len(m.Text), len(m.HTML))
				}
				return m
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no mail about %s with %q in its subject; have %v", caseID, word, subjects(mails(t, base, admin)))
	return mailMsg{}
}

func subjects(ms []mailMsg) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Subject)
	}
	return s
}

func waitState(t *testing.T, base, key, caseID, state string) caseResp {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var c caseResp
	for time.Now().Before(deadline) {
		call(t, "GET", base+"/v1/cases/"+caseID, key, nil, &c)
		if c.State == state {
			return c
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("case %s is %s, want %s", caseID, c.State, state)
	return c
}

func provisionSeller(t *testing.T, base, admin, id string) string {
	t.Helper()
	var resp struct {
		APIKey string `json:"api_key"`
	}
	if code := call(t, "POST", base+"/v1/sellers", admin, map[string]string{"id": id, "name": "Shop " + id, "email": id + "@example.com"}, &resp); code != http.StatusCreated {
		t.Fatalf("create seller %s: %d", id, code)
	}
	return resp.APIKey
}

func openCase(t *testing.T, d *devProcess, seller, key string) caseResp {
	t.Helper()
	if code := call(t, "POST", d.base+"/v1/events", d.adminKey, map[string]any{"events": breachEvents(seller, time.Now().UTC())}, nil); code != http.StatusOK {
		t.Fatalf("post events: %d", code)
	}
	if ev := evaluate(t, d, map[string]any{"seller_ids": []string{seller}}); ev.Breaches != 1 {
		t.Fatalf("evaluation found %d breaches, want 1 (odr)", ev.Breaches)
	}
	var list struct {
		Cases []caseResp `json:"cases"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && len(list.Cases) == 0 {
		call(t, "GET", d.base+"/v1/cases?seller_id="+seller, key, nil, &list)
		time.Sleep(100 * time.Millisecond)
	}
	if len(list.Cases) != 1 || list.Cases[0].Metric != "odr" {
		t.Fatalf("cases of %s: %+v", seller, list.Cases)
	}
	return list.Cases[0]
}

var goodPOA = map[string]string{
	"root_cause":          "A new courier crushed parcels in transit during the first week of the month.",
	"corrective_actions":  "We refunded all five buyers and stopped using that courier on the 3rd.",
	"preventive_measures": "Every parcel is now double-boxed and we audit courier damage weekly.",
}

// TestCaseLifecycleEndToEnd drives a case from breach to reinstatement over HTTP
// only, against real Postgres, the embedded Temporal server and the real SMTP
// capture, with policy timings of seconds.
func TestCaseLifecycleEndToEnd(t *testing.T) {
	d := startDev(t, map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_POLICY_FILE": writePolicy(t, "4s")})
	lena := provisionSeller(t, d.base, d.adminKey, "lena")
	other := provisionSeller(t, d.base, d.adminKey, "otto")
	var rev struct {
		APIKey string `json:"api_key"`
	}
	call(t, "POST", d.base+"/v1/reviewers", d.adminKey, map[string]string{"name": "Rita Reviewer", "email": "rita@example.com"}, &rev)

	c := openCase(t, d, "lena", lena)
	if c.State != "warned" || c.Evidence.Numerator != 5 || c.Evidence.Denominator != 20 || len(c.Evidence.OrderIDs) != 5 {
		t.Errorf("new case: %+v", c)
	}
	var e apiError
	if code := call(t, "POST", d.base+"/v1/cases/"+c.ID+"/appeals", lena, goodPOA, &e); code != http.StatusConflict {
		t.Errorf("appeal while warned: %d, want 409", code)
	}
	warning := waitMail(t, d.base, d.adminKey, c.ID, "Warning", "lena@example.com")
	for _, want := range []string{"25%", "5 of 20", "lena-o0", "automatically", "Answer buyers within 24 hours"} {
		if !strings.Contains(warning.Text, want) {
			t.Errorf("the warning's statement of reasons lacks %q", want)
		}
	}

	// The grace period ends with the metric still in breach.
	c = waitState(t, d.base, lena, c.ID, "enforced")
	if c.Enforcement != "account_suspension" {
		t.Errorf("enforcement %s", c.Enforcement)
	}
	waitMail(t, d.base, d.adminKey, c.ID, "account suspension", "lena@example.com")
	var h healthResp
	call(t, "GET", d.base+"/v1/sellers/lena/health", lena, nil, &h)
	if h.Status != "suspended" || h.Rating.Score != 0 {
		t.Errorf("health while enforced: status %s, score %d (200 - 200)", h.Status, h.Rating.Score)
	}

	// Bad input and other people's cases.
	if code := call(t, "POST", d.base+"/v1/cases/"+c.ID+"/appeals", lena, map[string]string{"root_cause": "short"}, &e); code != http.StatusBadRequest ||
		e.Error.Fields["root_cause"] == "" || e.Error.Fields["corrective_actions"] == "" || e.Error.Fields["preventive_measures"] == "" {
		t.Errorf("bad POA: %d %+v", code, e.Error)
	}
	if code := call(t, "POST", d.base+"/v1/cases/"+c.ID+"/appeals", other, goodPOA, &e); code != http.StatusNotFound {
		t.Errorf("another seller's appeal: %d, want 404", code)
	}
	if code := call(t, "GET", d.base+"/v1/cases/"+c.ID, other, nil, &e); code != http.StatusNotFound {
		t.Errorf("another seller reading the case: %d, want 404", code)
	}

	// First appeal, sent twice with one Idempotency-Key.
	appeal := func(key string) appealResp {
		var out struct {
			Appeal appealResp `json:"appeal"`
		}
		req, _ := http.NewRequest("POST", d.base+"/v1/cases/"+c.ID+"/appeals", strings.NewReader(mustJSON(goodPOA)))
		req.Header.Set("Authorization", "Bearer "+lena)
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		checkAnswer(t, req, resp, raw)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("appeal: %d %s", resp.StatusCode, raw)
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out.Appeal
	}
	a1 := appeal("first-try")
	if again := appeal("first-try"); again.ID != a1.ID {
		t.Errorf("a retried appeal got %s, the first %s", again.ID, a1.ID)
	}
	waitMail(t, d.base, d.adminKey, c.ID, "received", "lena@example.com")
	var queue struct {
		Appeals []appealResp `json:"appeals"`
	}
	call(t, "GET", d.base+"/v1/appeals?status=submitted", rev.APIKey, nil, &queue)
	if len(queue.Appeals) != 1 || queue.Appeals[0].ID != a1.ID {
		t.Errorf("review queue: %+v", queue.Appeals)
	}

	// Rejected with a reason.
	var decided struct {
		Appeal appealResp `json:"appeal"`
		Case   caseResp   `json:"case"`
	}
	reject := map[string]string{"decision": "reject", "reason_code": "actions_not_specific", "message": "Name the new courier and show the damage audit."}
	if code := call(t, "POST", d.base+"/v1/appeals/"+a1.ID+"/decision", rev.APIKey, map[string]string{"decision": "reject"}, &e); code != http.StatusBadRequest ||
		e.Error.Fields["reason_code"] == "" || e.Error.Fields["message"] == "" {
		t.Errorf("a rejection without reason: %d %+v", code, e.Error)
	}
	if code := call(t, "POST", d.base+"/v1/appeals/"+a1.ID+"/decision", rev.APIKey, reject, &decided); code != http.StatusOK ||
		decided.Appeal.Status != "rejected" || decided.Case.State != "enforced" {
		t.Fatalf("reject: %d %+v", code, decided)
	}
	if code := call(t, "POST", d.base+"/v1/appeals/"+a1.ID+"/decision", rev.APIKey, map[string]string{"decision": "approve"}, &e); code != http.StatusConflict {
		t.Errorf("deciding a decided appeal: %d, want 409", code)
	}
	rejection := waitMail(t, d.base, d.adminKey, c.ID, "not accepted", "lena@example.com")
	if !strings.Contains(rejection.Text, "actions not specific") || !strings.Contains(rejection.Text, "damage audit") {
		t.Errorf("the rejection lacks its reason:\n%s", rejection.Text)
	}

	// Second appeal, approved.
	a2 := appeal("second-try")
	if a2.ID == a1.ID {
		t.Fatal("the second appeal reused the first's id")
	}
	if code := call(t, "POST", d.base+"/v1/appeals/"+a2.ID+"/decision", rev.APIKey, map[string]string{"decision": "approve", "message": "Thank you, this is thorough."}, &decided); code != http.StatusOK ||
		decided.Case.State != "reinstated" {
		t.Fatalf("approve: %d %+v", code, decided)
	}
	waitMail(t, d.base, d.adminKey, c.ID, "approved", "lena@example.com")
	call(t, "GET", d.base+"/v1/sellers/lena/health", lena, nil, &h)
	if h.Status != "active" || h.Rating.Score != 200 {
		t.Errorf("after reinstatement: status %s, score %d, want active and 200", h.Status, h.Rating.Score)
	}

	c = waitState(t, d.base, lena, c.ID, "reinstated")
	var types []string
	for _, e := range c.Timeline {
		types = append(types, e.Type)
	}
	if got := strings.Join(types, " "); got != "opened enforced appeal_submitted appeal_rejected appeal_submitted reinstated" {
		t.Errorf("timeline %q", got)
	}
	if len(c.Appeals) != 2 || c.Appeals[0].Status != "rejected" || *c.Appeals[0].ReasonCode != "actions_not_specific" || c.Appeals[1].Status != "approved" {
		t.Errorf("appeals on the case: %+v", c.Appeals)
	}
	saveHistory(t, d, "case/lena/odr", "case_reinstated.json")
	ranOn(t, d, "case/lena/odr", flow.TaskQueue) // never on the evaluations' queue, where its activities would wait behind a sweep

	// Every message once: nothing sent twice.
	seen := map[string]int{}
	for _, m := range mails(t, d.base, d.adminKey) {
		seen[m.Subject]++
	}
	for s, n := range seen {
		if n > 1 {
			t.Errorf("%q sent %d times", s, n)
		}
	}
	if len(seen) != 6 {
		t.Errorf("%d distinct mails, want 6 (warning, enforcement, 2 received, rejected, reinstated): %v", len(seen), seen)
	}

	// A reviewer opens a policy-violation case: enforced at once, the seller told why.
	violation := map[string]string{"seller_id": "otto", "listing_id": "L-42", "violation": "ip_complaint",
		"note": "The rights holder showed that listing L-42 uses their registered trademark."}
	var pc caseResp
	if code := call(t, "POST", d.base+"/v1/cases", rev.APIKey, violation, &pc); code != http.StatusCreated ||
		pc.Kind != "policy_violation" || pc.State != "enforced" || pc.Enforcement != "listing_deactivation" {
		t.Fatalf("open a policy case: %d %+v", code, pc)
	}
	m := waitMail(t, d.base, d.adminKey, pc.ID, "L-42", "otto@example.com")
	if !strings.Contains(m.Text, "registered trademark") {
		t.Errorf("the policy case's mail lacks the reviewer's finding:\n%s", m.Text)
	}
	if code := call(t, "POST", d.base+"/v1/cases", rev.APIKey, violation, &e); code != http.StatusConflict {
		t.Errorf("the same listing and violation again: %d, want 409", code)
	}
	if code := call(t, "POST", d.base+"/v1/cases", lena, violation, &e); code != http.StatusForbidden {
		t.Errorf("a seller opening a case: %d, want 403", code)
	}
}
