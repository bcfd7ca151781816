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
