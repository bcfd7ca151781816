package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// TestARetriedShardNamesItsBatch: a shard's first attempt names its batch only
// when it queued mail; a retry names it even when it queued none, since the
// attempt before may have committed its mail and died before answering.
func TestARetriedShardNamesItsBatch(t *testing.T) {
	if keys, batch := mailToDeliver(context.Background(), "", []string{"k1"}); len(keys) != 1 || batch != "" {
		t.Errorf("without batches: %v %q, want the keys", keys, batch)
	}
	if keys, batch := mailToDeliver(context.Background(), "evaluation/e/s1", []string{"k1"}); keys != nil || batch != "evaluation/e/s1" {
		t.Errorf("mail queued: %v %q, want the batch alone", keys, batch)
	}
	if _, batch := mailToDeliver(context.Background(), "evaluation/e/s1", nil); batch != "" {
		t.Errorf("no mail, first attempt: %q, want none", batch)
	}

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	shard := func(ctx context.Context) (string, error) {
		if activity.GetInfo(ctx).Attempt == 1 {
			return "", errors.New("worker died after the commit")
		}
		_, batch := mailToDeliver(ctx, "evaluation/e/s1", nil) // the retry finds nothing new to queue
		return batch, nil
	}
	env.RegisterActivityWithOptions(shard, activity.RegisterOptions{Name: "shard"})
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (string, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: 2}})
		var batch string
		err := workflow.ExecuteActivity(ctx, "shard").Get(ctx, &batch)
		return batch, err
	}, workflow.RegisterOptions{Name: "retry"})
	env.ExecuteWorkflow("retry")
	var batch string
	if err := env.GetWorkflowResult(&batch); err != nil {
		t.Fatal(err)
	}
	if batch != "evaluation/e/s1" {
		t.Errorf("the retry answered %q, want the batch named", batch)
	}
}
