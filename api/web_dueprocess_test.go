package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// caseFlows stands in for the case workflows: it records what it is asked and
// writes the transition to the read model as a case would.
type caseFlows struct {
	idleWorkflows
	st       *store.Store
	mu       sync.Mutex
	appeals  []flow.AppealRequest
	confirms []flow.ConfirmationRequest
}

func (w *caseFlows) record(ctx context.Context, caseID, typ, actor, state, enforcement string, ap *store.AppealRow) error {
	row, err := w.st.Case(ctx, caseID)
	if err != nil {
		return err
	}
	tl, err := w.st.Timeline(ctx, caseID)
	if err != nil {
		return err
	}
	from := row.State
	row.State, row.Enforcement = state, enforcement
	return w.st.RecordCase(ctx, store.CaseRecord{Case: row, Appeal: ap,
		Event: store.CaseEvent{CaseID: caseID, Seq: len(tl) + 1, At: time.Now().UTC(), Type: typ, Actor: actor, FromState: &from, ToState: state, Detail: `{}`}})
}

func (w *caseFlows) SubmitAppeal(ctx context.Context, _, _ string, req flow.AppealRequest) (flow.Appeal, error) {
	w.mu.Lock()
	w.appeals = append(w.appeals, req)
	w.mu.Unlock()
	row, err := w.st.Case(ctx, req.CaseID)
	if err != nil {
		return flow.Appeal{}, err
	}
	ap := store.AppealRow{ID: req.AppealID, CaseID: req.CaseID, SellerID: row.SellerID, Status: "submitted", RootCause: req.RootCause,
		CorrectiveActions: req.CorrectiveActions, PreventiveMeasures: req.PreventiveMeasures, SubmittedAt: time.Now().UTC()}
	return flow.Appeal{ID: req.AppealID}, w.record(ctx, req.CaseID, "appeal_submitted", "seller:"+row.SellerID, "under_review", row.Enforcement, &ap)
}

func (w *caseFlows) Confirm(ctx context.Context, _ string, req flow.ConfirmationRequest) (health.Case, error) {
	w.mu.Lock()
	w.confirms = append(w.confirms, req)
	w.mu.Unlock()
	if req.Decision == health.ConfirmIt {
		return health.Case{}, w.record(ctx, req.CaseID, "confirmed", "reviewer:"+req.ReviewerID, "enforced", "account_suspension", nil)
	}
	return health.Case{}, w.record(ctx, req.CaseID, "withdrawn", "reviewer:"+req.ReviewerID, "withdrawn", "none", nil)
}

// webUser is a signed-in browser: its session cookie and its forms' token.
type webUser struct {
	t          *testing.T
	base, sess string
	csrf       string
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (u webUser) do(req *http.Request) (*http.Response, string) {
	u.t.Helper()
	req.AddCookie(&http.Cookie{Name: "ah_session", Value: u.sess})
	resp, err := noRedirect.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (u webUser) get(path string) (*http.Response, string) {
	u.t.Helper()
	req, _ := http.NewRequest("GET", u.base+path, nil)
	return u.do(req)
}

// post sends a form with the user's token, or without any when withCSRF is false.
func (u webUser) post(path string, v url.Values, withCSRF bool) (*http.Response, string) {
	u.t.Helper()
	form := url.Values{}
	for k, vs := range v {
		form[k] = vs
	}
	if withCSRF {
		form.Set("csrf", u.csrf)
	}
	req, _ := http.NewRequest("POST", u.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return u.do(req)
}

// postFile sends a multipart form with a file in field "file" (none when name is "").
func (u webUser) postFile(path string, v url.Values, name string, data []byte, withCSRF bool) (*http.Response, string) {
	u.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if withCSRF {
		_ = w.WriteField("csrf", u.csrf)
	}
	for k, vs := range v {
		for _, x := range vs {
			_ = w.WriteField(k, x)
		}
	}
	if name != "" {
		fw, _ := w.CreateFormFile("file", name)
		_, _ = fw.Write(data)
	}
	_ = w.Close()
	req, _ := http.NewRequest("POST", u.base+path, &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return u.do(req)
}

func signedIn(t *testing.T, st *store.Store, base, name string, role store.Role, seller, reviewer *string) webUser {
	t.Helper()
	now := time.Now().UTC()
	if err := st.CreateSession(context.Background(), store.Session{IDHash: api.HashKey("sess-" + name), Role: role, SellerID: seller, ReviewerID: reviewer,
		CSRF: "csrf-" + name, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return webUser{t: t, base: base, sess: "sess-" + name, csrf: "csrf-" + name}
}

func count(t *testing.T, st *store.Store, table string) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// has fails the test unless the page holds every want.
func has(t *testing.T, what, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, page)
			return
		}
	}
}

// dueProcessWorld is a seller sam with two 1-star orders behind an odr case
// waiting for confirmation (C-ODR) and an enforced policy case (C-POL), another
// seller ola, and a reviewer Rita, each signed in.
type dueProcessWorld struct {
	st                 *store.Store
	flows              *caseFlows
	mails              *outbox
	srv                *httptest.Server
	sam, ola, rita     webUser
	reviewerID         string
	samOrder, samClean string
}

func newDueProcessWorld(t *testing.T) *dueProcessWorld {
	t.Helper()
	st := storetest.NewSQLite(t)
	w := &dueProcessWorld{st: st, flows: &caseFlows{st: st}, mails: &outbox{}, samOrder: "sam-o0", samClean: "sam-o2"}
	w.srv = httptest.NewServer(api.New(api.Config{Store: st, Workflows: w.flows, Policy: health.DefaultPolicy(),
		AdminKeyHash: api.HashKey(adminKey), Mailer: w.mails, PublicURL: "http://health.example"}).Handler())
	t.Cleanup(w.srv.Close)
	ctx := context.Background()
	for _, s := range []store.Seller{{ID: "sam", Name: "Sam's Shop", Email: "sam@example.com"}, {ID: "ola", Name: "Ola", Email: "ola@example.com"}} {
		if _, err := st.CreateSeller(ctx, s, "h-"+s.ID); err != nil {
			t.Fatal(err)
		}
	}
	r, err := st.CreateReviewer(ctx, store.Reviewer{Name: "Rita Reviewer", Email: "rita@example.com"}, "h-rita")
	if err != nil {
		t.Fatal(err)
	}
	w.reviewerID = r.ID
	sam, ola := "sam", "ola"
	w.sam = signedIn(t, st, w.srv.URL, "sam", store.RoleSeller, &sam, nil)
	w.ola = signedIn(t, st, w.srv.URL, "ola", store.RoleSeller, &ola, nil)
	w.rita = signedIn(t, st, w.srv.URL, "rita", store.RoleReviewer, nil, &r.ID)

	now := time.Now().UTC()
	ts := func(at time.Time) string { return at.Format(time.RFC3339) }
	var events []map[string]any
	for i := range 3 {
		oid, placed := fmt.Sprintf("sam-o%d", i), now.Add(-5*24*time.Hour)
		events = append(events,
			map[string]any{"id": oid + "-p", "type": "order_placed", "at": ts(placed), "seller_id": "sam", "order_id": oid,
				"ship_by": ts(placed.Add(24 * time.Hour)), "deliver_by": ts(placed.Add(4 * 24 * time.Hour))},
			map[string]any{"id": oid + "-s", "type": "order_shipped", "at": ts(placed.Add(time.Hour)), "order_id": oid, "tracking_number": "T" + oid, "carrier": "DHL"},
			map[string]any{"id": oid + "-c", "type": "tracking_scanned", "at": ts(placed.Add(2 * time.Hour)), "order_id": oid},
			map[string]any{"id": oid + "-d", "type": "order_delivered", "at": ts(placed.Add(2 * 24 * time.Hour)), "order_id": oid})
		if i < 2 {
			events = append(events, map[string]any{"id": oid + "-f", "type": "feedback", "at": ts(placed.Add(3 * 24 * time.Hour)), "order_id": oid, "rating": 1})
		}
	}
	body, _ := json.Marshal(map[string]any{"events": events})
	req, _ := http.NewRequest("POST", w.srv.URL+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("post events: %v %v", resp, err)
	}
	resp.Body.Close()

	odr := "odr"
	evidence, _ := json.Marshal(store.Evidence{Numerator: 2, Denominator: 3, Target: health.Target{Op: "<", Value: 0.01}, WindowDays: 60,
		WindowStart: now.Add(-60 * 24 * time.Hour), WindowEnd: now, OrderIDs: []string{"sam-o0", "sam-o1", w.samClean}})
	deadline := now.Add(24 * time.Hour)
	for _, c := range []store.CaseRow{
		{ID: "C-ODR", WorkflowID: "case/sam/odr", RunID: "r1", SellerID: "sam", Kind: "metric_breach", Metric: &odr, Action: "suspend",
			State: "pending_confirmation", Enforcement: "none", OpenedAt: now.Add(-time.Hour), Deadline: &deadline, MaxAppeals: 3, Evidence: string(evidence)},
		{ID: "C-POL", WorkflowID: "case/sam/policy", RunID: "r2", SellerID: "sam", Kind: "policy_violation", Action: "suspend",
			State: "enforced", Enforcement: "account_suspension", OpenedAt: now.Add(-time.Hour), Deadline: &deadline, MaxAppeals: 3, Evidence: `{"order_ids":[],"note":"Counterfeit listing."}`},
	} {
		if err := st.RecordCase(ctx, store.CaseRecord{Case: c,
			Event: store.CaseEvent{CaseID: c.ID, Seq: 1, At: c.OpenedAt, Type: "opened", Actor: "system", ToState: c.State, Detail: `{}`}}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// TestDisputePages: the seller disputes an order from the case page (refusals
// beside the order's form, what was typed kept, nothing stored; a post without
// its token refused), sees it and its status on the case page and their
// disputes page; the reviewer finds it in the queue, reads it beside the
// order's history with the seller's words escaped, and upholds it.
func TestDisputePages(t *testing.T) {
	w := newDueProcessWorld(t)

	resp, page := w.sam.get("/cases/C-ODR")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("case page: %d\n%s", resp.StatusCode, page)
	}
	has(t, "the seller's case page", page, `action="/cases/C-ODR/disputes"`, `id="dispute-form-sam-o0"`, `id="dispute-form-sam-o2"`,
		`<option value="a_to_z_claim">a to z claim</option>`, `<option value="carrier_delay">`, `every defect of this order`, `href="/disputes"`)
	if _, page = w.rita.get("/cases/C-ODR"); strings.Contains(page, "dispute-form-") {
		t.Error("the reviewer is offered the seller's dispute form")
	}

	dispute := url.Values{"order_id": {w.samOrder}, "defect": {"negative_feedback"}, "reason": {"product_feedback"},
		"message": {"The buyer <script>alert(1)</script> disliked the colour, not our service."}}
	if resp, _ = w.sam.post("/cases/C-ODR/disputes", dispute, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a dispute without its CSRF token: %d, want 403", resp.StatusCode)
	}
	noMessage := url.Values{"order_id": {w.samOrder}, "defect": {"negative_feedback"}, "reason": {"carrier_delay"}, "message": {"  "}}
	resp, page = w.sam.post("/cases/C-ODR/disputes", noMessage, true)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a dispute without a message: %d", resp.StatusCode)
	}
	has(t, "the refused dispute", page, `id="message-error-sam-o0"`, "is required", `<option value="carrier_delay" selected>`, `<details open>`)
	wrongDefect := url.Values{"order_id": {w.samClean}, "defect": {"negative_feedback"}, "reason": {"buyer_error"}, "message": {"Kept text."}}
	resp, page = w.sam.post("/cases/C-ODR/disputes", wrongDefect, true)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a dispute of a defect the order has not: %d", resp.StatusCode)
	}
	has(t, "the refused dispute", page, `id="defect-error-sam-o2"`, "has no negative feedback", ">Kept text.</textarea>")
	if resp, _ = w.ola.post("/cases/C-ODR/disputes", dispute, true); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another seller disputing on sam's case: %d, want 404", resp.StatusCode)
	}
	if n := count(t, w.st, "disputes"); n != 0 {
		t.Fatalf("%d disputes stored after refusals", n)
	}

	resp, _ = w.sam.post("/cases/C-ODR/disputes", dispute, true)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/cases/C-ODR?disputed=D-") {
		t.Fatalf("the dispute: %d to %q", resp.StatusCode, loc)
	}
	rows, _, err := w.st.Disputes(context.Background(), store.DisputeFilter{})
	if err != nil || len(rows) != 1 || rows[0].OrderID != w.samOrder || rows[0].Status != store.DisputeOpen || rows[0].Reason != "product_feedback" {
		t.Fatalf("disputes stored: %+v %v", rows, err)
	}
	id := rows[0].ID
	if resp, _ = w.sam.post("/cases/C-ODR/disputes", dispute, true); resp.StatusCode != http.StatusConflict {
		t.Errorf("the same defect disputed again: %d, want 409", resp.StatusCode)
	}
	_, page = w.sam.get(strings.TrimSuffix(loc, "#disputes"))
	has(t, "the case page after the dispute", page, "Your dispute "+id+" of order sam-o0 is with a reviewer", `id="dispute-`+id+`"`, id+": open")
	_, page = w.sam.get("/disputes")
	has(t, "the seller's disputes", page, `id="dispute-`+id+`"`, "sam-o0", `href="/cases/C-ODR"`, "open")
	if _, page = w.ola.get("/disputes"); !strings.Contains(page, `id="no-disputes"`) || strings.Contains(page, id) {
		t.Errorf("another seller's disputes page:\n%s", page)
	}
	if resp, _ = w.rita.get("/disputes"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a reviewer on the seller's disputes page: %d", resp.StatusCode)
	}

	// The reviewer: the queue, the dispute beside the order's history, the decision.
	resp, page = w.rita.get("/review/disputes")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("disputes queue: %d", resp.StatusCode)
	}
	has(t, "the disputes queue", page, `href="/review/disputes/`+id+`"`, "sam-o0", "negative feedback", `href="/cases/C-ODR"`)
	if resp, _ = w.sam.get("/review/disputes"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a seller on the disputes queue: %d", resp.StatusCode)
	}
	_, page = w.rita.get("/review/disputes/" + id)
	has(t, "the dispute page", page, `id="order-history"`, "placed; ship by", "shipped, tracking Tsam-o0 (DHL)", "feedback, latest rating 1 of 5",
		"The buyer &lt;script&gt;alert(1)&lt;/script&gt; disliked", `action="/review/disputes/`+id+`/decision"`)
	if strings.Contains(page, "<script>alert(1)") {
		t.Error("the seller's message is not escaped on the dispute page")
	}
	decision := "/review/disputes/" + id + "/decision"
	if resp, _ = w.rita.post(decision, url.Values{"decision": {"upheld"}, "message": {"Product feedback."}}, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a decision without its CSRF token: %d, want 403", resp.StatusCode)
	}
	resp, page = w.rita.post(decision, url.Values{"decision": {"upheld"}, "message": {""}}, true)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a decision without a message: %d", resp.StatusCode)
	}
	has(t, "the refused decision", page, `id="message-error"`, `<option value="upheld" selected>`)
	if d, _ := w.st.Dispute(context.Background(), id); d.Status != store.DisputeOpen {
		t.Errorf("after the refused decision the dispute is %s", d.Status)
	}
	resp, _ = w.rita.post(decision, url.Values{"decision": {"upheld"}, "message": {"It is about the product; it no longer counts."}}, true)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("uphold: %d", resp.StatusCode)
	}
	_, page = w.rita.get(resp.Header.Get("Location"))
	has(t, "the dispute after the decision", page, "the dispute is upheld", "It is about the product; it no longer counts.")
	if strings.Contains(page, "submit-dispute") {
		t.Error("the decided dispute still offers the decision form")
	}
	if d, _ := w.st.Dispute(context.Background(), id); d.Status != store.DisputeUpheld || d.DecidedBy == nil || *d.DecidedBy != w.reviewerID {
		t.Errorf("after upholding: %+v", d)
	}
	if _, page = w.rita.get("/review/disputes"); strings.Contains(page, id) {
		t.Error("the decided dispute is still in the queue")
	}
	_, page = w.sam.get("/cases/C-ODR")
	has(t, "the seller's case page after the decision", page, id+": upheld", "It is about the product; it no longer counts.")
}

// TestConfirmAndMessagePages: on the case page a reviewer confirms a suspension
// waiting for confirmation (a withdrawal without its reason refused beside the
// field), and both sides write messages, shown escaped.
func TestConfirmAndMessagePages(t *testing.T) {
	w := newDueProcessWorld(t)
	_, page := w.rita.get("/review")
	has(t, "the review queue", page, `id="pending"`, `href="/cases/C-ODR"`)
	_, page = w.rita.get("/cases/C-ODR")
	has(t, "the reviewer's case page", page, `action="/review/cases/C-ODR/action"`, `<option value="confirm"`, `<option value="withdraw"`)
	if _, page = w.sam.get("/cases/C-ODR"); strings.Contains(page, "/review/cases/C-ODR/action") {
		t.Error("the seller is offered the confirmation form")
	}

	action := "/review/cases/C-ODR/action"
	if resp, _ := w.rita.post(action, url.Values{"decision": {"confirm"}}, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a confirmation without its CSRF token: %d, want 403", resp.StatusCode)
	}
	resp, page := w.rita.post(action, url.Values{"decision": {"withdraw"}, "message": {"kept words"}}, true)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a withdrawal without a reason code: %d", resp.StatusCode)
	}
	has(t, "the refused withdrawal", page, `id="reason_code-error"`, ">kept words</textarea>", `<option value="withdraw" selected>`)
	if resp, _ = w.sam.post(action, url.Values{"decision": {"confirm"}}, true); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the seller confirming: %d, want 403", resp.StatusCode)
	}
	if len(w.flows.confirms) != 0 {
		t.Fatalf("refused forms reached the case: %+v", w.flows.confirms)
	}
	resp, _ = w.rita.post(action, url.Values{"decision": {"confirm"}, "message": {"Two buyers complained; it stands."}}, true)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cases/C-ODR" {
		t.Fatalf("confirm: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if len(w.flows.confirms) != 1 || w.flows.confirms[0].Decision != health.ConfirmIt || w.flows.confirms[0].ReviewerName != "Rita Reviewer" {
		t.Errorf("the confirmation sent to the case: %+v", w.flows.confirms)
	}
	_, page = w.rita.get("/cases/C-ODR")
	has(t, "the confirmed case", page, `<strong id="case-state">enforced</strong>`, "Withdraw this case")
	if resp, _ = w.rita.post(action, url.Values{"decision": {"confirm"}}, true); resp.StatusCode != http.StatusConflict {
		t.Errorf("confirming an enforced case: %d, want 409", resp.StatusCode)
	}

	// Messages, both ways; the form refuses an empty one and one without its token.
	msgs := "/cases/C-ODR/messages"
	if resp, _ = w.sam.post(msgs, url.Values{"body": {"Hello"}}, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a message without its CSRF token: %d, want 403", resp.StatusCode)
	}
	resp, page = w.sam.post(msgs, url.Values{"body": {" "}}, true)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="body-error"`) {
		t.Errorf("an empty message: %d\n%s", resp.StatusCode, page)
	}
	if n := count(t, w.st, "case_messages"); n != 0 {
		t.Fatalf("%d messages stored after refusals", n)
	}
	const evil = "Which orders? <script>alert('x')</script> & why"
	if resp, _ = w.sam.post(msgs, url.Values{"body": {evil}}, true); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the seller's message: %d", resp.StatusCode)
	}
	if resp, _ = w.rita.post(msgs, url.Values{"body": {"Orders sam-o0 and sam-o1."}}, true); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the reviewer's message: %d", resp.StatusCode)
	}
	for _, u := range []webUser{w.sam, w.rita} {
		_, page = u.get("/cases/C-ODR")
		has(t, "the case page's conversation", page, "Which orders? &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; why", "Orders sam-o0 and sam-o1.")
		if strings.Contains(page, "<script>alert") {
			t.Error("a message's <script> is not escaped")
		}
	}
}

// TestPlanFilePages: the Plan of Action form takes a file by content; a bad or
// too large file is refused beside the field with nothing stored, and a good
// one is kept on the case, listed by the appeal and downloadable by those who
// see the case.
func TestPlanFilePages(t *testing.T) {
	w := newDueProcessWorld(t)
	_, page := w.sam.get("/cases/C-POL")
	has(t, "the plan form", page, `enctype="multipart/form-data"`, `type="file" id="file" name="file"`)

	plan := url.Values{"root_cause": {"A supplier sent us counterfeit stock in March without our knowing."},
		"corrective_actions":  {"We removed the listing and refunded every buyer of it."},
		"preventive_measures": {"Every new supplier's invoices are checked against the brand's list."}}
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 200)...)
	nothing := func(what string) {
		t.Helper()
		if a, f := count(t, w.st, "appeals"), count(t, w.st, "attachments"); a != 0 || f != 0 || len(w.flows.appeals) != 0 {
			t.Fatalf("%s: %d appeals, %d files stored, %d sent to the case", what, a, f, len(w.flows.appeals))
		}
	}
	if resp, _ := w.sam.postFile("/cases/C-POL/appeal", plan, "invoice.png", png, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a plan with a file without its CSRF token: %d, want 403", resp.StatusCode)
	}
	resp, page := w.sam.postFile("/cases/C-POL/appeal", plan, "invoice.pdf", []byte("<html><body>not a document</body></html>"), true)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an HTML file named .pdf: %d", resp.StatusCode)
	}
	has(t, "the refused file", page, `id="file-error"`, "must be a PDF, PNG or JPEG", "supplier sent us counterfeit stock", "Choose the file again")
	nothing("an HTML file")
	big := append(append([]byte(nil), png...), make([]byte, 10<<20)...)
	resp, page = w.sam.postFile("/cases/C-POL/appeal", plan, "big.png", big, true)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a file over 10 MiB: %d", resp.StatusCode)
	}
	has(t, "the too large file", page, `id="file-error"`, "10 MiB")
	nothing("a file over 10 MiB")
	// A multipart form's text is checked like any form's: a control character is named, CRLF is stored as LF.
	nul := url.Values{"root_cause": {"A supplier\x00 sent us counterfeit stock."}, "corrective_actions": plan["corrective_actions"], "preventive_measures": plan["preventive_measures"]}
	resp, page = w.sam.postFile("/cases/C-POL/appeal", nul, "invoice.png", png, true)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "root_cause") {
		t.Errorf("a multipart form with a NUL: %d\n%s", resp.StatusCode, page)
	}
	nothing("a multipart form with a NUL")
	short := url.Values{"root_cause": {"short"}, "corrective_actions": plan["corrective_actions"], "preventive_measures": plan["preventive_measures"]}
	resp, page = w.sam.postFile("/cases/C-POL/appeal", short, "invoice.png", png, true)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a short plan with a good file: %d", resp.StatusCode)
	}
	has(t, "the short plan", page, `id="root_cause-error"`)
	nothing("a short plan with a good file")

	crlf := url.Values{"root_cause": {"A supplier sent us counterfeit stock in March\r\nwithout our knowing."},
		"corrective_actions": plan["corrective_actions"], "preventive_measures": plan["preventive_measures"]}
	resp, _ = w.sam.postFile("/cases/C-POL/appeal", crlf, "invoice.png", png, true)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/cases/C-POL?submitted=A-") {
		t.Fatalf("the plan with its file: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	files, err := w.st.AttachmentsOfCase(context.Background(), "C-POL")
	if err != nil || len(files) != 1 || files[0].ContentType != "image/png" || files[0].Name != "invoice.png" || files[0].UploadedBy != "seller:sam" {
		t.Fatalf("the case's files: %+v %v", files, err)
	}
	fid := files[0].ID
	linked, err := w.st.AppealAttachments(context.Background(), "C-POL")
	if err != nil || len(w.flows.appeals) != 1 || strings.Join(linked[w.flows.appeals[0].AppealID], ",") != fid {
		t.Fatalf("the appeal's files: %v %v (appeals %+v)", linked, err, w.flows.appeals)
	}
	if got := w.flows.appeals[0].RootCause; got != "A supplier sent us counterfeit stock in March\nwithout our knowing." {
		t.Errorf("the root cause sent: %q, want its CRLF as LF", got)
	}

	// The file list, on both sides, and the download.
	for _, u := range []webUser{w.sam, w.rita} {
		_, page = u.get("/cases/C-POL")
		has(t, "the case's files", page, `id="files"`, fmt.Sprintf(`<a href="/attachments/%s">invoice.png</a> (image/png, %d bytes, by seller:sam`, fid, len(png)),
			`class="appeal-files"`)
	}
	resp, body := w.rita.get("/attachments/" + fid)
	if resp.StatusCode != http.StatusOK || body != string(png) || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("the reviewer's download: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ = w.ola.get("/attachments/" + fid); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another seller's download: %d, want 404", resp.StatusCode)
	}
	// A case that takes no appeal keeps no file either.
	if resp, _ = w.sam.postFile("/cases/C-ODR/appeal", plan, "invoice.png", png, true); resp.StatusCode != http.StatusConflict {
		t.Errorf("a plan with a file for a case waiting for confirmation: %d, want 409", resp.StatusCode)
	}
	if n := count(t, w.st, "attachments"); n != 1 || len(w.flows.appeals) != 1 {
		t.Errorf("after the refused plan: %d files, %d appeals sent", n, len(w.flows.appeals))
	}
}
