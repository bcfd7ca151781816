package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

var retentionActivities *activities.Retention // method values only name the activities

// RetentionWorkflow prunes what the retention policy keeps no longer, as its
// schedule says (flow.Client.EnsureRetentionSchedule), and answers how many
// rows of each kind went.
func RetentionWorkflow(ctx workflow.Context, in flow.RetentionInput) (flow.RetentionSummary, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Minute, MaximumAttempts: 5},
	})
	var sum flow.RetentionSummary
	if err := workflow.ExecuteActivity(ctx, retentionActivities.Prune, in).Get(ctx, &sum); err != nil {
		return sum, err
	}
	workflow.GetLogger(ctx).Info("retention pruned", "pruned", sum.Pruned)
	return sum, nil
}
