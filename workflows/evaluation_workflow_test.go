package workflows

import (
	"context"
	"errors"
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
