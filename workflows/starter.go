package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/accounthealth/accounthealth/store"
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

// ErrCaseClosed is returned for a request to a case whose workflow has ended.
var ErrCaseClosed = errors.New("the case is closed and takes no more requests")

// RefusedError is a request the case refused: the message says why.
type RefusedError struct{ Message string }

func (e *RefusedError) Error() string { return e.Message }

// SubmitAppeal sends a Plan of Action to the case's run and waits for the result.
// updateID makes a retried request return the first outcome.
func (s Starter) SubmitAppeal(ctx context.Context, workflowID, runID, updateID string, req AppealRequest) (store.AppealRow, error) {
	return s.update(ctx, workflowID, runID, updateID, UpdateAppeal, req)
}

// Decide sends a reviewer's decision to the case's run and waits for the result.
func (s Starter) Decide(ctx context.Context, workflowID, runID, updateID string, req DecisionRequest) (store.AppealRow, error) {
	return s.update(ctx, workflowID, runID, updateID, UpdateDecision, req)
}

func (s Starter) update(ctx context.Context, workflowID, runID, updateID, name string, arg any) (store.AppealRow, error) {
	var out store.AppealRow
	h, err := s.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, RunID: runID, UpdateID: updateID, UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, &out)
	}
	var nf *serviceerror.NotFound
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		return out, nil
	case errors.As(err, &nf) || strings.Contains(err.Error(), "workflow execution already completed"):
		return out, ErrCaseClosed
	case errors.As(err, &appErr) && (appErr.Type() == ErrTransition || appErr.Type() == "InvalidPlan" || appErr.Type() == "InvalidDecision"):
		return out, &RefusedError{Message: appErr.Message()}
	}
	return out, fmt.Errorf("%s on %s: %w", name, workflowID, err)
}

// OpenPolicyCase starts a policy-violation case and returns its run id.
func (s Starter) OpenPolicyCase(ctx context.Context, in CaseInput) (string, error) {
	id := PolicyCaseWorkflowID(in.SellerID, in.ListingID, in.Violation)
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Without this the SDK hands back the running case as if it were new.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, CaseWorkflow, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return "", &RefusedError{Message: "an open case already covers this listing and violation"}
	}
	if err != nil {
		return "", fmt.Errorf("open %s: %w", id, err)
	}
	return run.GetRunID(), nil
}
