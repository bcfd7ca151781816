package activities

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/accounthealth/accounthealth/activities/killpoint"
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

// Observe tells every case what the shard's evaluation found that it does not
// know yet: a new breach (signal-with-start opens its case), a recovery of a warned
// case, new figures of an open case's breach. A breach found again at the figures
// its open case was last told costs nothing: no round trip to Temporal, no timeline
// entry; the sweep's snapshots keep that it was still in breach. What was told is
// recorded once Temporal has taken it, so a retried shard tells at most again what
// the case recognises (by the evaluation's id) and drops.
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
	told, err := o.Store.ToldCases(ctx, ids)
	if err != nil {
		return err
	}
	var (
		mu   sync.Mutex
		done []store.Told
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tellAtOnce)
	tell := func(sellerID string, r store.MetricResult, send func() error) {
		g.Go(func() error {
			if err := send(); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			done = append(done, store.Told{SellerID: sellerID, Metric: r.Metric, EvaluationID: evaluationID, Status: r.Status,
				Numerator: r.Numerator, Denominator: r.Denominator, ToldAt: time.Now()})
			return nil
		})
	}
	for _, sm := range results {
		for _, r := range sm.Metrics {
			obs := flow.Observation{EvaluationID: evaluationID, At: at, Status: r.Status, Evidence: EvidenceOf(r)}
			c, isOpen := open[sm.SellerID][r.Metric]
			if isOpen {
				// The case has its evidence; the ids would only swell its history.
				obs.Evidence.OrderIDs, obs.Evidence.MessageIDs = nil, nil
			}
			last, wasTold := told[sm.SellerID][r.Metric]
			switch {
			case r.Status == health.Bad && !isOpen && final.Closes(sm.SellerID, r.Metric):
				// a final decision stands: no new warning for what it already decided
			case r.Status == health.Bad && !isOpen:
				rule := o.Policy.Metrics[r.Metric]
				in := flow.CaseInput{SellerID: sm.SellerID, Kind: health.MetricBreach, Metric: r.Metric,
					Action: rule.OnBreach, Policy: o.Policy.Cases, Rule: rule}
				tell(sm.SellerID, r, func() error { return o.Flow.Observe(gctx, in, obs) })
			case !isOpen:
				// no case, no breach: nothing to tell
			case wasTold && last.Same(r.Status, r.Numerator, r.Denominator):
				// the open case knows these figures already
			case r.Status != health.Bad && c.State != string(health.Warned):
				// only a warned case closes on recovery; an enforced one waits for its appeal
			default:
				tell(sm.SellerID, r, func() error { return o.Flow.Tell(gctx, c.WorkflowID, obs) })
			}
		}
	}
	// A retried shard tells again what it had not recorded as told; a case
	// recognises an evaluation it has seen. What was told is kept even when some
	// tell failed, so the retry repeats less.
	err = g.Wait()
	killpoint.Hit(killpoint.EvaluateAfterTell)
	return errors.Join(err, o.Store.SaveTold(ctx, done))
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
