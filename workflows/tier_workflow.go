package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

var standingActivities *activities.Standing // method values only name the activities

// TierEvaluationWorkflow places every seller in a tier for one quarter, shard by
// shard like the sweep, then mails every change. Run by the quarterly schedule
// (for the quarter just ended) or on demand; a quarter evaluated again writes the
// same tiers and mails nothing twice.
func TierEvaluationWorkflow(ctx workflow.Context, in flow.TierEvaluationInput) (res flow.TierShardResult, err error) {
	trigger := "api"
	if in.EvaluationID == "" { // started by the schedule: the plan records it
		in.EvaluationID, trigger = workflow.GetInfo(ctx).WorkflowExecution.ID, "schedule"
	}
	if in.Quarter == "" {
		in.Quarter = health.QuarterOf(workflow.Now(ctx)).Prev().String()
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
		if ferr := workflow.ExecuteActivity(dctx, standingActivities.FinishTiers,
			flow.FinishInput{EvaluationID: in.EvaluationID, Failure: failure}).Get(dctx, nil); ferr != nil && err == nil {
			err = ferr
		}
	}()
	var shards []flow.Shard
	err = workflow.ExecuteActivity(ctx, standingActivities.PlanTiers,
		flow.TierPlanInput{EvaluationID: in.EvaluationID, Quarter: in.Quarter, Trigger: trigger}).Get(ctx, &shards)
	if err != nil {
		return res, err
	}
	mail := &mailer{}
	batched := workflow.GetVersion(ctx, changeMailBatch, workflow.DefaultVersion, 1) == 1
	err = fanOut(ctx, shards, func(sh flow.Shard) workflow.Future {
		return workflow.ExecuteActivity(ctx, standingActivities.EvaluateTierShard,
			flow.TierShardInput{EvaluationID: in.EvaluationID, Quarter: in.Quarter, Shard: sh, MailBatch: batched})
	}, func(f workflow.Future) error {
		var r flow.TierShardResult
		if err := f.Get(ctx, &r); err != nil {
			return err
		}
		res.Sellers += r.Sellers
		res.Changed += r.Changed
		mail.send(ctx, r.Mail)
		mail.sendBatch(ctx, r.MailBatch)
		return nil
	})
	if werr := mail.wait(ctx); err == nil {
		err = werr
	}
	return res, err
}
