package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/accounthealth/accounthealth/workflows"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// casesRuns is how many sweeps with case opening on run back to back: the first
// opens the cases, the later ones find them open.
const casesRuns = 3

// casePopulations is the sweep's population with case opening on: a share in
// breach, and as many sellers with the same number of orders none in breach (the
// baseline), with their own ids, in one database.
func casePopulations(sellers, orders int, now time.Time) (inBreach, healthy dataset) {
	inBreach = generate(4, sellers, orders, 0.05, now)
	healthy = generate(5, sellers, orders, 0, now)
	for i, id := range healthy.Sellers {
		healthy.Sellers[i] = "h" + id
	}
	for i := range healthy.Orders {
		healthy.Orders[i].Seller = "h" + healthy.Orders[i].Seller
		healthy.Orders[i].ID = "h" + healthy.Orders[i].ID
	}
	return inBreach, healthy
}

// sweepTimes is what a user waits for: the facts (every seller's snapshot and
// latest health stored), then every case told (Temporal took the last breach or
// recovery to its case); the evaluation ends later still, once the program
// invitations it queued are mailed.
type sweepTimes struct{ facts, told, ended time.Duration }

// timedSweep runs a sweep over the given sellers and times it; the facts are
// seen stored by polling the evaluation's progress.
func timedSweep(ctx context.Context, e *env, id string, sellers []string) (sweepTimes, error) {
	if _, err := e.store.CreateEvaluation(ctx, id, "bench", sellers); err != nil {
		return sweepTimes{}, err
	}
	start := time.Now()
	run, err := e.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: flow.EvaluationWorkflowID(id), TaskQueue: flow.TaskQueue},
		flow.EvaluationWorkflowType, flow.EvaluationInput{EvaluationID: id, SellerIDs: sellers})
	if err != nil {
		return sweepTimes{}, err
	}
	facts := make(chan time.Duration, 1)
	pollCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for pollCtx.Err() == nil {
			ev, err := e.store.Evaluation(pollCtx, id)
			if err == nil && ev.SellersTotal > 0 && ev.SellersEvaluated >= ev.SellersTotal {
				facts <- time.Since(start)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if err := run.Get(ctx, nil); err != nil {
		return sweepTimes{}, err
	}
	t := sweepTimes{ended: time.Since(start)}
	select {
	case t.facts = <-facts:
	case <-time.After(time.Second):
		return t, fmt.Errorf("sweep %s ended without its progress showing every seller", id)
	}
	return t, t.lastTold(ctx, e.pg, id, start)
}

// lastTold sets told: when the last case was told, as its shard recorded it;
// with nothing to tell, when the facts were stored.
func (t *sweepTimes) lastTold(ctx context.Context, pg *pgx.Conn, id string, start time.Time) error {
	var last *int64
	if err := pg.QueryRow(ctx, `SELECT MAX(told_at) FROM case_told WHERE evaluation_id = $1`, id).Scan(&last); err != nil {
		return err
	}
	t.told = t.facts
	if last != nil {
		t.told = max(t.told, time.UnixMilli(*last).Sub(start))
	}
	return nil
}

// emptyWorkflows starts and finishes k empty workflows on the Temporal server,
// MaxParallelShards at a time, and says how long it took.
func emptyWorkflows(ctx context.Context, c client.Client, queue, prefix string, k int) (time.Duration, error) {
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workflows.MaxParallelShards)
	ids := make(chan int)
	for range workflows.MaxParallelShards { // as many starters as the sweep runs shards at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-%d", prefix, i), TaskQueue: queue}, emptyWorkflow)
				if err == nil {
					err = run.Get(ctx, nil)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range k {
		select {
		case ids <- i:
		case err := <-errs:
			close(ids)
			wg.Wait()
			return 0, err
		}
	}
	close(ids)
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return time.Since(start), nil
}

// casesTarget is a system the cases benchmark sweeps: the harness's, or the real
// binary's.
type casesTarget struct {
	label string // which Temporal: what the figures are of
	pg    *pgx.Conn
	sweep func(ctx context.Context, id string, sellers []string) (sweepTimes, error)
	bare  func(ctx context.Context, k int) (time.Duration, error)
}

// benchCases: the sweep as users get it, case opening on, over a population with
// 5% in breach, three times in a row. Each run's time until the facts are stored
// is set against the run of the same rank of a sweep (also with case opening on)
// over as many sellers with as many orders and no breach; its time until every case is told against
// starting and finishing as many empty workflows as there are breaches.
func benchCases(ctx context.Context, e *env, inBreach, healthy dataset) ([]result, error) {
	e.sink.on = true
	defer func() { e.sink.on = false }()
	return runCases(ctx, casesTarget{label: "temporaltest", pg: e.pg,
		sweep: func(ctx context.Context, id string, sellers []string) (sweepTimes, error) {
			return timedSweep(ctx, e, id, sellers)
		},
		bare: func(ctx context.Context, k int) (time.Duration, error) {
			return emptyWorkflows(ctx, e.client, flow.TaskQueue, "bare", k)
		}}, inBreach, healthy)
}

func runCases(ctx context.Context, tg casesTarget, inBreach, healthy dataset) ([]result, error) {
	var base []sweepTimes
	for i := range casesRuns {
		t, err := tg.sweep(ctx, fmt.Sprintf("bench-healthy-%d", i), healthy.Sellers)
		if err != nil {
			return nil, err
		}
		base = append(base, t)
	}
	var runs []sweepTimes
	for i := range casesRuns {
		t, err := tg.sweep(ctx, fmt.Sprintf("bench-cases-%d", i), inBreach.Sellers)
		if err != nil {
			return nil, err
		}
		runs = append(runs, t)
		if i == 0 {
			// The next run is a later sweep: the cases it finds are open.
			if err := waitCases(ctx, tg.pg, inBreach.Breaches); err != nil {
				return nil, err
			}
		}
	}
	bare, err := tg.bare(ctx, inBreach.Breaches)
	if err != nil {
		return nil, err
	}
	var out []result
	var baseNote, ended []string
	for _, b := range base {
		baseNote = append(baseNote, fmt.Sprintf("%.2f s", b.facts.Seconds()))
	}
	for _, r := range runs {
		ended = append(ended, fmt.Sprintf("%.2f s", r.ended.Seconds()))
	}
	name := "cases-" + tg.label
	for i, r := range runs {
		what := "opens the cases"
		if i > 0 {
			what = "finds them open"
		}
		out = append(out,
			result{Name: name, Measure: fmt.Sprintf("run %d (%s): facts stored, %d sellers 5%% in breach vs none in breach", i+1, what, len(inBreach.Sellers)),
				Ours: r.facts.Seconds(), Baseline: base[i].facts.Seconds(), Unit: "s", Aim: "ratio <= 2"},
			result{Name: name, Measure: fmt.Sprintf("run %d (%s): every case told, %d breaches vs %d empty workflows", i+1, what, inBreach.Breaches, inBreach.Breaches),
				Ours: r.told.Seconds(), Baseline: bare.Seconds(), Unit: "s", Aim: "ratio <= 1.5"})
	}
	out[len(out)-1].Note = fmt.Sprintf("case opening on, Temporal %s; the no-breach sweeps' facts took %s (each run against the no-breach run of the same rank: both first runs read cold orders and mail the program invitations); \"told\" is from the sweep's start until Temporal took the last case's news (the facts when there was none); the runs ended (invitation mail delivered) after %s",
		tg.label, strings.Join(baseNote, ", "), strings.Join(ended, ", "))
	return out, nil
}

// waitCases waits until k cases are open.
func waitCases(ctx context.Context, pg *pgx.Conn, k int) error {
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var n int
		if err := pg.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE state = 'warned'`).Scan(&n); err != nil {
			return err
		}
		if n >= k {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cases: only %d of %d cases open after 10 minutes", n, k)
		}
	}
}
