package workflows

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/client"
)

// Starter starts and pings workflows on behalf of the API.
type Starter struct {
	Client client.Client
}

// StartEvaluation starts the evaluation workflow of in.EvaluationID.
func (s Starter) StartEvaluation(ctx context.Context, in EvaluationInput) error {
	_, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        EvaluationWorkflowID(in.EvaluationID),
		TaskQueue: TaskQueue,
	}, EvaluationWorkflow, in)
	if err != nil {
		return fmt.Errorf("start %s: %w", EvaluationWorkflowID(in.EvaluationID), err)
	}
	return nil
}

// Ping checks that the Temporal frontend answers.
func (s Starter) Ping(ctx context.Context) error {
	_, err := s.Client.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}
