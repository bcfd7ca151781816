package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

const day = 24 * time.Hour

// caseTest runs CaseWorkflow in the test environment, with Record recording every
// transition and Recheck answering what the test says the metric is.
type caseTest struct {
	t        *testing.T
	env      *testsuite.TestWorkflowEnvironment
	mu       sync.Mutex
	records  []flow.RecordInput
	recheck  health.Status
	rechecks int
	mails    []string
}

func newCaseTest(t *testing.T, p health.CasePolicy) *caseTest {
	var ts testsuite.WorkflowTestSuite
	ct := &caseTest{t: t, env: ts.NewTestWorkflowEnvironment(), recheck: health.Bad}
	a := &activities.Cases{}
	ct.env.RegisterActivity(a)
	ct.env.OnActivity(a.Record, mock.Anything, mock.Anything).Return(func(_ context.Context, in flow.RecordInput) ([]string, error) {
		ct.mu.Lock()
		defer ct.mu.Unlock()
		ct.records = append(ct.records, in)
		var keys []string
		for _, m := range in.Mail {
			keys = append(keys, in.Case.ID+"/"+m.Template)
		}
		return keys, nil
	})
	ct.env.OnActivity(a.Deliver, mock.Anything, mock.Anything).Return(func(_ context.Context, key string) error {
		ct.mu.Lock()
		defer ct.mu.Unlock()
		ct.mails = append(ct.mails, key[strings.LastIndexByte(key, '/')+1:])
		return nil
	})
	ct.env.OnActivity(a.Recheck, mock.Anything, mock.Anything).Return(func(context.Context, flow.RecheckInput) (flow.Observation, error) {
		ct.rechecks++
		return flow.Observation{Status: ct.recheck}, nil
	})
	return ct
}

func defaultCasePolicy() health.CasePolicy { return health.DefaultPolicy().Cases }

func breach(eval string) flow.Observation {
	return flow.Observation{EvaluationID: eval, Status: health.Bad, Evidence: flow.Evidence{Numerator: 3, Denominator: 100}}
}

// at schedules fn at offset d from the start.
func (ct *caseTest) at(d time.Duration, fn func()) { ct.env.RegisterDelayedCallback(fn, d) }

func (ct *caseTest) signal(d time.Duration, o flow.Observation) {
	ct.at(d, func() { ct.env.SignalWorkflow(flow.SignalObservation, o) })
}

// update sends an update at d and keeps its outcome.
type outcome struct {
	rejected error
	result   flow.Appeal
	err      error
	done     bool
}

func (ct *caseTest) update(d time.Duration, name string, arg any) *outcome {
	o := &outcome{}
	ct.at(d, func() {
		ct.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { o.rejected, o.done = err, true },
			OnComplete: func(res any, err error) {
				o.err, o.done = err, true
				if r, ok := res.(flow.Appeal); ok {
					o.result = r
				}
			},
		}, arg)
	})
	return o
}

func (ct *caseTest) run(in flow.CaseInput) health.Case {
	ct.t.Helper()
	ct.env.ExecuteWorkflow(CaseWorkflow, in)
	if err := ct.env.GetWorkflowError(); err != nil {
		ct.t.Fatalf("workflow: %v", err)
	}
	var c health.Case
	if err := ct.env.GetWorkflowResult(&c); err != nil {
		ct.t.Fatal(err)
	}
	return c
}

func (ct *caseTest) types() string {
	var s []string
	for _, r := range ct.records {
		s = append(s, r.Type)
	}
	return strings.Join(s, " ")
}

func metricCase(a health.Action, p health.CasePolicy) flow.CaseInput {
	return flow.CaseInput{SellerID: "acme", Kind: health.MetricBreach, Metric: health.ODR, Action: a, Policy: p}
}

func poa(id string) flow.AppealRequest {
	return flow.AppealRequest{AppealID: id, RootCause: "Our courier lost a batch of parcels in June.",
		CorrectiveActions: "We refunded every buyer and replaced the courier.", PreventiveMeasures: "We now scan every parcel at hand-over."}
}

func decision(id string, d health.Decision) flow.DecisionRequest {
	return flow.DecisionRequest{AppealID: id, ReviewerID: "r1", Decision: d, ReasonCode: "actions_not_specific", Message: "Say which courier and when."}
}

func TestRecoveryDuringGraceResolves(t *testing.T) {
	ct := newCaseTest(t, defaultCasePolicy())
	ct.signal(0, breach("e1"))
	ct.signal(2*day, breach("e2"))
	ct.signal(2*day+time.Hour, breach("e2")) // the same evaluation again (a retried activity): noted once
	ct.signal(3*day, flow.Observation{EvaluationID: "e3", Status: health.Good})
	c := ct.run(metricCase(health.Suspend, defaultCasePolicy()))
	if c.State != health.Resolved || ct.types() != "opened breach_observed recovered" {
		t.Errorf("state %s, records %q", c.State, ct.types())
	}
	if strings.Join(ct.mails, " ") != "warning resolved" || ct.rechecks != 0 {
		t.Errorf("mails %v, rechecks %d", ct.mails, ct.rechecks)
	}
}

func TestGraceEndingInBreachEnforces(t *testing.T) {
	p := defaultCasePolicy()
	ct := newCaseTest(t, p)
	ct.signal(0, breach("e1"))
	var during health.Case
	ct.at(7*day-time.Minute, func() {
		v, err := ct.env.QueryWorkflow(flow.QueryCase)
		if err == nil {
			_ = v.Get(&during)
		}
	})
	c := ct.run(metricCase(health.Suspend, p)) // no appeal: the appeal window ends it
	if during.State != health.Warned {
		t.Errorf("a minute before the grace ended the case was %s", during.State)
	}
	if ct.types() != "opened enforced deactivated" || c.State != health.Deactivated || ct.rechecks != 1 {
		t.Errorf("records %q, state %s, rechecks %d", ct.types(), c.State, ct.rechecks)
	}
	enf := ct.records[1]
	if enf.Case.Enforcement != health.AccountSuspension || !enf.At.Equal(ct.records[0].At.Add(7*day)) {
		t.Errorf("enforced %s at %v, want account_suspension 7 days after %v", enf.Case.Enforcement, enf.At, ct.records[0].At)
	}
	if deact := ct.records[2]; !deact.At.Equal(enf.At.Add(30 * day)) {
		t.Errorf("deactivated at %v, want the appeal window (30 days) after %v", deact.At, enf.At)
	}
}

func TestGraceEndRecheckFindsRecovery(t *testing.T) {
	ct := newCaseTest(t, defaultCasePolicy())
	ct.recheck = health.Good
	ct.signal(0, breach("e1"))
	c := ct.run(metricCase(health.Restrict, defaultCasePolicy()))
	if c.State != health.Resolved || ct.types() != "opened recovered" || ct.rechecks != 1 {
		t.Errorf("state %s, records %q, rechecks %d", c.State, ct.types(), ct.rechecks)
	}
}

func TestRejectionThenSecondAppealThenApproval(t *testing.T) {
	ct := newCaseTest(t, defaultCasePolicy())
	ct.signal(0, breach("e1"))
	a1 := ct.update(8*day, flow.UpdateAppeal, poa("a1"))
	d1 := ct.update(9*day, flow.UpdateDecision, decision("a1", health.Reject))
	a2 := ct.update(10*day, flow.UpdateAppeal, poa("a2"))
	d2 := ct.update(11*day, flow.UpdateDecision, flow.DecisionRequest{AppealID: "a2", ReviewerID: "r2", Decision: health.Approve})
	c := ct.run(metricCase(health.Suspend, defaultCasePolicy()))
	for i, o := range []*outcome{a1, d1, a2, d2} {
		if !o.done || o.rejected != nil || o.err != nil {
			t.Errorf("request %d: %+v", i, o)
		}
	}
	if c.State != health.Reinstated || c.AppealsUsed != 2 {
		t.Errorf("state %s after %d appeals", c.State, c.AppealsUsed)
	}
	if ct.types() != "opened enforced appeal_submitted appeal_rejected appeal_submitted reinstated" {
		t.Errorf("records %q", ct.types())
	}
	if d1.result.Status != flow.AppealRejected || *d1.result.ReasonCode != "actions_not_specific" || d2.result.Status != flow.AppealApproved {
		t.Errorf("decisions: %+v / %+v", d1.result, d2.result)
	}
	if got := strings.Join(ct.mails, " "); got != "warning enforcement appeal_received rejected appeal_received reinstated" {
		t.Errorf("mails %q", got)
	}
}

func TestAppealsExhaustedDeactivates(t *testing.T) {
	p := defaultCasePolicy()
	p.MaxAppeals = 2
	ct := newCaseTest(t, p)
	ct.signal(0, breach("e1"))
	ct.update(8*day, flow.UpdateAppeal, poa("a1"))
	ct.update(9*day, flow.UpdateDecision, decision("a1", health.Reject))
	ct.update(10*day, flow.UpdateAppeal, poa("a2"))
	ct.update(11*day, flow.UpdateDecision, decision("a2", health.Reject))
	c := ct.run(metricCase(health.Suspend, p))
	if c.State != health.Deactivated || !strings.HasSuffix(ct.types(), "appeal_rejected appeal_submitted deactivated") {
		t.Errorf("state %s, records %q", c.State, ct.types())
	}
	if !strings.HasSuffix(strings.Join(ct.mails, " "), "rejected deactivated") {
		t.Errorf("mails %v: the last rejection and the final deactivation both go out", ct.mails)
	}
}

func TestAThirdAppealAfterTheLastIsRefused(t *testing.T) {
	p := defaultCasePolicy()
	p.MaxAppeals = 1
	ct := newCaseTest(t, p)
	ct.signal(0, breach("e1"))
	ct.update(8*day, flow.UpdateAppeal, poa("a1"))
	ct.update(9*day, flow.UpdateDecision, decision("a1", health.Reject))
	late := ct.update(9*day+time.Hour, flow.UpdateAppeal, poa("a2"))
	c := ct.run(metricCase(health.Suspend, p))
	// The case is final and its run has ended: the late appeal is never accepted
	// (over the API the closed run answers 409).
	if c.State != health.Deactivated || (late.done && late.rejected == nil && late.err == nil) {
		t.Errorf("state %s, late appeal %+v", c.State, late)
	}
}

func TestInfoRequestAnsweredAndLeftToExpire(t *testing.T) {
	t.Run("answered", func(t *testing.T) {
		ct := newCaseTest(t, defaultCasePolicy())
		ct.signal(0, breach("e1"))
		ct.update(8*day, flow.UpdateAppeal, poa("a1"))
		ct.update(9*day, flow.UpdateDecision, decision("a1", health.RequestInfo))
		answer := ct.update(12*day, flow.UpdateAppeal, poa("a1b"))
		ct.update(13*day, flow.UpdateDecision, flow.DecisionRequest{AppealID: "a1b", ReviewerID: "r1", Decision: health.Approve})
		c := ct.run(metricCase(health.Suspend, defaultCasePolicy()))
		if c.State != health.Reinstated || c.AppealsUsed != 1 || answer.err != nil {
			t.Errorf("state %s, appeals used %d (an answer uses none), answer %+v", c.State, c.AppealsUsed, answer)
		}
		if ct.types() != "opened enforced appeal_submitted info_requested info_provided reinstated" {
			t.Errorf("records %q", ct.types())
		}
	})
	t.Run("left to expire", func(t *testing.T) {
		ct := newCaseTest(t, defaultCasePolicy())
		ct.signal(0, breach("e1"))
		ct.update(8*day, flow.UpdateAppeal, poa("a1"))
		ct.update(9*day, flow.UpdateDecision, decision("a1", health.RequestInfo))
		c := ct.run(metricCase(health.Suspend, defaultCasePolicy()))
		last := ct.records[len(ct.records)-1]
		if c.State != health.Deactivated || last.From != health.InfoRequested || !last.At.Equal(ct.records[len(ct.records)-2].At.Add(14*day)) {
			t.Errorf("state %s, last record %+v", c.State, last)
		}
	})
}

func TestReviewSLAEscalatesOnce(t *testing.T) {
	ct := newCaseTest(t, defaultCasePolicy())
	ct.signal(0, breach("e1"))
	ct.update(8*day, flow.UpdateAppeal, poa("a1"))
	ct.signal(8*day+3*day, breach("e2")) // an evaluation after the escalation: noted, and the case waits on
	ct.update(8*day+5*day, flow.UpdateDecision, flow.DecisionRequest{AppealID: "a1", ReviewerID: "r1", Decision: health.Approve})
	c := ct.run(metricCase(health.Suspend, defaultCasePolicy()))
	if c.State != health.Reinstated || ct.types() != "opened enforced appeal_submitted escalated breach_observed reinstated" {
		t.Errorf("state %s, records %q", c.State, ct.types())
	}
	esc := ct.records[3]
	if !esc.At.Equal(ct.records[2].At.Add(48*time.Hour)) || esc.Mail[0].To != flow.ToReviewers || !esc.Case.Escalated {
		t.Errorf("escalation %+v", esc)
	}
}

func TestTwoDecisionsRacing(t *testing.T) {
	ct := newCaseTest(t, defaultCasePolicy())
	ct.signal(0, breach("e1"))
	ct.update(8*day, flow.UpdateAppeal, poa("a1"))
	first := ct.update(9*day, flow.UpdateDecision, flow.DecisionRequest{AppealID: "a1", ReviewerID: "r1", Decision: health.Approve})
	second := ct.update(9*day, flow.UpdateDecision, decision("a1", health.Reject))
	c := ct.run(metricCase(health.Suspend, defaultCasePolicy()))
	won := 0
	for _, o := range []*outcome{first, second} {
		if o.rejected == nil && o.err == nil {
			won++
		}
	}
	if won != 1 || c.State != health.Reinstated {
		t.Errorf("%d decisions won (want 1), state %s; first %+v second %+v", won, c.State, first, second)
	}
}

func TestAppealInAStateThatTakesNone(t *testing.T) {
	ct := newCaseTest(t, defaultCasePolicy())
	ct.signal(0, breach("e1"))
	early := ct.update(day, flow.UpdateAppeal, poa("a0")) // still warned
	short := ct.update(8*day, flow.UpdateAppeal, flow.AppealRequest{AppealID: "a1", RootCause: "x", CorrectiveActions: "y", PreventiveMeasures: "z"})
	orphan := ct.update(8*day, flow.UpdateDecision, decision("nope", health.Approve))
	ct.signal(8*day+time.Hour, flow.Observation{EvaluationID: "e9", Status: health.Good}) // an enforced case does not close by itself
	c := ct.run(metricCase(health.Suspend, defaultCasePolicy()))
	if early.rejected == nil || !strings.Contains(early.rejected.Error(), "grace period") {
		t.Errorf("appeal while warned: %+v", early)
	}
	if short.rejected == nil || orphan.rejected == nil {
		t.Errorf("short plan %+v, decision without an appeal %+v", short, orphan)
	}
	if c.State != health.Deactivated {
		t.Errorf("state %s", c.State)
	}
}

func TestNotifyOnlyNeverEnforces(t *testing.T) {
	ct := newCaseTest(t, defaultCasePolicy())
	ct.signal(0, breach("e1"))
	ct.signal(10*day, flow.Observation{EvaluationID: "e2", Status: health.Good})
	c := ct.run(metricCase(health.Notify, defaultCasePolicy()))
	if c.State != health.Resolved || c.Enforcement != health.NoEnforcement || ct.types() != "opened still_in_breach recovered" {
		t.Errorf("state %s %s, records %q", c.State, c.Enforcement, ct.types())
	}
	if ct.mails[0] != "notice" {
		t.Errorf("mails %v", ct.mails)
	}
}

func TestPolicyViolationIsEnforcedAtOnce(t *testing.T) {
	ct := newCaseTest(t, defaultCasePolicy())
	ct.update(time.Hour, flow.UpdateAppeal, poa("a1"))
	ct.update(2*time.Hour, flow.UpdateDecision, flow.DecisionRequest{AppealID: "a1", ReviewerID: "r1", Decision: health.Approve})
	c := ct.run(flow.CaseInput{SellerID: "acme", Kind: health.PolicyViolation, ListingID: "L1", Violation: "ip_complaint",
		Policy: defaultCasePolicy(), OpenedBy: "r1"})
	if c.State != health.Reinstated || c.Enforcement != health.ListingDeactivation || ct.records[0].Case.State != health.Enforced {
		t.Errorf("state %s %s, records %q", c.State, c.Enforcement, ct.types())
	}
}
