package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// A transition whose record fails for good (the database refused its data) is
// not retried for ever: the case stays as it was, the failure is on its
// timeline, the request that caused it is answered with flow.ErrNotRecorded,
// and the next request goes through as if nothing had happened.
func TestAPermanentRecordFailureLeavesTheCaseAsItWas(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	a := &activities.Cases{}
	env.RegisterActivity(a)
	var attempts int
	var written []flow.RecordInput // what reached the database
	env.OnActivity(a.Record, mock.Anything, mock.Anything).Return(func(_ context.Context, in flow.RecordInput) ([]string, error) {
		attempts++
		if in.Type == "appeal_submitted" && in.Appeal.ID == "poisoned" {
			return nil, temporal.NewNonRetryableApplicationError(`ERROR: new row violates check constraint (SQLSTATE 23514)`, flow.ErrPermanent, nil)
		}
		written = append(written, in)
		return nil, nil
	})
	env.OnActivity(a.Recheck, mock.Anything, mock.Anything).Return(flow.Observation{Status: health.Bad}, nil)
	env.OnActivity(a.Deliver, mock.Anything, mock.Anything).Return(nil)

	ct := &caseTest{t: t, env: env}
	ct.signal(0, breach("e1"))
	var during health.Case
	poisoned := ct.update(8*day, flow.UpdateAppeal, poa("poisoned"))
	ct.at(8*day+time.Hour, func() {
		if v, err := env.QueryWorkflow(flow.QueryCase); err == nil {
			_ = v.Get(&during)
		}
	})
	clean := ct.update(9*day, flow.UpdateAppeal, poa("clean"))
	ct.update(10*day, flow.UpdateDecision, flow.DecisionRequest{AppealID: "clean", ReviewerID: "r1", Decision: health.Approve})
	env.ExecuteWorkflow(CaseWorkflow, metricCase(health.Suspend, defaultCasePolicy()))
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var c health.Case
	if err := env.GetWorkflowResult(&c); err != nil {
		t.Fatal(err)
	}

	var app *temporal.ApplicationError
	if !poisoned.done || poisoned.err == nil || !errors.As(poisoned.err, &app) || app.Type() != flow.ErrNotRecorded {
		t.Fatalf("the poisoned appeal: %+v, want an answer of type %s", poisoned, flow.ErrNotRecorded)
	}
	if during.State != health.Enforced || during.AppealsUsed != 0 || during.Appeal != "" {
		t.Errorf("after the failed record the case is %s with %d appeals used (appeal %q), want enforced as before", during.State, during.AppealsUsed, during.Appeal)
	}
	if clean.err != nil || clean.rejected != nil || c.State != health.Reinstated || c.AppealsUsed != 1 {
		t.Errorf("the clean appeal %+v; the case ended %s with %d appeals used, want reinstated with 1", clean, c.State, c.AppealsUsed)
	}
	var types []string
	for _, r := range written {
		types = append(types, r.Type)
	}
	if got := strings.Join(types, " "); got != "opened enforced record_failed appeal_submitted reinstated" {
		t.Errorf("timeline %q", got)
	}
	for i, r := range written {
		if r.Seq != i+1 {
			t.Errorf("entry %d (%s) numbered %d: the timeline has a gap or a repeat", i, r.Type, r.Seq)
		}
	}
	if attempts != len(written)+1 {
		t.Errorf("%d record attempts for %d written: the failed one was retried", attempts, len(written))
	}
	if f := written[2]; f.From != health.Enforced || f.Case.State != health.Enforced || !strings.Contains(f.Detail["message"].(string), "23514") {
		t.Errorf("the failure entry: %+v", f)
	}
}
