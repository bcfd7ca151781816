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
