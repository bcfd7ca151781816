package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// mailOptions retry one mail for about a day, as a case's mail does; the
// activity ends it failed in the outbox when it gives up (see Cases.Deliver).
var mailOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: 10 * time.Minute, MaximumAttempts: 150},
}

// MailWorkflow delivers one queued mail that no other workflow carries: a
// sign-in link, or a failed mail a reviewer sends again. Its id is the mail's
// (flow.MailWorkflowID), so one mail has one delivery running at a time.
func MailWorkflow(ctx workflow.Context, key string) error {
	ctx = workflow.WithActivityOptions(ctx, mailOptions)
	return workflow.ExecuteActivity(ctx, caseActivities.Deliver, key).Get(ctx, nil)
}
