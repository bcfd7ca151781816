package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/accounthealth/accounthealth/health"
)

// Client starts, signals and updates the workflows on behalf of the application.
type Client struct {
	c client.Client
}

// NewClient wraps a Temporal client.
func NewClient(c client.Client) *Client { return &Client{c: c} }

// Temporal is the wrapped client, for what the facade does not cover (tests, the worker).
func (f *Client) Temporal() client.Client { return f.c }

// ErrCaseClosed is returned for a request to a case whose workflow has ended.
var ErrCaseClosed = errors.New("the case is closed and takes no more requests")

// RefusedError is a request the case refused: the message says why; Fields name
// the parts of an incomplete request.
type RefusedError struct {
	Message string
	Fields  map[string]string
}

func (e *RefusedError) Error() string { return e.Message }

// NotRecordedError is a request the case took but could not write, for a reason
// retrying cannot fix: the case is as it was before, and the failure is on its
// timeline.
type NotRecordedError struct{ Message string }

func (e *NotRecordedError) Error() string { return e.Message }

// Ping checks that the Temporal frontend answers.
func (f *Client) Ping(ctx context.Context) error {
	_, err := f.c.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// MailWorkflowID names the delivery of the mail whose outbox id is id.
func MailWorkflowID(id string) string { return "mail/" + id }

// DeliverMail starts delivering the queued mail of key (outbox id id). A delivery
// of that mail already running is left to go on.
func (f *Client) DeliverMail(ctx context.Context, id, key string) error {
	wid := MailWorkflowID(id)
	_, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: wid, TaskQueue: TaskQueue,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING}, MailWorkflowType, key)
	if err != nil {
		return fmt.Errorf("start %s: %w", wid, err)
	}
	return nil
}

// StartTierEvaluation starts the tier evaluation workflow of in.EvaluationID.
func (f *Client) StartTierEvaluation(ctx context.Context, in TierEvaluationInput) error {
	id := TierEvaluationWorkflowID(in.EvaluationID)
	_, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: EvaluationTaskQueue}, TierEvaluationWorkflowType, in)
	if err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	return nil
}

// EnsureTierSchedule makes the schedule that evaluates the quarter just ended on
// the first day of each quarter (00:05 UTC), once, however many workers start.
func (f *Client) EnsureTierSchedule(ctx context.Context) error {
	every := func(start, end, step int) []client.ScheduleRange {
		return []client.ScheduleRange{{Start: start, End: end, Step: step}}
	}
	_, err := f.c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: TierScheduleID,
		Spec: client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{{
			Month: every(1, 10, 3), DayOfMonth: every(1, 1, 1), Hour: every(0, 0, 1), Minute: every(5, 5, 1), Second: every(0, 0, 1)}}},
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{
			ID: "tiers", Workflow: TierEvaluationWorkflowType, Args: []any{TierEvaluationInput{}}, TaskQueue: EvaluationTaskQueue,
		},
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create tier schedule: %w", err)
	}
	return f.c.ScheduleClient().GetHandle(ctx, TierScheduleID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			if !moveToQueue(&s, EvaluationTaskQueue) {
				return nil, temporal.ErrSkipScheduleUpdate
			}
			return &client.ScheduleUpdate{Schedule: &s}, nil
		}})
}

// moveToQueue points a schedule's workflow action at queue and says whether it
// had to: schedules made before evaluations had a queue of their own start
// them on TaskQueue until a worker of this version moves them.
func moveToQueue(s *client.Schedule, queue string) bool {
	a, ok := s.Action.(*client.ScheduleWorkflowAction)
	if !ok || a.TaskQueue == queue {
		return false
	}
	a.TaskQueue = queue
	return true
}

// StartEvaluation starts the evaluation workflow of in.EvaluationID.
func (f *Client) StartEvaluation(ctx context.Context, in EvaluationInput) error {
	id := EvaluationWorkflowID(in.EvaluationID)
	_, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: EvaluationTaskQueue}, EvaluationWorkflowType, in)
	if err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	return nil
}

// SubmitAppeal sends a Plan of Action to the running case and waits for the
// outcome. updateID makes a retried request return the first outcome.
func (f *Client) SubmitAppeal(ctx context.Context, workflowID, updateID string, req AppealRequest) (Appeal, error) {
	var out Appeal
	return out, f.update(ctx, workflowID, updateID, UpdateAppeal, req, &out)
}

// Decide sends a reviewer's decision to the running case and waits for the outcome.
func (f *Client) Decide(ctx context.Context, workflowID, updateID string, req DecisionRequest) (Appeal, error) {
	var out Appeal
	return out, f.update(ctx, workflowID, updateID, UpdateDecision, req, &out)
}

// Withdraw asks the running case to withdraw itself, and answers the case as it then stands.
func (f *Client) Withdraw(ctx context.Context, workflowID string, req WithdrawalRequest) (health.Case, error) {
	var out health.Case
	return out, f.update(ctx, workflowID, "", UpdateWithdraw, req, &out)
}

// Confirm sends a reviewer's answer to a suspension waiting for confirmation, and
// answers the case as it then stands.
func (f *Client) Confirm(ctx context.Context, workflowID string, req ConfirmationRequest) (health.Case, error) {
	var out health.Case
	return out, f.update(ctx, workflowID, "", UpdateConfirm, req, &out)
}

// update sends an update to the workflow's current run: a case that continued as
// new has a new run, and the request names its case so another case under the
// same workflow id refuses it.
func (f *Client) update(ctx context.Context, workflowID, updateID, name string, arg, out any) error {
	h, err := f.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateID: updateID, UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, out)
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s on %s: %w", name, workflowID, caseError(err))
}

// caseError maps what a case answered to the facade's errors, by type.
func caseError(err error) error {
	var nf *serviceerror.NotFound
	var appErr *temporal.ApplicationError
	switch {
	case errors.As(err, &nf):
		return ErrCaseClosed
	case errors.As(err, &appErr):
		switch appErr.Type() {
		case ErrTransition, ErrInvalidPlan, ErrInvalidDecision, ErrInvalidRequest:
			r := &RefusedError{Message: appErr.Message()}
			if appErr.HasDetails() {
				_ = appErr.Details(&r.Fields)
			}
			return r
		case ErrNotRecorded:
			return &NotRecordedError{Message: appErr.Message()}
		}
	}
	return err
}

// OpenPolicyCase opens a policy-violation case with update-with-start and answers
// the case once its opening is recorded. An open case for the same listing and
// violation refuses it.
func (f *Client) OpenPolicyCase(ctx context.Context, in CaseInput) (health.Case, error) {
	id := PolicyCaseWorkflowID(in.SellerID, in.ListingID, in.Violation)
	start := f.c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: id, TaskQueue: TaskQueue, WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}, CaseWorkflowType, in)
	h, err := f.c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: UpdateOpened,
			WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	var c health.Case
	if err == nil {
		err = h.Get(ctx, &c)
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
		return c, nil
	case errors.As(err, &started):
		return c, &RefusedError{Message: "an open case already covers this listing and violation"}
	}
	return c, fmt.Errorf("open %s: %w", id, caseError(err))
}

// Observe tells the case of in's seller and metric what an evaluation saw,
// opening the case if none runs (signal-with-start), so a breach found again
// while a case is open adds to that case and never opens a second.
func (f *Client) Observe(ctx context.Context, in CaseInput, o Observation) (runID string, err error) {
	id := CaseWorkflowID(in.SellerID, in.Metric)
	run, err := f.c.SignalWithStartWorkflow(ctx, id, SignalObservation, o,
		client.StartWorkflowOptions{ID: id, TaskQueue: TaskQueue}, CaseWorkflowType, in)
	if err != nil {
		return "", fmt.Errorf("open case %s: %w", id, err)
	}
	return run.GetRunID(), nil
}

// Tell sends an observation to a running case only; a case that has just closed
// needs no news.
func (f *Client) Tell(ctx context.Context, workflowID string, o Observation) error {
	err := f.c.SignalWorkflow(ctx, workflowID, "", SignalObservation, o)
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("signal case %s: %w", workflowID, err)
	}
	return nil
}

// EnsureSweepSchedule makes the sweep schedule match interval, idempotently: it
// creates it, updates its interval, or (interval 0) deletes it. Several workers
// starting at once all end with one schedule.
func (f *Client) EnsureSweepSchedule(ctx context.Context, interval time.Duration) error {
	return f.ensureIntervalSchedule(ctx, SweepScheduleID, interval, &client.ScheduleWorkflowAction{
		ID: "sweep", Workflow: EvaluationWorkflowType, Args: []any{EvaluationInput{}}, TaskQueue: EvaluationTaskQueue,
	})
}

// EnsureRetentionSchedule makes the schedule that prunes, every interval, what
// the retention policy keeps no longer; 0 deletes it.
func (f *Client) EnsureRetentionSchedule(ctx context.Context, interval time.Duration) error {
	return f.ensureIntervalSchedule(ctx, RetentionScheduleID, interval, &client.ScheduleWorkflowAction{
		ID: "retention", Workflow: RetentionWorkflowType, Args: []any{RetentionInput{}}, TaskQueue: TaskQueue,
	})
}

// ensureIntervalSchedule makes schedule id run action every interval, or moves
// an existing one to the interval; 0 deletes it.
func (f *Client) ensureIntervalSchedule(ctx context.Context, id string, interval time.Duration, action *client.ScheduleWorkflowAction) error {
	sc := f.c.ScheduleClient()
	h := sc.GetHandle(ctx, id)
	if interval <= 0 {
		err := h.Delete(ctx)
		var nf *serviceerror.NotFound
		if err != nil && !errors.As(err, &nf) {
			return fmt.Errorf("delete %s schedule: %w", id, err)
		}
		return nil
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: interval}}}
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID:      id,
		Spec:    spec,
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP, // a run still going makes the next one wait for the next turn
		Action:  action,
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create %s schedule: %w", id, err)
	}
	return h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		moved := moveToQueue(&s, action.TaskQueue)
		if !moved && s.Spec != nil && len(s.Spec.Intervals) == 1 && s.Spec.Intervals[0].Every == interval {
			return nil, temporal.ErrSkipScheduleUpdate
		}
		s.Spec = &spec
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
}
