package workflows

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

func TestEvaluationWorkflowSumsShardsWithBoundedParallelism(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	a := &activities.Evaluation{}
	env.RegisterActivity(a)
	shards := make([]flow.Shard, 20)
	env.OnActivity(a.Plan, mock.Anything, mock.Anything).Return(shards, nil)
	var running, peak atomic.Int32
	env.OnActivity(a.EvaluateShard, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in flow.ShardInput) (flow.ShardResult, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			return flow.ShardResult{Sellers: 5, Breaches: 1}, nil
		})
	var finished flow.FinishInput
	env.OnActivity(a.Finish, mock.Anything, mock.Anything).Return(func(_ context.Context, in flow.FinishInput) error {
		finished = in
		return nil
	})
	env.ExecuteWorkflow(EvaluationWorkflow, flow.EvaluationInput{EvaluationID: "e1"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res flow.EvaluationResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Sellers != 100 || res.Breaches != 20 {
		t.Errorf("result %+v, want 100 sellers and 20 breaches", res)
	}
	if finished.EvaluationID != "e1" || finished.Failure != "" {
		t.Errorf("finished with %+v, want e1 completed", finished)
	}
	if peak.Load() > MaxParallelShards {
		t.Errorf("%d shards ran at once, the bound is %d", peak.Load(), MaxParallelShards)
	}
}

func TestEvaluationWorkflowRecordsAFailure(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	a := &activities.Evaluation{}
	env.RegisterActivity(a)
	env.OnActivity(a.Plan, mock.Anything, mock.Anything).Return([]flow.Shard{{}, {}}, nil)
	env.OnActivity(a.EvaluateShard, mock.Anything, mock.Anything).Return(flow.ShardResult{}, errors.New("database on fire"))
	var finished flow.FinishInput
	env.OnActivity(a.Finish, mock.Anything, mock.Anything).Return(func(_ context.Context, in flow.FinishInput) error {
		finished = in
		return nil
	})
	env.ExecuteWorkflow(EvaluationWorkflow, flow.EvaluationInput{EvaluationID: "e2"})
	if env.GetWorkflowError() == nil {
		t.Fatal("the workflow succeeded with every shard failing")
	}
	if finished.EvaluationID != "e2" || finished.Failure == "" {
		t.Errorf("finished with %+v, want e2 failed with a reason", finished)
	}
}

// TestEvaluationWorkflowDeliversShardsMailByBatch: new evaluations ask the shards
// for batches and deliver each batch named, so no mail key enters the history.
func TestEvaluationWorkflowDeliversShardsMailByBatch(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	a, c := &activities.Evaluation{}, &activities.Cases{}
	env.RegisterActivity(a)
	env.RegisterActivity(c)
	env.OnActivity(a.Plan, mock.Anything, mock.Anything).Return([]flow.Shard{{From: "s1"}, {From: "s2"}, {From: "s3"}}, nil)
	var unbatched atomic.Int32
	env.OnActivity(a.EvaluateShard, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in flow.ShardInput) (flow.ShardResult, error) {
			if !in.MailBatch {
				unbatched.Add(1)
			}
			if in.Shard.From == "s2" { // queued no mail
				return flow.ShardResult{Sellers: 1}, nil
			}
			return flow.ShardResult{Sellers: 1, MailBatch: "evaluation/e3/" + in.Shard.From}, nil
		})
	env.OnActivity(a.Finish, mock.Anything, mock.Anything).Return(nil)
	var delivered []string
	env.OnActivity(c.DeliverBatch, mock.Anything, mock.Anything).Return(func(_ context.Context, batch string) error {
		delivered = append(delivered, batch)
		return nil
	})
	env.OnActivity(c.DeliverAll, mock.Anything, mock.Anything).Return(func(_ context.Context, keys []string) error {
		t.Errorf("DeliverAll called with %v: keys in the history", keys)
		return nil
	})
	env.ExecuteWorkflow(EvaluationWorkflow, flow.EvaluationInput{EvaluationID: "e3"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if n := unbatched.Load(); n != 0 {
		t.Errorf("%d shards not asked for a batch", n)
	}
	slices.Sort(delivered)
	if want := []string{"evaluation/e3/s1", "evaluation/e3/s3"}; !slices.Equal(delivered, want) {
		t.Errorf("delivered %v, want %v", delivered, want)
	}
}
