package main

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/accounthealth/accounthealth/workflows/flow"
)

// TestSchedulesMoveEvaluationsToTheirQueue: a deployment whose schedules were
// made when every workflow ran on one task queue has them moved to the
// evaluations' queue when a worker of this version starts (here: when it
// ensures them again), and left alone once they are there.
func TestSchedulesMoveEvaluationsToTheirQueue(t *testing.T) {
	d := startDev(t, nil)
	ctx := context.Background()
	c, err := client.Dial(client.Options{HostPort: d.temporal})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	queueOf := func(id string) string {
		t.Helper()
		desc, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
		if err != nil {
			t.Fatalf("describe %s: %v", id, err)
		}
		return desc.Schedule.Action.(*client.ScheduleWorkflowAction).TaskQueue
	}
	for _, id := range []string{flow.SweepScheduleID, flow.TierScheduleID} {
		if got := queueOf(id); got != flow.EvaluationTaskQueue {
			t.Errorf("dev made %s on %q, want %q", id, got, flow.EvaluationTaskQueue)
		}
		// As an earlier version left it.
		err := c.ScheduleClient().GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
			DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
				s := in.Description.Schedule
				s.Action.(*client.ScheduleWorkflowAction).TaskQueue = flow.TaskQueue
				return &client.ScheduleUpdate{Schedule: &s}, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		if got := queueOf(id); got != flow.TaskQueue {
			t.Fatalf("the test could not put %s back on %q: %q", id, flow.TaskQueue, got)
		}
	}
	fc := flow.NewClient(c)
	for range 2 { // the second time finds nothing to move
		if err := fc.EnsureSweepSchedule(ctx, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := fc.EnsureTierSchedule(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{flow.SweepScheduleID, flow.TierScheduleID} {
			if got := queueOf(id); got != flow.EvaluationTaskQueue {
				t.Errorf("%s after a worker ensured it: %q, want %q", id, got, flow.EvaluationTaskQueue)
			}
		}
	}
	desc, err := c.ScheduleClient().GetHandle(ctx, flow.SweepScheduleID).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if iv := desc.Schedule.Spec.Intervals; len(iv) != 1 || iv[0].Every != time.Hour {
		t.Errorf("the sweep's interval after the move: %+v, want every 1h", iv)
	}
}
