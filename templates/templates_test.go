package templates

import (
	"strings"
	"testing"
	"time"
)

func TestEveryMailRendersBothParts(t *testing.T) {
	v := 0.125
	d := MailData{CaseID: "c_abc", CaseURL: "http://x/cases/c_abc", AppealURL: "http://x/v1/cases/c_abc/appeals",
		SellerID: "acme", SellerName: "Acme <b>Shop</b>", Kind: "metric_breach", Enforcement: "account_suspension",
		Automated: true, Deadline: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), Metric: "odr", MetricTitle: "Order Defect Rate",
		Rule: "orders with a defect", Numerator: 5, Denominator: 40, Value: &v, TargetOp: "<", TargetValue: 0.01, WindowDays: 60,
		EvidenceIDs: []string{"o1", "o2"}, MoreEvidence: 3, Recommendations: []string{"Answer buyers."},
		AppealID: "a_1", AppealsLeft: 2, ReasonCode: "actions_not_specific", Message: "Say <script>what</script> you changed."}
	for _, name := range Names {
		m, err := Render(name, d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(m.Subject, "c_abc") || m.Text == "" || m.HTML == "" || strings.Contains(m.Subject, "\n") {
			t.Errorf("%s: subject %q, %d bytes text, %d bytes html", name, m.Subject, len(m.Text), len(m.HTML))
		}
		if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<b>Shop") {
			t.Errorf("%s: the HTML part does not escape what users wrote", name)
		}
	}
	w, _ := Render(Warning, d)
	for _, want := range []string{"12.5%", "< 1%", "5 of 40", "o1, o2 and 3 more", "automatically", "Answer buyers."} {
		if !strings.Contains(w.Text, want) {
			t.Errorf("warning text lacks %q:\n%s", want, w.Text)
		}
	}
	r, _ := Render(Rejected, d)
	if !strings.Contains(r.Text, "actions not specific") || !strings.Contains(r.Text, "you changed") || !strings.Contains(r.Text, "2 appeal(s) left") {
		t.Errorf("rejection lacks its reason, message or appeals left:\n%s", r.Text)
	}
}

func TestStandingMailsRender(t *testing.T) {
	v := 0.03
	d := MailData{SellerName: "Acme <b>Shop</b>", DashboardURL: "http://x/", Quarter: "2026-Q3", Tier: "advanced", PreviousTier: "standard",
		Criteria: []Criterion{{Metric: "late_shipment_rate", Value: &v, Numerator: 6, Denominator: 200, Op: "<=", Target: 0.02}},
		Benefits: []string{"Priority <i>support</i>"}, NextTier: "premium", Gaps: []Gap{{Advice: "2 fewer late shipments would have reached Premium."}},
		ProgramTitle: "Business seller program", ProgramURL: "http://x/v1/sellers/acme/programs/business", WindowDays: 90}
	for _, name := range Standing {
		m, err := Render(name, d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Text == "" || m.HTML == "" || strings.Contains(m.Subject, "\n") || strings.Contains(m.HTML, "<b>Shop") || strings.Contains(m.HTML, "<i>support") {
			t.Errorf("%s: subject %q, text %d bytes, html escaped? %q", name, m.Subject, len(m.Text), m.HTML)
		}
	}
	m, _ := Render(TierChanged, d)
	for _, want := range []string{"2026-Q3", "advanced", "was standard", "3%", "6 of 200", "not met", "2 fewer late shipments"} {
		if !strings.Contains(m.Text+m.Subject, want) {
			t.Errorf("tier mail lacks %q:\n%s", want, m.Text)
		}
	}
	m, _ = Render(ProgramRevoked, d)
	if !strings.Contains(m.Text, "Late Shipment Rate: 3%") {
		t.Errorf("revocation does not name the criterion missed:\n%s", m.Text)
	}
}

// TestDisputeMailsRender: each dispute mail renders both parts, escapes what
// people wrote, names the case when there is one (and is readable without), and
// the decision says specifically what changes or stays.
func TestDisputeMailsRender(t *testing.T) {
	base := MailData{SellerID: "acme", SellerName: "Acme <b>Shop</b>", DashboardURL: "http://x/", DisputeID: "D-1",
		DisputeURL: "http://x/review/disputes/D-1", OrderID: "o-42", Defects: []string{"negative_feedback"},
		DefectMetrics: []string{"odr", "negative_feedback_rate"}, DisputeReason: "wrong_order",
		Message: "About <script>another</script> shop.", Reviewer: "Rita Reviewer"}
	withCase := base
	withCase.CaseID, withCase.CaseURL = "C-9", "http://x/cases/C-9"
	for _, d := range []MailData{base, withCase} {
		for _, decision := range []string{"upheld", "denied"} {
			d.Decision = decision
			for _, name := range Disputes {
				m, err := Render(name, d)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if m.Text == "" || strings.Contains(m.Subject, "\n") || !strings.Contains(m.Subject, "D-1") || !strings.Contains(m.Subject, "o-42") {
					t.Errorf("%s: subject %q, %d bytes text", name, m.Subject, len(m.Text))
				}
				if (d.CaseID != "") != strings.Contains(m.Subject, "[Case C-9]") || (d.CaseID != "") != strings.Contains(m.Text, "C-9") {
					t.Errorf("%s (case %q): the subject or text names the case wrongly: %q\n%s", name, d.CaseID, m.Subject, m.Text)
				}
				if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<b>Shop") || !strings.Contains(m.HTML, "</html>") {
					t.Errorf("%s: the HTML part does not escape what users wrote, or is cut:\n%s", name, m.HTML)
				}
				for _, want := range []string{"negative feedback", "o-42", "Order Defect Rate and Negative Feedback Rate", "wrong order", "another"} {
					if !strings.Contains(m.Text, want) {
						t.Errorf("%s lacks %q:\n%s", name, want, m.Text)
					}
				}
			}
		}
	}
	d := withCase
	d.Decision = "upheld"
	up, _ := Render(DisputeDecided, d)
	for _, want := range []string{"upheld", "Rita Reviewer", "no longer counts", "removed from your Order Defect Rate and Negative Feedback Rate",
		"from the next evaluation on", "no longer appears in their evidence", "case C-9", "new rating"} {
		if !strings.Contains(up.Subject+up.Text, want) {
			t.Errorf("the upheld mail lacks %q:\n%s\n%s", want, up.Subject, up.Text)
		}
	}
	d.Decision = "denied"
	down, _ := Render(DisputeDecided, d)
	for _, want := range []string{"denied", "still counts in your Order Defect Rate", "cannot be disputed again", "A later rating"} {
		if !strings.Contains(down.Subject+down.Text, want) {
			t.Errorf("the denied mail lacks %q:\n%s\n%s", want, down.Subject, down.Text)
		}
	}
	if strings.Contains(down.Text, "no longer") {
		t.Errorf("the denied mail says the defect no longer counts:\n%s", down.Text)
	}
	d.Decision, d.Defects, d.DefectMetrics = "upheld", []string{"late_shipment", "return"}, []string{"late_shipment_rate", "return_rate"}
	late, _ := Render(DisputeDecided, d)
	if !strings.Contains(late.Text, "late shipment and return of order o-42 is removed from your Late Shipment Rate and Return Rate") ||
		strings.Contains(late.Text, "new rating") {
		t.Errorf("an upheld late shipment and return:\n%s", late.Text)
	}
}
