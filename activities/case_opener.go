package activities

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// CaseOpener is the evaluation's BreachSink: every breach is signalled to its case
// with signal-with-start, so a breach found again while a case is open adds to that
// case and never opens a second; a recovery is signalled to the open case.
type CaseOpener struct {
	Flow   *flow.Client
	Store  *store.Store
	Policy health.Policy
}

// tellAtOnce bounds how many cases a shard tells at once: each is a round trip to
// Temporal, and one after another they made a shard with many breaches wait.
const tellAtOnce = 16

var _ BreachSink = CaseOpener{}

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
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tellAtOnce)
	for _, sm := range results {
		for _, r := range sm.Metrics {
			obs := flow.Observation{EvaluationID: evaluationID, At: at, Status: r.Status, Evidence: EvidenceOf(r)}
			c, isOpen := open[sm.SellerID][r.Metric]
			if isOpen {
				// The case has its evidence; the ids would only swell its history.
				obs.Evidence.OrderIDs, obs.Evidence.MessageIDs = nil, nil
			}
			switch {
			case r.Status == health.Bad && !isOpen && final.Closes(sm.SellerID, r.Metric):
				// a final decision stands: no new warning for what it already decided
			case r.Status == health.Bad:
				rule := o.Policy.Metrics[r.Metric]
				in := flow.CaseInput{SellerID: sm.SellerID, Kind: health.MetricBreach, Metric: r.Metric,
					Action: rule.OnBreach, Policy: o.Policy.Cases, Rule: rule}
				g.Go(func() error { return o.Flow.Observe(gctx, in, obs) })
			case isOpen:
				g.Go(func() error { return o.Flow.Tell(gctx, c.WorkflowID, obs) })
			}
		}
	}
	// A retried shard tells again; a case recognises an evaluation it has seen.
	return g.Wait()
}

// EvidenceOf is a computed metric as the evidence a case carries.
func EvidenceOf(r store.MetricResult) flow.Evidence {
	e := flow.Evidence{Numerator: r.Numerator, Denominator: r.Denominator, Value: r.Value, Target: r.Policy.Target,
		WindowDays: r.Policy.WindowDays, WindowStart: r.WindowStart, WindowEnd: r.WindowEnd, OrderIDs: []string{}}
	if r.Metric == health.ResponseRate {
		e.MessageIDs = r.EvidenceIDs
	} else if r.EvidenceIDs != nil {
		e.OrderIDs = r.EvidenceIDs
	}
	return e
}
