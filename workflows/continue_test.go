package workflows

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// A notify-only case that stays in breach hears of every evaluation. Over 5,000
// observations it continues as new every maxObservationsPerRun, each run carrying
// the case, its timeline's numbering and what it has not yet applied, so the
// history of every run stays bounded and nothing is lost or written twice.
func TestALongCaseContinuesAsNewWithItsStateIntact(t *testing.T) {
	const observations = 5000
	const batch = maxObservationsPerRun + maxObservationsPerRun/4
	in := metricCase(health.Notify, defaultCasePolicy())
	var (
		records []flow.RecordInput
		runs    int
		sent    int // observations signalled so far, across runs
		perRun  []int
		final   health.Case
	)
	for {
		runs++
		if runs > 2*observations/maxObservationsPerRun+4 {
			t.Fatalf("%d runs for %d observations", runs, observations)
		}
		var ts testsuite.WorkflowTestSuite
		env := ts.NewTestWorkflowEnvironment()
		a := &activities.Cases{}
		env.RegisterActivity(a)
		before := len(records)
		env.OnActivity(a.Record, mock.Anything, mock.Anything).Return(func(_ context.Context, r flow.RecordInput) ([]string, error) {
			records = append(records, r)
			var keys []string
			for _, m := range r.Mail {
				keys = append(keys, r.Case.ID+"/"+m.Template)
			}
			return keys, nil
		})
		env.OnActivity(a.Deliver, mock.Anything, mock.Anything).Return(nil)
		env.OnActivity(a.Recheck, mock.Anything, mock.Anything).Return(flow.Observation{Status: health.Bad}, nil)
		// The next batch of observations at once (more than a run applies, so some
		// are carried over), then, with the last batch, a recovery.
		env.RegisterDelayedCallback(func() {
			for i := sent; i < min(sent+batch, observations+1); i++ {
				o := breach(fmt.Sprintf("e%d", i))
				if i == observations {
					o = flow.Observation{EvaluationID: "recovered", Status: health.Good}
				}
				env.SignalWorkflow(flow.SignalObservation, o)
			}
			sent = min(sent+batch, observations+1)
		}, time.Minute)
		env.ExecuteWorkflow(CaseWorkflow, in)
		perRun = append(perRun, len(records)-before)
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			var next flow.CaseInput
			if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
				t.Fatal(err)
			}
			if next.Resume == nil || next.Resume.Case.ID == "" {
				t.Fatalf("run %d continued without its state: %+v", runs, next)
			}
			in = next
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := env.GetWorkflowResult(&final); err != nil {
			t.Fatal(err)
		}
		break
	}
	if final.State != health.Resolved {
		t.Errorf("the case ended %s, want resolved", final.State)
	}
	// One timeline: opened, every observation once in order, then recovered,
	// numbered 1, 2, 3, … across every run, all of one case.
	if len(records) != observations+1 {
		t.Fatalf("%d records, want %d (opened, %d observations noted, recovered)", len(records), observations+1, observations-1)
	}
	for i, r := range records {
		want := "breach_observed"
		switch i {
		case 0:
			want = "opened"
		case len(records) - 1:
			want = "recovered"
		}
		if r.Seq != i+1 || r.Type != want || r.Case.ID != records[0].Case.ID {
			t.Fatalf("record %d: seq %d, %s of case %s; want seq %d, %s of %s", i, r.Seq, r.Type, r.Case.ID, i+1, want, records[0].Case.ID)
		}
		if i > 0 && i < len(records)-1 {
			if got := r.Detail["evaluation_id"]; got != fmt.Sprintf("e%d", i) {
				t.Fatalf("record %d notes evaluation %v, want e%d", i, got, i)
			}
		}
	}
	if runs < observations/maxObservationsPerRun {
		t.Errorf("%d runs: the case did not continue as new every %d observations", runs, maxObservationsPerRun)
	}
	for i, n := range perRun {
		if n > maxObservationsPerRun+1 { // and the opening
			t.Errorf("run %d wrote %d records: its history is not bounded by %d observations", i+1, n, maxObservationsPerRun)
		}
	}
}
