package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// MaxParallelShards bounds how many shards one evaluation runs at once, so a large
// sweep shares the database and the workers with everything else.
const MaxParallelShards = 8

var evaluationActivities *activities.Evaluation // method values only name the activities

// EvaluationWorkflow evaluates the sellers shard by shard, in parallel, each shard
// an activity, so more workers make it faster and a killed worker loses one shard.
func EvaluationWorkflow(ctx workflow.Context, in flow.EvaluationInput) (res flow.EvaluationResult, err error) {
	asOf := workflow.Now(ctx).UTC()
	trigger := "api"
	if in.EvaluationID == "" { // started by the sweep schedule: the plan records it
		in.EvaluationID, trigger = workflow.GetInfo(ctx).WorkflowExecution.ID, "schedule"
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Minute,
		HeartbeatTimeout:    4 * activities.ShardHeartbeatEvery,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	defer func() {
		failure := ""
		if err != nil {
			failure = err.Error()
		}
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		if ferr := workflow.ExecuteActivity(dctx, evaluationActivities.Finish,
			flow.FinishInput{EvaluationID: in.EvaluationID, Failure: failure}).Get(dctx, nil); ferr != nil && err == nil {
			err = ferr
		}
	}()

	var shards []flow.Shard
	err = workflow.ExecuteActivity(ctx, evaluationActivities.Plan,
		flow.PlanInput{EvaluationID: in.EvaluationID, SellerIDs: in.SellerIDs, AsOf: asOf, Trigger: trigger}).Get(ctx, &shards)
	if err != nil {
		return res, err
	}
	// A sliding window: a new shard starts as soon as one finishes.
	sel := workflow.NewSelector(ctx)
	var firstErr error
	inFlight := 0
	collect := func(f workflow.Future) {
		inFlight--
		var r flow.ShardResult
		if err := f.Get(ctx, &r); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		res.Sellers += r.Sellers
		res.Breaches += r.Breaches
	}
	for _, sh := range shards {
		for inFlight >= MaxParallelShards {
			sel.Select(ctx)
		}
		if firstErr != nil {
			break
		}
		f := workflow.ExecuteActivity(ctx, evaluationActivities.EvaluateShard,
			flow.ShardInput{EvaluationID: in.EvaluationID, Shard: sh, AsOf: asOf})
		inFlight++
		sel.AddFuture(f, collect)
	}
	for inFlight > 0 {
		sel.Select(ctx)
	}
	if firstErr != nil {
		return res, firstErr
	}
	return res, nil
}
