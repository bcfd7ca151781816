package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

var webhookActivities *activities.Webhooks // method values only name the activities

// WebhookWorkflow delivers one endpoint's events for as long as it is
// registered. The work is one long activity at a time (activities.Webhooks.Dispatch)
// that reads what is due from the database, sends it and writes each outcome
// there; the database, not this history, holds every delivery's state, so a
// worker killed mid-delivery loses nothing: the activity stops heartbeating, and
// another attempt reads the same pending deliveries again. Each endpoint has its
// own workflow and activity, so a slow or dead endpoint delays no other, nor any
// case (they only write the events).
func WebhookWorkflow(ctx workflow.Context, in flow.WebhookInput) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: activities.DispatchStretch + 2*time.Minute,
		HeartbeatTimeout:    activities.DispatchHeartbeatTimeout,
		// Retried for as long as the endpoint exists: the database away, a worker gone.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	})
	for range 100 {
		var res flow.DispatchResult
		if err := workflow.ExecuteActivity(ctx, webhookActivities.Dispatch, in).Get(ctx, &res); err != nil {
			return err
		}
		if res.Gone {
			return nil
		}
	}
	return workflow.NewContinueAsNewError(ctx, WebhookWorkflow, in)
}
