package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

func confirmingPolicy() health.CasePolicy {
	p := defaultCasePolicy()
	p.ConfirmSuspension = true
	return p
}

func confirmation(d health.ConfirmDecision) flow.ConfirmationRequest {
	return flow.ConfirmationRequest{ReviewerID: "r1", ReviewerName: "Rita", Decision: d, ReasonCode: "measurement_error", Message: "Checked the orders myself."}
}

func (ct *caseTest) query(d time.Duration, into *health.Case) {
	ct.at(d, func() {
		if v, err := ct.env.QueryWorkflow(flow.QueryCase); err == nil {
			_ = v.Get(into)
		}
	})
}

func TestConfirmedSuspension(t *testing.T) {
	p := confirmingPolicy()
	ct := newCaseTest(t, p)
	ct.signal(0, breach("e1"))
	var pending health.Case
	ct.query(7*day+time.Hour, &pending)
	early := ct.update(7*day+2*time.Hour, flow.UpdateAppeal, poa("a0"))
	ok := ct.update(7*day+3*time.Hour, flow.UpdateConfirm, confirmation(health.ConfirmIt))
	c := ct.run(metricCase(health.Suspend, p)) // no appeal: the appeal window ends it
	if pending.State != health.PendingConfirmation || pending.Enforcement != health.NoEnforcement {
		t.Errorf("after the grace: %s, %s", pending.State, pending.Enforcement)
	}
	if early.rejected == nil || ok.rejected != nil || ok.err != nil {
		t.Errorf("appeal while pending %+v, confirmation %+v", early, ok)
	}
	if ct.types() != "opened pending_confirmation confirmed deactivated" || c.State != health.Deactivated {
		t.Errorf("records %q, state %s", ct.types(), c.State)
	}
	conf := ct.records[2]
	if conf.Actor != "reviewer:r1" || conf.Reviewer != "Rita" || conf.Case.Enforcement != health.AccountSuspension ||
		!conf.Case.Deadline.Equal(conf.At.Add(p.AppealWindow)) {
		t.Errorf("confirmation %+v", conf)
	}
	if ch, _ := health.CaseRatingChange(conf.Case, conf.From); ch.Delta != -180 {
		t.Errorf("confirming takes %d, want the suspension's 200 less the notice's 20", ch.Delta)
	}
	if got := strings.Join(ct.mails, " "); got != "warning pending_confirmation enforcement deactivated" {
		t.Errorf("mails %q", got)
	}
}

func TestWithdrawnAtConfirmation(t *testing.T) {
	p := confirmingPolicy()
	ct := newCaseTest(t, p)
	ct.signal(0, breach("e1"))
	bad := ct.update(7*day+time.Hour, flow.UpdateConfirm, flow.ConfirmationRequest{ReviewerID: "r1", Decision: health.WithdrawIt})
	w := ct.update(7*day+2*time.Hour, flow.UpdateConfirm, confirmation(health.WithdrawIt))
	c := ct.run(metricCase(health.Suspend, p))
	if bad.rejected == nil || w.rejected != nil || w.err != nil {
		t.Errorf("withdrawal without reason %+v, withdrawal %+v", bad, w)
	}
	if c.State != health.Withdrawn || ct.types() != "opened pending_confirmation withdrawn" {
		t.Errorf("state %s, records %q", c.State, ct.types())
	}
	last := ct.records[2]
	if ch, _ := health.CaseRatingChange(last.Case, last.From); ch.Delta != 20 {
		t.Errorf("withdrawing a pending case gives back %d, want the notice's 20", ch.Delta)
	}
}

func TestConfirmationSLAEscalatesOnceAndNothingSuspends(t *testing.T) {
	p := confirmingPolicy()
	ct := newCaseTest(t, p)
	ct.signal(0, breach("e1"))
	var still health.Case
	ct.query(7*day+10*day, &still) // long after the SLA: still waiting for a person
	ct.update(7*day+10*day+time.Hour, flow.UpdateConfirm, confirmation(health.WithdrawIt))
	c := ct.run(metricCase(health.Suspend, p))
	if still.State != health.PendingConfirmation || still.Enforcement != health.NoEnforcement || !still.Escalated {
		t.Errorf("ten days on: %+v", still)
	}
	if ct.types() != "opened pending_confirmation confirmation_escalated withdrawn" || c.State != health.Withdrawn {
		t.Errorf("records %q, state %s", ct.types(), c.State)
	}
	esc := ct.records[2]
	if !esc.At.Equal(ct.records[1].At.Add(24*time.Hour)) || esc.Mail[0].To != flow.ToReviewers || esc.Mail[0].Template != "confirmation_escalation" {
		t.Errorf("escalation %+v", esc)
	}
}

func TestRecoveryWhilePendingResolves(t *testing.T) {
	p := confirmingPolicy()
	ct := newCaseTest(t, p)
	ct.signal(0, breach("e1"))
	ct.signal(7*day+time.Hour, flow.Observation{EvaluationID: "e2", Status: health.Good})
	late := ct.update(7*day+2*time.Hour, flow.UpdateConfirm, confirmation(health.ConfirmIt))
	c := ct.run(metricCase(health.Suspend, p))
	if c.State != health.Resolved || ct.types() != "opened pending_confirmation recovered" {
		t.Errorf("state %s, records %q", c.State, ct.types())
	}
	if late.done && late.rejected == nil && late.err == nil {
		t.Errorf("a confirmation after the recovery went through: %+v", late)
	}
}

func TestConfirmationOffEnforcesAsBefore(t *testing.T) {
	p := defaultCasePolicy()
	ct := newCaseTest(t, p)
	ct.signal(0, breach("e1"))
	ct.update(8*day, flow.UpdateWithdraw, withdrawal())
	c := ct.run(metricCase(health.Restrict, confirmingPolicy())) // only suspensions wait
	if ct.types() != "opened enforced withdrawn" || c.State != health.Withdrawn || c.Lifted != health.OfferRestriction {
		t.Errorf("records %q, state %s, lifted %s", ct.types(), c.State, c.Lifted)
	}
}
