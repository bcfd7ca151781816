package workflows

import (
	"strings"
	"testing"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

func withdrawal() flow.WithdrawalRequest {
	return flow.WithdrawalRequest{ReviewerID: "r1", ReviewerName: "Rita", ReasonCode: "measurement_error", Message: "The carrier's scans came in late."}
}

func TestWithdrawalOfAnAppealUnderReview(t *testing.T) {
	ct := newCaseTest(t, defaultCasePolicy())
	ct.signal(0, breach("e1"))
	ct.update(8*day, flow.UpdateAppeal, poa("a1"))
	w := ct.update(9*day, flow.UpdateWithdraw, withdrawal())
	c := ct.run(metricCase(health.Suspend, defaultCasePolicy()))
	if !w.done || w.rejected != nil || w.err != nil {
		t.Fatalf("withdrawal: %+v", w)
	}
	if c.State != health.Withdrawn || c.Enforcement != health.NoEnforcement || c.Lifted != health.AccountSuspension {
		t.Errorf("case %s, enforcement %s, lifted %s", c.State, c.Enforcement, c.Lifted)
	}
	if ct.types() != "opened enforced appeal_submitted withdrawn" {
		t.Errorf("records %q", ct.types())
	}
	last := ct.records[len(ct.records)-1]
	if last.From != health.UnderReview || last.Actor != "reviewer:r1" || last.ReasonCode != "measurement_error" || last.Reviewer != "Rita" ||
		last.Appeal == nil || last.Appeal.Status != flow.AppealWithdrawn || last.Appeal.DecidedAt == nil || *last.Appeal.Message != "The carrier's scans came in late." {
		t.Errorf("withdrawal record %+v appeal %+v", last, last.Appeal)
	}
	if ch, ok := health.CaseRatingChange(last.Case, last.From); !ok || ch.Delta != 200 {
		t.Errorf("rating change %+v %v, want +200 (the suspension's points given back)", ch, ok)
	}
	if got := strings.Join(ct.mails, " "); got != "warning enforcement appeal_received withdrawn" {
		t.Errorf("mails %q", got)
	}
}

func TestWithdrawalOfAWarning(t *testing.T) {
	ct := newCaseTest(t, defaultCasePolicy())
	ct.signal(0, breach("e1"))
	w := ct.update(day, flow.UpdateWithdraw, withdrawal())
	c := ct.run(metricCase(health.Suspend, defaultCasePolicy()))
	if w.rejected != nil || w.err != nil || c.State != health.Withdrawn || ct.types() != "opened withdrawn" || ct.rechecks != 0 {
		t.Errorf("withdrawal %+v, state %s, records %q, rechecks %d", w, c.State, ct.types(), ct.rechecks)
	}
	last := ct.records[len(ct.records)-1]
	if ch, _ := health.CaseRatingChange(last.Case, last.From); ch.Delta != 20 || last.Appeal != nil {
		t.Errorf("rating change %+v (want the notice's 20 back), appeal %+v", ch, last.Appeal)
	}
}

func TestWithdrawalRefused(t *testing.T) {
	ct := newCaseTest(t, defaultCasePolicy())
	ct.signal(0, breach("e1"))
	noReason := ct.update(day, flow.UpdateWithdraw, flow.WithdrawalRequest{ReviewerID: "r1", Message: "  "})
	first := ct.update(2*day, flow.UpdateWithdraw, withdrawal())
	again := ct.update(2*day, flow.UpdateWithdraw, withdrawal()) // racing the first: only one gets through
	c := ct.run(metricCase(health.Suspend, defaultCasePolicy()))
	if noReason.rejected == nil || !strings.Contains(noReason.rejected.Error(), "incomplete") {
		t.Errorf("a withdrawal without reason: %+v", noReason)
	}
	if first.err != nil || first.rejected != nil || (again.done && again.rejected == nil && again.err == nil) {
		t.Errorf("first %+v, again %+v", first, again)
	}
	if c.State != health.Withdrawn || ct.types() != "opened withdrawn" {
		t.Errorf("state %s, records %q", c.State, ct.types())
	}
}
