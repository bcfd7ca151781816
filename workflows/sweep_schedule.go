package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// SweepScheduleID is the Temporal Schedule that evaluates every seller.
const SweepScheduleID = "evaluation-sweep"

// EnsureSweepSchedule makes the sweep schedule match interval, idempotently: it
// creates it, updates its interval, or (interval 0) deletes it. Several workers
// starting at once all end with one schedule.
func EnsureSweepSchedule(ctx context.Context, c client.Client, interval time.Duration) error {
	sc := c.ScheduleClient()
	h := sc.GetHandle(ctx, SweepScheduleID)
	if interval <= 0 {
		err := h.Delete(ctx)
		var nf *serviceerror.NotFound
		if err != nil && !errors.As(err, &nf) {
			return fmt.Errorf("delete sweep schedule: %w", err)
		}
		return nil
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: interval}}}
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID:      SweepScheduleID,
		Spec:    spec,
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP, // a sweep still running makes the next one wait for the next turn
		Action: &client.ScheduleWorkflowAction{
			ID: "sweep", Workflow: EvaluationWorkflow, Args: []any{EvaluationInput{}}, TaskQueue: TaskQueue,
		},
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create sweep schedule: %w", err)
	}
	return h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		if s.Spec != nil && len(s.Spec.Intervals) == 1 && s.Spec.Intervals[0].Every == interval {
			return nil, temporal.ErrSkipScheduleUpdate
		}
		s.Spec = &spec
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
}
