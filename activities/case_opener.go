package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// tellAtOnce bounds how many cases are told at once: each is a round trip to
// Temporal, and one after another they made a sweep with many breaches wait.
const tellAtOnce = 16

var (
	_ BreachSink = CaseOpener{}
	_ TellQueuer = CaseOpener{}
)

// news is what one case is to be told: with no workflow id, a breach that opens it.
type news struct {
	sellerID   string
	metric     health.MetricID
	workflowID string
	runID      string // the case's run, once told (Observe answers it)
	obs        flow.Observation
}

// opening is how long a case told of a breach may take to write its row before
// the sweep stops taking it for one on its way: seconds as a rule; a run that
// never writes one is told again after this.
const opening = time.Hour

// news decides what the shard's evaluation found that the cases do not know yet:
// a new breach (signal-with-start opens its case), a recovery of a warned case,
// new figures of an open case's breach. A breach that a final decision or a
// reviewer's withdrawal (health.Hold) already answered opens nothing. A breach
// found again at the figures its open case was last told is no news: no round
// trip to Temporal, no timeline entry; the sweep's snapshots keep that it was
// still in breach.
func (o CaseOpener) news(ctx context.Context, evaluationID string, at time.Time, results []store.SellerMetrics) ([]news, error) {
	ids := make([]string, len(results))
	for i, sm := range results {
		ids[i] = sm.SellerID
	}
	told, err := o.Store.ToldCases(ctx, ids)
	if err != nil {
		return nil, err
	}
	// A case told of a breach writes its row a moment later (its first
	// workflow task): until then the case rows do not show it open. Its runs
	// are read before the open cases, so a row written between the two reads
	// shows as open, never as neither opening nor open.
	var toldRuns []string
	for _, m := range told {
		for _, t := range m {
			if t.RunID != "" {
				toldRuns = append(toldRuns, t.RunID)
			}
		}
	}
	recorded, err := o.Store.RecordedRuns(ctx, toldRuns)
	if err != nil {
		return nil, err
	}
	open, err := o.Store.OpenCases(ctx, ids)
	if err != nil {
		return nil, err
	}
	final, err := o.Store.FinalCases(ctx, ids)
	if err != nil {
		return nil, err
	}
	holds, err := o.Store.Holds(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []news
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
			case r.Status == health.Bad && !isOpen && held(holds, sm.SellerID, r):
				// a reviewer withdrew this breach: it stands until the metric is worse or recovers (health.Hold)
			case r.Status == health.Bad && !isOpen && wasTold && last.Same(r.Status, r.Numerator, r.Denominator) &&
				last.RunID != "" && !recorded[last.RunID] && at.Sub(last.ToldAt) < opening:
				// the case told of this breach has not written its row yet: it is opening, and knows these figures
			case r.Status == health.Bad && !isOpen:
				out = append(out, news{sellerID: sm.SellerID, metric: r.Metric, obs: obs})
			case !isOpen:
				// no case, no breach: nothing to tell
			case wasTold && last.Same(r.Status, r.Numerator, r.Denominator):
				// the open case knows these figures already
			case r.Status != health.Bad && c.State != string(health.Warned):
				// only a warned case closes on recovery; an enforced one waits for its appeal
			default:
				out = append(out, news{sellerID: sm.SellerID, metric: r.Metric, workflowID: c.WorkflowID, runID: c.RunID, obs: obs})
			}
		}
	}
	return out, nil
}

// held says whether a reviewer's withdrawal holds back a case for breach r.
func held(holds map[string]map[health.MetricID]health.Hold, sellerID string, r store.MetricResult) bool {
	h, ok := holds[sellerID][r.Metric]
	return ok && !h.Opens(r.Value, r.Policy.Target)
}

// tell gives one piece of news to its case, and answers it with the case's run.
func (o CaseOpener) tell(ctx context.Context, n news) (news, error) {
	if n.workflowID != "" {
		return n, o.Flow.Tell(ctx, n.workflowID, n.obs)
	}
	rule := o.Policy.Metrics[n.metric]
	in := flow.CaseInput{SellerID: n.sellerID, Kind: health.MetricBreach, Metric: n.metric,
		Action: rule.OnBreach, Policy: o.Policy.Cases, Rule: rule}
	var err error
	n.runID, err = o.Flow.Observe(ctx, in, n.obs)
	return n, err
}

// told is what a case knows once Temporal took the news.
func (n news) told() store.Told {
	return store.Told{SellerID: n.sellerID, Metric: n.metric, EvaluationID: n.obs.EvaluationID, Status: n.obs.Status,
		Numerator: n.obs.Evidence.Numerator, Denominator: n.obs.Evidence.Denominator, ToldAt: time.Now(), RunID: n.runID}
}

// Observe tells the cases at once what the shard found that they do not know
// (evaluations recorded before the news was queued). What was told is recorded
// once Temporal has taken it, so a retried shard tells at most again what the
// case recognises (by the evaluation's id) and drops.
func (o CaseOpener) Observe(ctx context.Context, evaluationID string, at time.Time, results []store.SellerMetrics) error {
	ns, err := o.news(ctx, evaluationID, at, results)
	if err != nil {
		return err
	}
	var (
		mu   sync.Mutex
		done []store.Told
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tellAtOnce)
	for _, n := range ns {
		g.Go(func() error {
			n, err := o.tell(gctx, n)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			done = append(done, n.told())
			return nil
		})
	}
	// What was told is kept even when some tell failed, so the retry repeats less.
	err = g.Wait()
	killpoint.Hit(killpoint.EvaluateAfterTell)
	return errors.Join(err, o.Store.SaveTold(ctx, done))
}

// Queue stores what the shard found that the cases do not know, to be told once
// every shard's facts are stored (TellQueued).
func (o CaseOpener) Queue(ctx context.Context, evaluationID string, at time.Time, results []store.SellerMetrics) error {
	ns, err := o.news(ctx, evaluationID, at, results)
	if err != nil {
		return err
	}
	rows := make([]store.CaseTell, len(ns))
	for i, n := range ns {
		obs, err := json.Marshal(n.obs)
		if err != nil {
			return fmt.Errorf("news for %s/%s: %w", n.sellerID, n.metric, err)
		}
		rows[i] = store.CaseTell{EvaluationID: evaluationID, SellerID: n.sellerID, Metric: n.metric, WorkflowID: n.workflowID, Observation: string(obs)}
	}
	return o.Store.QueueTells(ctx, rows)
}

// TellQueued tells the cases what an evaluation queued and has not told yet,
// tellAtOnce at a time, each marked told (with what its case now knows) as soon as
// Temporal took it: a retry, after a worker died, tells only what is left, and a
// case recognises the evaluation of a tell it took but was not marked.
func (o CaseOpener) TellQueued(ctx context.Context, evaluationID string) error {
	rows, err := o.Store.UntoldTells(ctx, evaluationID)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tellAtOnce)
	for _, row := range rows {
		n := news{sellerID: row.SellerID, metric: row.Metric, workflowID: row.WorkflowID}
		if err := json.Unmarshal([]byte(row.Observation), &n.obs); err != nil {
			return fmt.Errorf("news for %s/%s: %w", row.SellerID, row.Metric, err)
		}
		g.Go(func() error {
			n, err := o.tell(gctx, n)
			if err != nil {
				return err
			}
			killpoint.Hit(killpoint.EvaluateAfterTell)
			return o.Store.MarkTold(gctx, n.told())
		})
	}
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
