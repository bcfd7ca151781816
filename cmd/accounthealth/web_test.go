package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// browser starts a headless Debian Chromium of its own (its own cookies). The
// test fails when Chromium is missing: .ci/run installs it.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("AH_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Chromium not found at %s (set AH_CHROMIUM; .ci/run installs Debian's chromium): %v", path, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.WindowSize(1280, 1000))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(tctx, actions...); err != nil {
		var page, loc string
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = chromedp.Run(pctx, chromedp.Location(&loc), chromedp.Text("body", &page, chromedp.ByQuery))
		t.Fatalf("%s: %v\nthe page at %s says:\n%s", what, err, loc, page)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	do(t, ctx, "read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

// screenshot writes a full-page PNG to the folder the README names.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("AH_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var png []byte
	do(t, ctx, "screenshot "+name, chromedp.FullScreenshot(&png, 100)) // 100 makes a PNG; lower makes a JPEG
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

var linkRe = regexp.MustCompile(`http://[^\s"<>]+/signin/[A-Za-z0-9_-]+`)

// signIn asks for a link as a person would, takes it from the captured mail and follows it.
func signIn(t *testing.T, ctx context.Context, d *devProcess, email string) {
	t.Helper()
	before := len(mails(t, d.base, d.adminKey))
	do(t, ctx, "ask for a sign-in link",
		chromedp.Navigate(d.base+"/signin"),
		chromedp.SendKeys("#email", email, chromedp.ByQuery),
		chromedp.Evaluate(`window.__stale = true`, nil),
		chromedp.Submit("#email", chromedp.ByQuery),
		newPage(),
		chromedp.WaitVisible("#message", chromedp.ByQuery))
	if got := text(t, ctx, "#message"); !strings.Contains(got, "If an account uses") {
		t.Fatalf("after asking for a link: %q", got)
	}
	var link string
	deadline := time.Now().Add(20 * time.Second)
	for link == "" && time.Now().Before(deadline) {
		for _, m := range mails(t, d.base, d.adminKey)[before:] {
			if len(m.To) == 1 && m.To[0] == email && strings.Contains(m.Subject, "sign-in link") {
				link = linkRe.FindString(m.Text)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if link == "" {
		t.Fatalf("no sign-in mail for %s", email)
	}
	do(t, ctx, "follow the link", chromedp.Navigate(link), submit("#confirm"), chromedp.WaitVisible("header nav", chromedp.ByQuery))
	// The link works once: a second visitor with its own valid form token is refused.
	jar, _ := cookiejar.New(nil)
	other := &http.Client{Jar: jar}
	page, err := other.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the confirmation page")
	}
	resp, err := other.PostForm(link, url.Values{"csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the sign-in link used a second time: %d, want 400", resp.StatusCode)
	}
}

// setValue fills a field as typing would leave it.
func setValue(sel, v string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).value = %s`, sel, mustJSON(v)), nil)
}

func fillPlan(t *testing.T, ctx context.Context, root, corrective, preventive string) {
	t.Helper()
	var actions []chromedp.Action
	for sel, v := range map[string]string{"#root_cause": root, "#corrective_actions": corrective, "#preventive_measures": preventive} {
		actions = append(actions, setValue(sel, v))
	}
	actions = append(actions, submit("#submit-poa"))
	do(t, ctx, "submit the plan", actions...)
}

// submit clicks a submit button and waits for the page that answers the post.
func submit(sel string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.Evaluate(`window.__stale = true`, nil),
		chromedp.Click(sel, chromedp.ByQuery),
		newPage(),
	}
}

// newPage waits until the page marked stale has been replaced and has loaded.
// Evaluating during the navigation fails; that is waited out too.
func newPage() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for {
			var fresh bool
			err := chromedp.Evaluate(`!window.__stale && document.readyState === "complete"`, &fresh).Do(ctx)
			if err == nil && fresh {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// TestWebInARealBrowser drives the seller portal and the reviewer console in
// Debian's Chromium against the real program: real Postgres, the embedded
// Temporal server and the real SMTP capture.
func TestWebInARealBrowser(t *testing.T) {
	d := startDev(t, map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_POLICY_FILE": writePolicy(t, "3s")})
	noraKey := provisionSeller(t, d.base, d.adminKey, "nora")
	omarKey := provisionSeller(t, d.base, d.adminKey, "omar")
	call(t, "POST", d.base+"/v1/reviewers", d.adminKey, map[string]string{"name": "Rita Reviewer", "email": "rita@example.com"}, nil)
	c := openCase(t, d, "nora", noraKey)
	otherCase := openCase(t, d, "omar", omarKey)
	waitState(t, d.base, noraKey, c.ID, "enforced")

	seller := browser(t)
	signIn(t, seller, d, "nora@example.com")
	if got := text(t, seller, "#status"); got != "suspended" {
		t.Errorf("dashboard status %q", got)
	}
	if got := text(t, seller, "#metric-odr"); !strings.Contains(got, "25%") || !strings.Contains(got, "5 of 20") {
		t.Errorf("the odr row: %q", got)
	}
	if got := text(t, seller, "#odr-parts"); !strings.Contains(got, "negative feedback: 5;") || !strings.Contains(got, "A-to-z claim: 0;") || !strings.Contains(got, "charged back: 0") {
		t.Errorf("odr's parts: %q", got)
	}
	if got := text(t, seller, "#evidence-odr"); !strings.Contains(got, "nora-o0") || !strings.Contains(got, "nora-o4") {
		t.Errorf("the orders behind the breach: %q", got)
	}
	if got := text(t, seller, "#expired-orders"); got != "0" {
		t.Errorf("expired orders: %q", got)
	}
	screenshot(t, seller, "seller-dashboard")

	do(t, seller, "open the case", chromedp.Navigate(d.base+"/cases/"+c.ID), chromedp.WaitVisible("#rule", chromedp.ByQuery))
	if got := text(t, seller, "#value"); !strings.Contains(got, "25%") {
		t.Errorf("the case's value: %q", got)
	}
	if got := text(t, seller, "#evidence"); !strings.Contains(got, "nora-o0") {
		t.Errorf("the evidence: %q", got)
	}
	if got := text(t, seller, "#time-left"); !strings.Contains(got, "left") {
		t.Errorf("time left: %q", got)
	}

	// An incomplete plan: errors beside the fields, what was typed kept.
	const xss = "Our courier crushed parcels <script>window.__xss=1</script> in the first week."
	fillPlan(t, seller, xss, "", "")
	var kept string
	do(t, seller, "read the kept text", chromedp.Value("#root_cause", &kept, chromedp.ByQuery))
	if kept != xss {
		t.Errorf("the root cause typed was not kept: %q", kept)
	}
	if got := text(t, seller, "#corrective_actions-error"); !strings.Contains(got, "required") {
		t.Errorf("no error beside corrective actions: %q", got)
	}
	screenshot(t, seller, "seller-case-form-errors")
	fillPlan(t, seller, xss, "We refunded all five buyers and stopped using that courier.", "Every parcel is double-boxed; we audit damage weekly.")
	if got := text(t, seller, "#flash"); !strings.Contains(got, "was submitted") {
		t.Errorf("no confirmation: %q", got)
	}
	var xssRan string
	do(t, seller, "check no script ran", chromedp.Evaluate(`typeof window.__xss`, &xssRan))
	if xssRan != "undefined" {
		t.Error("the <script> in the plan ran")
	}
	if got := text(t, seller, "article.poa"); !strings.Contains(got, "<script>window.__xss=1</script>") {
		t.Errorf("the plan is not shown as text: %q", got)
	}
	screenshot(t, seller, "seller-case")

	// The reviewer rejects with a reason.
	reviewer := browser(t)
	signIn(t, reviewer, d, "rita@example.com")
	do(t, reviewer, "open the appeal from the queue", chromedp.Click("table tbody tr td a", chromedp.ByQuery), chromedp.WaitVisible("#poa-root", chromedp.ByQuery))
	if got := text(t, reviewer, "#poa-root"); !strings.Contains(got, "<script>") {
		t.Errorf("the reviewer sees %q", got)
	}
	do(t, reviewer, "claim it", submit("#claim"))
	if got := text(t, reviewer, "main > p"); !strings.Contains(got, "claimed by Rita Reviewer") {
		t.Errorf("claim not shown: %q", got)
	}
	screenshot(t, reviewer, "reviewer-review")
	do(t, reviewer, "reject without a reason", chromedp.Click(`input[value="reject"]`, chromedp.ByQuery), submit("#decide"),
		chromedp.WaitVisible("#message-error", chromedp.ByQuery))
	do(t, reviewer, "reject with a reason",
		setValue("#reason_code", "actions_not_specific"),
		setValue("#message", "Name the new courier and attach the damage audit."),
		submit("#decide"), chromedp.WaitVisible("#flash", chromedp.ByQuery))

	// The seller sees the reason and appeals again.
	do(t, seller, "reload the case", chromedp.Navigate(d.base+"/cases/"+c.ID), chromedp.WaitVisible(".decision-reason", chromedp.ByQuery))
	if got := text(t, seller, ".decision-reason"); !strings.Contains(got, "actions not specific") {
		t.Errorf("the seller sees the reason %q", got)
	}
	if got := text(t, seller, ".decision-message"); !strings.Contains(got, "damage audit") {
		t.Errorf("the seller sees the message %q", got)
	}
	fillPlan(t, seller, "The courier SwiftShip crushed parcels in the first week of the month.", "We refunded all five buyers and moved to CarefulCarrier on the 3rd.", "Double boxing, and a weekly damage audit signed by our warehouse lead.")

	// The reviewer approves the second appeal.
	do(t, reviewer, "open the queue", chromedp.Navigate(d.base+"/review"), chromedp.Click("table tbody tr td a", chromedp.ByQuery),
		chromedp.WaitVisible("#decide", chromedp.ByQuery), chromedp.Click(`input[value="approve"]`, chromedp.ByQuery),
		submit("#decide"), chromedp.WaitVisible("#flash", chromedp.ByQuery))
	do(t, seller, "the dashboard", chromedp.Navigate(d.base+"/"), chromedp.WaitVisible("#status", chromedp.ByQuery))
	if got := text(t, seller, "#status"); got != "active" {
		t.Errorf("after approval the seller's status is %q, want active", got)
	}

	// Another seller's case is not found.
	do(t, seller, "open another seller's case", chromedp.Navigate(d.base+"/cases/"+otherCase.ID), chromedp.WaitVisible("h1", chromedp.ByQuery))
	if got := text(t, seller, "h1"); got != "Not found" {
		t.Errorf("another seller's case: %q", got)
	}

	// A form post without its CSRF token is refused, even with a valid session.
	var cookies []*network.Cookie
	do(t, seller, "read the session cookie", chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		cookies, err = network.GetCookies().Do(ctx)
		return err
	}))
	req, _ := http.NewRequest("POST", d.base+"/cases/"+c.ID+"/appeal", strings.NewReader(url.Values{"root_cause": {strings.Repeat("x", 30)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a post without its CSRF token: %d, want 403", resp.StatusCode)
	}
}

// TestTierPanelInABrowser: a seller signs in and sees the tier panel with what
// the next tier needs in orders, and accepts a program's invitation with the
// form's button.
func TestTierPanelInABrowser(t *testing.T) {
	q := health.QuarterOf(time.Now()).Prev()
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("evaluation: {sweep_interval: 0s}\nprograms:\n  business: {title: \"Business seller program\", window_days: 250, min_orders: 100, criteria: {odr: \"< 0.01\", late_shipment_rate: \"< 0.02\"}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDev(t, map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_POLICY_FILE": policy})
	provisionSeller(t, d.base, d.adminKey, "tia")
	events := quarterEvents(quarterSeller{id: "tia", orders: 120, late: 2}, q.End(), "q")
	if code := call(t, "POST", d.base+"/v1/events", d.adminKey, map[string]any{"events": events}, nil); code != http.StatusOK {
		t.Fatalf("post events: %d", code)
	}
	evaluateQuarter(t, d, q.String())
	evaluate(t, d, map[string]any{})

	seller := browser(t)
	signIn(t, seller, d, "tia@example.com")
	if got := text(t, seller, "#tier-name"); got != "advanced" {
		t.Errorf("the tier panel says %q, want advanced", got)
	}
	if got := text(t, seller, "#gaps"); !strings.Contains(got, "1 fewer late shipment ") || !strings.Contains(got, "Premium") {
		t.Errorf("the gaps to premium: %q", got)
	}
	if got := text(t, seller, "#advice"); !strings.Contains(got, "To Premium") {
		t.Errorf("the recommendations: %q", got)
	}
	screenshot(t, seller, "seller-tier")
	do(t, seller, "accept the invitation", submit("#accept-business"), chromedp.WaitVisible("#flash", chromedp.ByQuery))
	if got := text(t, seller, "#flash"); !strings.Contains(got, "accepted") {
		t.Errorf("after accepting: %q", got)
	}
	if got := text(t, seller, "#program-business .program-status"); got != "accepted" {
		t.Errorf("the program's status on the page: %q", got)
	}
	screenshot(t, seller, "seller-program-accepted")
}

// writePNG writes a small real PNG for the browser to upload.
func writePNG(t *testing.T, path string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDueProcessInARealBrowser drives the due-process pages in Chromium against
// the real program, with suspensions waiting for a reviewer's confirmation: the
// seller disputes an order from the case page, the reviewer upholds the dispute
// beside the order's history and confirms the suspension, and the seller appeals
// with a file attached. The API is asked after each step.
func TestDueProcessInARealBrowser(t *testing.T) {
	d := startDev(t, map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_POLICY_FILE": writeConfirmingPolicy(t)})
	pia := provisionSeller(t, d.base, d.adminKey, "pia")
	revID, rev := provisionReviewer(t, d, "Rita Reviewer", "rita@example.com")
	c := openCase(t, d, "pia", pia)
	waitState(t, d.base, pia, c.ID, "pending_confirmation")

	// The seller disputes one order's feedback; a dispute without its message is refused beside the order's form.
	seller := browser(t)
	signIn(t, seller, d, "pia@example.com")
	do(t, seller, "open the case", chromedp.Navigate(d.base+"/cases/"+c.ID), chromedp.WaitVisible("#dispute-orders", chromedp.ByQuery))
	if got := text(t, seller, "#case-state"); got != "pending confirmation" {
		t.Errorf("the seller sees the case %q", got)
	}
	do(t, seller, "send a dispute without a message", chromedp.Click("#order-pia-o0 summary", chromedp.ByQuery),
		submit("#dispute-submit-pia-o0"), chromedp.WaitVisible("#message-error-pia-o0", chromedp.ByQuery))
	if got := text(t, seller, "#message-error-pia-o0"); !strings.Contains(got, "required") {
		t.Errorf("the error beside the message: %q", got)
	}
	const why = "The buyer rated the colour of the product, not our service: see their note on the order."
	do(t, seller, "send the dispute",
		setValue("#defect-pia-o0", "negative_feedback"), setValue("#reason-pia-o0", "product_feedback"),
		setValue("#dispute-message-pia-o0", why))
	screenshot(t, seller, "seller-dispute-form")
	do(t, seller, "submit the dispute", submit("#dispute-submit-pia-o0"), chromedp.WaitVisible("#flash", chromedp.ByQuery))
	if got := text(t, seller, "#flash"); !strings.Contains(got, "of order pia-o0 is with a reviewer") {
		t.Errorf("after the dispute: %q", got)
	}
	if got := text(t, seller, "#case-disputes"); !strings.Contains(got, "pia-o0") || !strings.Contains(got, "open") {
		t.Errorf("the case's disputes: %q", got)
	}
	var queue struct {
		Disputes []disputeResp `json:"disputes"`
	}
	call(t, "GET", d.base+"/v1/disputes?status=open", rev, nil, &queue)
	if len(queue.Disputes) != 1 || queue.Disputes[0].OrderID != "pia-o0" || queue.Disputes[0].CaseID == nil || *queue.Disputes[0].CaseID != c.ID {
		t.Fatalf("open disputes after the form: %+v", queue.Disputes)
	}
	disputeID := queue.Disputes[0].ID

	// The reviewer: the suspension waits first in the queue; the dispute is upheld beside the order's history.
	reviewer := browser(t)
	signIn(t, reviewer, d, "rita@example.com")
	if got := text(t, reviewer, "#pending"); !strings.Contains(got, c.ID) {
		t.Errorf("the queue's suspensions waiting for confirmation: %q", got)
	}
	screenshot(t, reviewer, "reviewer-queue-pending")
	do(t, reviewer, "open the disputes", chromedp.Navigate(d.base+"/review/disputes"), chromedp.WaitVisible("#disputes", chromedp.ByQuery))
	screenshot(t, reviewer, "reviewer-disputes")
	do(t, reviewer, "open the dispute", chromedp.Click("#disputes tbody tr td a", chromedp.ByQuery), chromedp.WaitVisible("#order-history", chromedp.ByQuery))
	if got := text(t, reviewer, "#order-history"); !strings.Contains(got, "feedback, latest rating 1 of 5") || !strings.Contains(got, "delivered") {
		t.Errorf("the order's history: %q", got)
	}
	if got := text(t, reviewer, "#dispute-message"); got != why {
		t.Errorf("the seller's words: %q", got)
	}
	do(t, reviewer, "fill the decision", setValue("#decision", "upheld"), setValue("#message", "The feedback is about the product; it no longer counts."))
	screenshot(t, reviewer, "reviewer-dispute")
	do(t, reviewer, "uphold", submit("#submit-dispute"), chromedp.WaitVisible("#flash", chromedp.ByQuery))
	if got := text(t, reviewer, "#flash"); !strings.Contains(got, "the dispute is upheld") {
		t.Errorf("after upholding: %q", got)
	}
	call(t, "GET", d.base+"/v1/disputes?status=upheld", rev, nil, &queue)
	if len(queue.Disputes) != 1 || queue.Disputes[0].ID != disputeID {
		t.Errorf("upheld disputes after the form: %+v", queue.Disputes)
	}

	// The reviewer confirms the suspension from the case page.
	do(t, reviewer, "open the case", chromedp.Navigate(d.base+"/cases/"+c.ID), chromedp.WaitVisible("#submit-action", chromedp.ByQuery),
		setValue("#decision", "confirm"), setValue("#message", "Four other buyers complained; the breach stands."))
	screenshot(t, reviewer, "reviewer-confirm")
	do(t, reviewer, "confirm", submit("#submit-action"), chromedp.WaitVisible("#case-state", chromedp.ByQuery))
	if got := text(t, reviewer, "#case-state"); got != "enforced" {
		t.Errorf("after confirming the page says %q", got)
	}
	confirmed := waitState(t, d.base, pia, c.ID, "enforced")
	last := confirmed.Timeline[len(confirmed.Timeline)-1]
	if confirmed.Enforcement != "account_suspension" || last.Type != "confirmed" || last.Actor != "reviewer:"+revID {
		t.Errorf("after confirming: %s, last %+v", confirmed.Enforcement, last)
	}

	// The seller appeals with a file: one that is not a document is refused beside the field, nothing kept.
	dir := t.TempDir()
	letter := filepath.Join(dir, "carrier-letter.png")
	pngData := writePNG(t, letter)
	fake := filepath.Join(dir, "invoice.pdf")
	if err := os.WriteFile(fake, []byte("<html><body>not a PDF</body></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, seller, "the case, now enforced", chromedp.Navigate(d.base+"/cases/"+c.ID), chromedp.WaitVisible("#submit-poa", chromedp.ByQuery))
	if got := text(t, seller, "#case-disputes"); !strings.Contains(got, "upheld") || !strings.Contains(got, "no longer counts") {
		t.Errorf("the seller's disputes after the decision: %q", got)
	}
	do(t, seller, "appeal with a file that is not a document",
		setValue("#root_cause", goodPOA["root_cause"]), setValue("#corrective_actions", goodPOA["corrective_actions"]),
		setValue("#preventive_measures", goodPOA["preventive_measures"]),
		chromedp.SetUploadFiles("#file", []string{fake}, chromedp.ByQuery),
		submit("#submit-poa"), chromedp.WaitVisible("#file-error", chromedp.ByQuery))
	if got := text(t, seller, "#file-error"); !strings.Contains(got, "must be a PDF, PNG or JPEG") {
		t.Errorf("the error beside the file: %q", got)
	}
	var full struct {
		Attachments []struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			ContentType string `json:"content_type"`
		} `json:"attachments"`
		Appeals []struct {
			ID            string   `json:"id"`
			AttachmentIDs []string `json:"attachment_ids"`
		} `json:"appeals"`
	}
	call(t, "GET", d.base+"/v1/cases/"+c.ID, pia, nil, &full)
	if len(full.Attachments) != 0 || len(full.Appeals) != 0 {
		t.Fatalf("a refused plan left %+v", full)
	}
	do(t, seller, "appeal with the carrier's letter", chromedp.SetUploadFiles("#file", []string{letter}, chromedp.ByQuery))
	screenshot(t, seller, "seller-appeal-file")
	do(t, seller, "submit", submit("#submit-poa"), chromedp.WaitVisible("#flash", chromedp.ByQuery))
	if got := text(t, seller, "#flash"); !strings.Contains(got, "was submitted") {
		t.Errorf("after the appeal: %q", got)
	}
	if got := text(t, seller, "article.poa .appeal-files"); !strings.Contains(got, "carrier-letter.png") {
		t.Errorf("the appeal's files: %q", got)
	}
	screenshot(t, seller, "seller-appeal-submitted")
	call(t, "GET", d.base+"/v1/cases/"+c.ID, pia, nil, &full)
	if len(full.Attachments) != 1 || full.Attachments[0].Name != "carrier-letter.png" || full.Attachments[0].ContentType != "image/png" ||
		len(full.Appeals) != 1 || strings.Join(full.Appeals[0].AttachmentIDs, ",") != full.Attachments[0].ID {
		t.Fatalf("the case after the appeal: %+v", full)
	}

	// The reviewer sees the file on the case and downloads it.
	do(t, reviewer, "the case's files", chromedp.Navigate(d.base+"/cases/"+c.ID), chromedp.WaitVisible("#files", chromedp.ByQuery))
	if got := text(t, reviewer, "#files"); !strings.Contains(got, "carrier-letter.png") || !strings.Contains(got, "seller:pia") {
		t.Errorf("the files the reviewer sees: %q", got)
	}
	screenshot(t, reviewer, "reviewer-case-files")
	req, _ := http.NewRequest("GET", d.base+"/v1/attachments/"+full.Attachments[0].ID, nil)
	req.Header.Set("Authorization", "Bearer "+rev)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, pngData) {
		t.Errorf("the reviewer's download: %d, %d bytes, want %d", resp.StatusCode, len(got), len(pngData))
	}
}
