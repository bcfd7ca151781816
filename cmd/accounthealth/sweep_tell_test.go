package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/activities/killpoint"
	"github.com/accounthealth/accounthealth/activities/mail"
	"github.com/accounthealth/accounthealth/activities/mail/capture"
	"github.com/accounthealth/accounthealth/cmd/accounthealth/internal/devtemporal"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
	"github.com/accounthealth/accounthealth/workflows"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// sweepWorld is a Temporal server, a Postgres database and an SMTP capture, on
// which workers run sweeps with case opening on.
type sweepWorld struct {
	t      *testing.T
	ctx    context.Context
	c      client.Client
	st     *store.Store
	policy health.Policy
	cases  *activities.Cases
	eval   *activities.Evaluation
}

func newSweepWorld(t *testing.T, ctx context.Context, shardSize int) *sweepWorld {
	t.Helper()
	ts, err := devtemporal.Start(ctx, devtemporal.Options{DataDir: t.TempDir(), Port: freePort(t, true), Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ts.Stop() })
	c, err := client.Dial(client.Options{HostPort: ts.FrontendAddress(), Namespace: "default", Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	smtp, err := capture.Start("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = smtp.Close() })
	sender, err := mail.NewSender(mail.Config{URL: smtp.URL(), From: "sweep@localhost"})
	if err != nil {
		t.Fatal(err)
	}
	w := &sweepWorld{t: t, ctx: ctx, c: c, st: storetest.NewPostgres(t), policy: health.DefaultPolicy()}
	w.policy.Evaluation.ShardSize = shardSize
	w.cases = &activities.Cases{Store: w.st, Policy: w.policy, Mailer: sender, PublicURL: "http://sweep"}
	w.eval = &activities.Evaluation{Store: w.st, Policy: w.policy,
		Sink: activities.CaseOpener{Flow: flow.NewClient(c), Store: w.st, Policy: w.policy}}
	return w
}

// worker starts a worker running every workflow, the cases' activities and the
// evaluation's, with evaluateShard as the shard activity.
func (w *sweepWorld) worker(evaluateShard func(context.Context, flow.ShardInput) (flow.ShardResult, error), tellCases func(context.Context, string) error) worker.Worker {
	return w.workerWith(worker.Options{}, evaluateShard, tellCases)
}

func (w *sweepWorld) workerWith(opts worker.Options, evaluateShard func(context.Context, flow.ShardInput) (flow.ShardResult, error), tellCases func(context.Context, string) error) worker.Worker {
	wk := worker.New(w.c, flow.TaskQueue, opts)
	workflows.Register(wk)
	wk.RegisterActivity(w.cases)
	wk.RegisterActivityWithOptions(w.eval.Plan, activity.RegisterOptions{Name: "Plan"})
	wk.RegisterActivityWithOptions(w.eval.Finish, activity.RegisterOptions{Name: "Finish"})
	wk.RegisterActivityWithOptions(evaluateShard, activity.RegisterOptions{Name: "EvaluateShard"})
	wk.RegisterActivityWithOptions(tellCases, activity.RegisterOptions{Name: "TellCases"})
	if err := wk.Start(); err != nil {
		w.t.Fatal(err)
	}
	return wk
}

// seller creates a seller with n delivered orders of ten days ago, the first
// chargebacks of them charged back (3 of 20 is an order defect rate of 15%).
func (w *sweepWorld) seller(id string, n, chargebacks int) {
	w.t.Helper()
	if _, err := w.st.CreateSeller(w.ctx, store.Seller{ID: id, Name: id, Email: id + "@example.com"}, "hash-"+id); err != nil {
		w.t.Fatal(err)
	}
	w.orders(id, 0, n, chargebacks)
}

// orders adds orders from..from+n-1 to a seller, the first chargebacks of them charged back.
func (w *sweepWorld) orders(seller string, from, n, chargebacks int) {
	w.t.Helper()
	placed := time.Now().Add(-10 * 24 * time.Hour)
	ms := func(d time.Duration) int64 { return placed.Add(d).UnixMilli() }
	for i := from; i < from+n; i++ {
		var cb any
		if i-from < chargebacks {
			cb = ms(72 * time.Hour)
		}
		_, err := w.st.DB().ExecContext(w.ctx, `INSERT INTO orders (order_id, seller_id, placed_at, ship_by, deliver_by, shipped_at,
			tracking_number, first_scan_at, delivered_at, chargeback_at) VALUES ($1, $2, $3, $4, $5, $6, 'T1', $7, $8, $9)`,
			fmt.Sprintf("%s-%04d", seller, i), seller, ms(0), ms(24*time.Hour), ms(5*24*time.Hour), ms(time.Hour), ms(4*time.Hour), ms(48*time.Hour), cb)
		if err != nil {
			w.t.Fatal(err)
		}
	}
}

// sweep starts an evaluation of every seller.
func (w *sweepWorld) sweep(id string) client.WorkflowRun {
	w.t.Helper()
	if _, err := w.st.CreateEvaluation(w.ctx, id, "test", nil); err != nil {
		w.t.Fatal(err)
	}
	run, err := w.c.ExecuteWorkflow(w.ctx, client.StartWorkflowOptions{ID: flow.EvaluationWorkflowID(id), TaskQueue: flow.TaskQueue},
		flow.EvaluationWorkflowType, flow.EvaluationInput{EvaluationID: id})
	if err != nil {
		w.t.Fatal(err)
	}
	return run
}

func (w *sweepWorld) finish(run client.WorkflowRun) flow.EvaluationResult {
	w.t.Helper()
	var res flow.EvaluationResult
	if err := run.Get(w.ctx, &res); err != nil {
		w.t.Fatalf("sweep %s: %v", run.GetID(), err)
	}
	return res
}

// timelines reads every case of the sellers: "seller: state: entry entry ...", sorted.
func (w *sweepWorld) timelines() []string {
	w.t.Helper()
	rows, err := w.st.DB().QueryContext(w.ctx, `SELECT c.seller_id, c.state, string_agg(e.type, ' ' ORDER BY e.seq)
		FROM cases c JOIN case_events e ON e.case_id = c.id GROUP BY c.id, c.seller_id, c.state ORDER BY c.seller_id, c.id`)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var seller, state, types string
		if err := rows.Scan(&seller, &state, &types); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, seller+": "+state+": "+types)
	}
	return out
}

// waitTimelines waits until the cases' timelines are want.
func (w *sweepWorld) waitTimelines(step string, want []string) {
	w.t.Helper()
	var got []string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = w.timelines(); slices.Equal(got, want) {
			return
		}
	}
	w.t.Fatalf("%s: cases\n  %s\nwant\n  %s", step, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
}

// toldBy reads which evaluation last told each seller's order-defect case.
func (w *sweepWorld) toldBy() map[string]string {
	w.t.Helper()
	rows, err := w.st.DB().QueryContext(w.ctx, `SELECT seller_id, metric, evaluation_id FROM case_told`)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var seller, metric, eval string
		if err := rows.Scan(&seller, &metric, &eval); err != nil {
			w.t.Fatal(err)
		}
		out[seller+"/"+metric] = eval
	}
	return out
}

// TestASweepTellsEachCaseOncePerChange runs sweeps with case opening on, on a real
// Temporal server and Postgres. The shards store their facts and queue the news;
// then the cases are told. The first worker dies right after Temporal took the
// first case's news, before marking it told (what it was running goes silent, as
// with a killed process); a second worker takes the telling over.
// Every breach gets one case whose timeline says "opened" once. A second sweep
// over the same orders tells no case anything. A third, after one seller's figures
// changed and another's recovered, tells just those two, once each.
func TestASweepTellsEachCaseOncePerChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	w := newSweepWorld(t, ctx, 2)
	var breaching []string
	for i := range 10 {
		id := fmt.Sprintf("tell-%02d", i)
		if i%3 == 0 { // tell-00, 03, 06, 09: one in breach in each of four shards of two
			w.seller(id, 20, 3)
			breaching = append(breaching, id)
		} else {
			w.seller(id, 20, 0)
		}
	}

	// The first worker "dies" right after Temporal took the first case's news,
	// before it was marked told: every activity it runs from then on, and those in
	// flight, stop answering and heartbeating.
	life, die := context.WithCancel(ctx)
	release := make(chan struct{})
	defer close(release)
	var once sync.Once
	died := make(chan struct{})
	disarm, err := killpoint.Arm(killpoint.EvaluateAfterTell, func(string, int64) {
		once.Do(func() { die(); close(died) })
		<-release
	})
	if err != nil {
		t.Fatal(err)
	}
	defer disarm()
	var attemptsMu sync.Mutex
	attempts := map[string]int{}
	count := func(key string) {
		attemptsMu.Lock()
		defer attemptsMu.Unlock()
		attempts[key]++
	}
	// mortal runs f on the first worker: once it has died, f's context ends (its
	// heartbeats stop) and no answer comes back.
	mortal := func(ctx context.Context, f func(context.Context) error) error {
		if life.Err() != nil {
			<-release
			return fmt.Errorf("a dead worker's attempt")
		}
		actx, stop := context.WithCancel(ctx)
		defer stop()
		defer context.AfterFunc(life, stop)()
		err := f(actx)
		if life.Err() != nil {
			<-release
		}
		return err
	}
	first := w.worker(func(ctx context.Context, in flow.ShardInput) (res flow.ShardResult, err error) {
		count(in.Shard.From)
		err = mortal(ctx, func(ctx context.Context) (err error) { res, err = w.eval.EvaluateShard(ctx, in); return err })
		return res, err
	}, func(ctx context.Context, id string) error {
		count("tell " + id)
		return mortal(ctx, func(ctx context.Context) error { return w.eval.TellCases(ctx, id) })
	})
	run := w.sweep("tell-1")
	select {
	case <-died:
	case <-ctx.Done():
		t.Fatal("no case was told")
	}
	disarm()
	first.Stop()
	second := w.worker(func(ctx context.Context, in flow.ShardInput) (flow.ShardResult, error) {
		count(in.Shard.From)
		return w.eval.EvaluateShard(ctx, in)
	}, func(ctx context.Context, id string) error {
		count("tell " + id)
		return w.eval.TellCases(ctx, id)
	})
	defer second.Stop()
	if res := w.finish(run); res.Sellers != 10 || res.Breaches != len(breaching) {
		t.Errorf("first sweep: %+v, want 10 sellers and %d breaches", res, len(breaching))
	}
	attemptsMu.Lock()
	if attempts["tell tell-1"] != 2 {
		t.Errorf("the cases were told in %d attempts, want 2 (the dead worker's, then the second's): %v", attempts["tell tell-1"], attempts)
	}
	attemptsMu.Unlock()
	if n, err := w.st.CaseTellCounts(ctx, "tell-1"); err != nil || n.ToTell != len(breaching) || n.Told != n.ToTell {
		t.Errorf("tell-1's cases: %+v (%v): want %d to tell, all told", n, err, len(breaching))
	}
	var opened []string
	for _, id := range breaching {
		opened = append(opened, id+": warned: opened")
	}
	w.waitTimelines("after the first sweep", opened)
	odr := "/" + string(health.ODR)
	told := w.toldBy()
	if len(told) != len(breaching) {
		t.Errorf("told %v: want each breach's case once", told)
	}
	for _, id := range breaching {
		if told[id+odr] != "tell-1" {
			t.Errorf("%s's case told by %q, want tell-1 (told: %v)", id, told[id+odr], told)
		}
	}

	// The same orders again: every case knows them; nothing is told.
	w.finish(w.sweep("tell-2"))
	if got := w.toldBy(); !maps.Equal(got, told) {
		t.Errorf("the second sweep told %v, want nothing new (before: %v)", got, told)
	}
	w.waitTimelines("after the second sweep", opened)

	// tell-03 has one more chargeback (new figures, still in breach); tell-06
	// enough good orders to be back on target (a warned case closes).
	w.orders("tell-03", 100, 1, 1)
	w.orders("tell-06", 100, 400, 0)
	w.finish(w.sweep("tell-3"))
	want := []string{"tell-00: warned: opened", "tell-03: warned: opened breach_observed", "tell-06: resolved: opened recovered", "tell-09: warned: opened"}
	w.waitTimelines("after the third sweep", want)
	got := w.toldBy()
	for _, id := range breaching {
		wantBy := "tell-1"
		if id == "tell-03" || id == "tell-06" {
			wantBy = "tell-3"
		}
		if got[id+odr] != wantBy {
			t.Errorf("%s's case last told by %q, want %s", id, got[id+odr], wantBy)
		}
	}
}

// TestTwoWorkersShareASweep runs a sweep on two workers sharing one Temporal
// server and one Postgres, each taking at most two activities at once: the
// shards are spread between them (each shard waits until both workers hold
// one, so neither can take them all), every shard runs once, and every seller
// is evaluated once.
func TestTwoWorkersShareASweep(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := newSweepWorld(t, ctx, 2)
	const sellers = 12
	for i := range sellers {
		w.seller(fmt.Sprintf("out-%02d", i), 20, 3*(i%4/3)) // out-03, 07, 11 in breach
	}
	var mu sync.Mutex
	shards := map[string][]string{} // worker: the shards it ran
	sellersBy := map[string]int{}
	both := make(chan struct{})
	var bothOnce sync.Once
	on := func(name string) func(context.Context, flow.ShardInput) (flow.ShardResult, error) {
		return func(ctx context.Context, in flow.ShardInput) (flow.ShardResult, error) {
			mu.Lock()
			shards[name] = append(shards[name], in.Shard.From)
			if len(shards) == 2 {
				bothOnce.Do(func() { close(both) })
			}
			mu.Unlock()
			select { // hold the slot until the other worker has a shard too
			case <-both:
			case <-ctx.Done():
				return flow.ShardResult{}, ctx.Err()
			}
			res, err := w.eval.EvaluateShard(ctx, in)
			mu.Lock()
			sellersBy[name] += res.Sellers
			mu.Unlock()
			return res, err
		}
	}
	opts := worker.Options{MaxConcurrentActivityExecutionSize: 2}
	for _, name := range []string{"first", "second"} {
		wk := w.workerWith(opts, on(name), w.eval.TellCases)
		defer wk.Stop()
	}
	res := w.finish(w.sweep("out-1"))
	mu.Lock()
	defer mu.Unlock()
	t.Logf("shards per worker: %v; sellers per worker: %v", shards, sellersBy)
	if len(shards["first"]) == 0 || len(shards["second"]) == 0 {
		t.Errorf("the shards were not shared: %v", shards)
	}
	var all []string
	for _, s := range shards {
		all = append(all, s...)
	}
	slices.Sort(all)
	if len(all) != sellers/2 || len(slices.Compact(all)) != sellers/2 {
		t.Errorf("shards run %v: want each of %d once", all, sellers/2)
	}
	if res.Sellers != sellers || sellersBy["first"]+sellersBy["second"] != sellers || res.Breaches != 3 {
		t.Errorf("result %+v, sellers per worker %v: want %d sellers and 3 breaches", res, sellersBy, sellers)
	}
	var snapshots, distinct int
	err := w.st.DB().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT seller_id) FROM seller_snapshots WHERE evaluation_id = 'out-1'`).Scan(&snapshots, &distinct)
	if err != nil || snapshots != sellers || distinct != sellers {
		t.Errorf("%d snapshots of %d sellers (%v): want one of each of %d", snapshots, distinct, err, sellers)
	}
	w.waitTimelines("after the sweep", []string{"out-03: warned: opened", "out-07: warned: opened", "out-11: warned: opened"})
}
