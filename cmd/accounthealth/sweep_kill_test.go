//go:build !nodev

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/cmd/accounthealth/internal/devtemporal"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
	"github.com/accounthealth/accounthealth/workflows"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// shardRuns counts the attempts at each shard, across workers, and holds one
// shard's first attempt forever: the worker running it goes silent mid-shard,
// never heartbeating or answering again, as a killed one does. That shard's next
// attempt is slow (its sink takes longer than the heartbeat timeout) but alive.
type shardRuns struct {
	mu      sync.Mutex
	runs    map[string]int
	stuck   string        // the shard (its first seller) whose first attempt hangs
	stalled chan struct{} // closed when that attempt has started
	release chan struct{} // closed at the end of the test
}

func (r *shardRuns) wrap(a *activities.Evaluation) func(context.Context, flow.ShardInput) (flow.ShardResult, error) {
	return func(ctx context.Context, in flow.ShardInput) (flow.ShardResult, error) {
		key := in.Shard.From
		r.mu.Lock()
		r.runs[key]++
		hang := key == r.stuck && r.runs[key] == 1
		r.mu.Unlock()
		if hang {
			activity.RecordHeartbeat(ctx, "computing")
			close(r.stalled)
			<-r.release // deaf to cancellation, like a dead process
			return flow.ShardResult{}, fmt.Errorf("a dead worker's attempt")
		}
		return a.EvaluateShard(ctx, in)
	}
}

// slowFor is longer than the shards' heartbeat timeout.
const slowFor = 25 * time.Second

// Observe is the evaluation's sink: slow for the stuck shard's second attempt.
func (r *shardRuns) Observe(ctx context.Context, _ string, _ time.Time, results []store.SellerMetrics) error {
	if len(results) == 0 || results[0].SellerID != r.stuck {
		return nil
	}
	select {
	case <-time.After(slowFor):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *shardRuns) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.runs))
	for k, v := range r.runs {
		out[k] = v
	}
	return out
}

// TestAWorkerDyingMidSweepLosesOnlyItsShard runs a sweep on a real Temporal server
// and Postgres with two workers. The first goes silent in the middle of one shard;
// its heartbeat lapses, the server gives that shard to the second worker, and the
// sweep ends with every seller evaluated exactly once. The shards already done are
// not evaluated again, and the second attempt, slower than the heartbeat timeout
// but alive, is not taken for dead.
func TestAWorkerDyingMidSweepLosesOnlyItsShard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ts, err := devtemporal.Start(ctx, devtemporal.Options{DataDir: t.TempDir(), Port: freePort(t, true), Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Stop()
	c, err := client.Dial(client.Options{HostPort: ts.FrontendAddress(), Namespace: "default", Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	st := storetest.NewPostgres(t)
	const sellers, shardSize = 12, 2
	for i := range sellers {
		id := fmt.Sprintf("kill-%02d", i)
		if _, err := st.CreateSeller(ctx, store.Seller{ID: id, Name: id, Email: id + "@example.com"}, "hash-"+id); err != nil {
			t.Fatal(err)
		}
	}
	policy := health.DefaultPolicy()
	policy.Evaluation.ShardSize = shardSize
	runs := &shardRuns{runs: map[string]int{}, stuck: "kill-06", stalled: make(chan struct{}), release: make(chan struct{})}
	var logs syncBuffer
	act := &activities.Evaluation{Store: st, Policy: policy, Sink: runs, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	defer close(runs.release)

	newWorker := func() worker.Worker {
		w := worker.New(c, flow.TaskQueue, worker.Options{})
		w.RegisterWorkflow(workflows.EvaluationWorkflow)
		w.RegisterActivityWithOptions(act.Plan, activity.RegisterOptions{Name: "Plan"})
		w.RegisterActivityWithOptions(act.Finish, activity.RegisterOptions{Name: "Finish"})
		w.RegisterActivityWithOptions(act.TellCases, activity.RegisterOptions{Name: "TellCases"})
		w.RegisterActivityWithOptions(runs.wrap(act), activity.RegisterOptions{Name: "EvaluateShard"})
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		return w
	}

	first := newWorker()
	const evalID = "kill-sweep"
	if _, err := st.CreateEvaluation(ctx, evalID, "test", nil); err != nil {
		t.Fatal(err)
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: flow.EvaluationWorkflowID(evalID), TaskQueue: flow.TaskQueue},
		flow.EvaluationWorkflowType, flow.EvaluationInput{EvaluationID: evalID})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-runs.stalled:
	case <-ctx.Done():
		t.Fatal("the stuck shard never started")
	}
	// Let the other shards finish on the first worker, then take it away.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		e, err := st.Evaluation(ctx, evalID)
		if err != nil {
			t.Fatal(err)
		}
		if e.SellersEvaluated == sellers-shardSize {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other shards did not finish: %d sellers evaluated", e.SellersEvaluated)
		}
	}
	first.Stop()
	second := newWorker()
	defer second.Stop()

	started := time.Now()
	var res flow.EvaluationResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("the sweep failed after its worker died: %v", err)
	}
	t.Logf("the lost shard was taken up again and the sweep ended %s after the worker went away", time.Since(started).Round(time.Second))
	e, err := st.Evaluation(ctx, evalID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sellers != sellers || e.SellersEvaluated != sellers || e.Status != store.EvaluationCompleted {
		t.Errorf("result %+v, evaluation %d sellers %s: want all %d, each once, completed", res, e.SellersEvaluated, e.Status, sellers)
	}
	if !strings.Contains(logs.String(), `msg="evaluation completed" id=`+evalID+" trigger=test sellers=12 of=12 breaches=0 took=") {
		t.Errorf("no readable summary of the sweep in the worker's log:\n%s", logs.String())
	}
	got := runs.counts()
	if len(got) != sellers/shardSize {
		t.Errorf("attempts per shard %v: want %d shards", got, sellers/shardSize)
	}
	for shard, n := range got {
		want := 1
		if shard == runs.stuck {
			want = 2 // the dead worker's attempt, then the second worker's, slow but alive
		}
		if n != want {
			t.Errorf("shard %s ran %d times, want %d (attempts per shard: %v)", shard, n, want, got)
		}
	}
	for i := range sellers {
		id := fmt.Sprintf("kill-%02d", i)
		h, err := st.LatestHealth(ctx, id, policy)
		if err != nil || h.EvaluatedAt == nil {
			t.Errorf("seller %s has no evaluation: %+v %v", id, h.EvaluatedAt, err)
		}
	}
}
