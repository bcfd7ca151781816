package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// CaseOpener is the evaluation's BreachSink: every breach is signalled to its case
// with signal-with-start, so a breach found again while a case is open adds to that
// case and never opens a second; a recovery is signalled to the open case.
type CaseOpener struct {
	Client client.Client
	Store  *store.Store
	Policy health.Policy
}

var _ activities.BreachSink = CaseOpener{}

// Observe tells every case what the shard's evaluation found.
func (o CaseOpener) Observe(ctx context.Context, evaluationID string, at time.Time, results []store.SellerMetrics) error {
	ids := make([]string, len(results))
	for i, sm := range results {
		ids[i] = sm.SellerID
	}
	open, err := o.Store.OpenCases(ctx, ids)
	if err != nil {
		return err
	}
	final, err := o.Store.FinalCases(ctx, ids)
	if err != nil {
		return err
	}
	for _, sm := range results {
		for _, r := range sm.Metrics {
			obs := activities.Observation{EvaluationID: evaluationID, At: at, Status: r.Status, Evidence: store.EvidenceOf(r)}
			id := CaseWorkflowID(sm.SellerID, r.Metric)
			c, isOpen := open[sm.SellerID][r.Metric]
			if isOpen {
				// The case has its evidence; the ids would only swell its history.
				obs.Evidence.OrderIDs, obs.Evidence.MessageIDs = nil, nil
			}
			if r.Status == health.Bad && !isOpen && final.Closes(sm.SellerID, r.Metric) {
				continue // a final decision stands: no new warning for what it already decided
			}
			if r.Status == health.Bad {
				_, err := o.Client.SignalWithStartWorkflow(ctx, id, SignalObservation, obs, client.StartWorkflowOptions{
					ID: id, TaskQueue: TaskQueue,
				}, CaseWorkflow, CaseInput{SellerID: sm.SellerID, Kind: health.MetricBreach, Metric: r.Metric,
					Action: o.Policy.Metrics[r.Metric].OnBreach, Policy: o.Policy.Cases, Rule: o.Policy.Metrics[r.Metric]})
				if err != nil {
					return fmt.Errorf("open case %s: %w", id, err)
				}
				continue
			}
			if isOpen {
				err := o.Client.SignalWorkflow(ctx, c.WorkflowID, c.RunID, SignalObservation, obs)
				var nf *serviceerror.NotFound
				if err != nil && !errors.As(err, &nf) { // a case that just closed needs no news
					return fmt.Errorf("signal case %s: %w", c.ID, err)
				}
			}
		}
	}
	return nil
}
