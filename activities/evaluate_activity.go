// Package activities holds the Temporal activities: every piece of work that
// touches the database or the outside world on behalf of a workflow.
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/accounthealth/accounthealth/activities/killpoint"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// BreachSink is told what each evaluated shard found. It is the seam where the
// case lifecycle opens cases for breaches and closes them on recovery; it must be
// idempotent, since a shard may be evaluated again after a worker dies.
type BreachSink interface {
	Observe(ctx context.Context, evaluationID string, at time.Time, results []store.SellerMetrics) error
}

// TellQueuer is a BreachSink that can also queue what a shard found, to be told
// once every shard's facts are stored: the facts wait for no case, and the cases
// are told in one stream rather than shard by shard.
type TellQueuer interface {
	Queue(ctx context.Context, evaluationID string, at time.Time, results []store.SellerMetrics) error
	TellQueued(ctx context.Context, evaluationID string) error
}

// Evaluation holds the evaluation activities.
type Evaluation struct {
	Store  *store.Store
	Policy health.Policy
	Sink   BreachSink // nil: breaches are only recorded in the snapshots
	// Standing invites the newly eligible to programs; nil: no invitations.
	Standing *Standing
	Log      *slog.Logger // nil: no summary is logged
	// Finished, when set, is told of every finished evaluation (the metrics).
	Finished func(e store.Evaluation)
}

// Plan cuts the sellers into shards; for a scheduled sweep it first records the
// evaluation (once, even when retried).
func (a *Evaluation) Plan(ctx context.Context, in flow.PlanInput) ([]flow.Shard, error) {
	if in.Trigger == "schedule" {
		if _, err := a.Store.CreateEvaluation(ctx, in.EvaluationID, in.Trigger, nil); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	shards, err := a.Store.PlanShards(ctx, in.EvaluationID, in.SellerIDs, a.Policy.Evaluation.ShardSize, in.AsOf)
	out := make([]flow.Shard, len(shards))
	for i, sh := range shards {
		out[i] = flow.Shard{From: sh.From, To: sh.To, IDs: sh.IDs}
	}
	return out, err
}

// EvaluateShard computes the metrics of a shard's sellers in SQL, stores the
// snapshots and the progress, and hands the results to the sink.
func (a *Evaluation) EvaluateShard(ctx context.Context, in flow.ShardInput) (flow.ShardResult, error) {
	defer keepAlive(ctx, ShardHeartbeatEvery)()
	results, err := a.Store.ComputeMetrics(ctx, store.Shard{From: in.Shard.From, To: in.Shard.To, IDs: in.Shard.IDs}, in.AsOf, a.Policy)
	if err != nil {
		return flow.ShardResult{}, fmt.Errorf("evaluate shard: %w", err)
	}
	breaches, err := a.Store.SaveShard(ctx, in.EvaluationID, in.AsOf, results)
	if err != nil {
		return flow.ShardResult{}, err
	}
	killpoint.Hit(killpoint.EvaluateAfterStore)
	if q, ok := a.Sink.(TellQueuer); ok && in.QueueNews {
		if err := q.Queue(ctx, in.EvaluationID, in.AsOf, results); err != nil {
			return flow.ShardResult{}, fmt.Errorf("queue news for the cases: %w", err)
		}
	} else if a.Sink != nil {
		if err := a.Sink.Observe(ctx, in.EvaluationID, in.AsOf, results); err != nil {
			return flow.ShardResult{}, fmt.Errorf("act on breaches: %w", err)
		}
		killpoint.Hit(killpoint.EvaluateAfterObserve)
	}
	res := flow.ShardResult{Sellers: len(results), Breaches: breaches}
	if a.Standing != nil {
		sh := store.Shard{From: in.Shard.From, To: in.Shard.To, IDs: in.Shard.IDs}
		batch := ""
		if in.MailBatch {
			batch = mailBatch("evaluation/"+in.EvaluationID, in.Shard)
		}
		keys, err := a.Standing.invite(ctx, sh, in.AsOf, batch)
		if err != nil {
			return res, fmt.Errorf("invite to programs: %w", err)
		}
		res.Mail, res.MailBatch = mailToDeliver(ctx, batch, keys)
	}
	return res, nil
}

// TellCases tells the cases what the evaluation's shards queued for them (see
// TellQueuer); with a sink that queues nothing, it has nothing to do.
func (a *Evaluation) TellCases(ctx context.Context, evaluationID string) error {
	q, ok := a.Sink.(TellQueuer)
	if !ok {
		return nil
	}
	defer keepAlive(ctx, ShardHeartbeatEvery)()
	if err := q.TellQueued(ctx, evaluationID); err != nil {
		return fmt.Errorf("tell the cases: %w", err)
	}
	return nil
}

// ShardHeartbeatEvery is how often a shard's activity tells the server its worker
// is alive. Its heartbeat timeout is a few of these: a worker killed mid-shard
// loses that shard to another worker after the timeout, and nothing else.
const ShardHeartbeatEvery = 5 * time.Second

// keepAlive heartbeats every d until the returned stop is called, so a slow query
// is never taken for a dead worker, while a dead one stops heartbeating at once.
func keepAlive(ctx context.Context, d time.Duration) (stop func()) {
	activity.RecordHeartbeat(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { close(done) }
}

// Finish marks the evaluation completed or failed.
func (a *Evaluation) Finish(ctx context.Context, in flow.FinishInput) error {
	if err := a.Store.FinishEvaluation(ctx, in.EvaluationID, in.Failure); err != nil {
		return err
	}
	if a.Log == nil && a.Finished == nil {
		return nil
	}
	// A summary a person can read in the worker's log: what ran, over how many, what it found.
	e, err := a.Store.Evaluation(ctx, in.EvaluationID)
	if err != nil {
		return fmt.Errorf("summarise evaluation %s: %w", in.EvaluationID, err)
	}
	if a.Finished != nil {
		a.Finished(e)
	}
	if a.Log == nil {
		return nil
	}
	took := time.Duration(0)
	if e.FinishedAt != nil {
		took = e.FinishedAt.Sub(e.StartedAt).Round(time.Millisecond)
	}
	attrs := []any{"id", e.ID, "trigger", e.Trigger, "sellers", e.SellersEvaluated, "of", e.SellersTotal, "breaches", e.Breaches, "took", took.String()}
	if e.Error != nil {
		a.Log.WarnContext(ctx, "evaluation failed", append(attrs, "error", *e.Error)...)
	} else {
		a.Log.InfoContext(ctx, "evaluation completed", attrs...)
	}
	return nil
}
