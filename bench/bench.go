package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// size is how much each benchmark works on.
type size struct {
	Name         string
	Sellers      int
	Orders       int
	IngestOrders int           // orders whose events go through the API (and through COPY)
	StormSellers int           // sellers in breach at once
	APIDuration  time.Duration // per side of the health benchmark
	GrowthOrders []int         // evaluation sizes for the cost-growth table
}

var sizes = map[string]size{
	"smoke": {Name: "smoke", Sellers: 200, Orders: 20_000, IngestOrders: 5_000, StormSellers: 50, APIDuration: 2 * time.Second,
		GrowthOrders: []int{5_000, 10_000, 20_000}},
	"quick": {Name: "quick", Sellers: 10_000, Orders: 1_000_000, IngestOrders: 100_000, StormSellers: 10_000, APIDuration: 10 * time.Second,
		GrowthOrders: []int{250_000, 500_000, 1_000_000}},
	"full": {Name: "full", Sellers: 100_000, Orders: 10_000_000, IngestOrders: 1_000_000, StormSellers: 10_000, APIDuration: 20 * time.Second,
		GrowthOrders: []int{2_500_000, 5_000_000, 10_000_000}},
}

// result is one benchmark next to its baseline.
type result struct {
	Name     string  `json:"name"`
	Measure  string  `json:"measure"`
	Ours     float64 `json:"ours"`
	Baseline float64 `json:"baseline"`
	Unit     string  `json:"unit"`
	Aim      string  `json:"aim"`
	Note     string  `json:"note,omitempty"`
	Failed   int     `json:"failed,omitempty"` // requests that failed while it ran (the storm's probes)
	// Missing says why Ours was not measured ("not reached", "not run"): the
	// table prints it instead of a figure.
	Missing string `json:"missing,omitempty"`
	// Again is the growth table's second sweep of the same facts (seconds): the
	// first mails every eligible seller a program invitation, the second nothing.
	Again float64 `json:"again,omitempty"`
}

// Ratio is ours over the baseline.
func (r result) Ratio() float64 { return r.Ours / r.Baseline }

// evaluate runs the sweep over every seller and waits for it.
func evaluate(ctx context.Context, e *env, id string) (time.Duration, error) {
	if _, err := e.store.CreateEvaluation(ctx, id, "bench", nil); err != nil {
		return 0, err
	}
	start := time.Now()
	run, err := e.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: flow.EvaluationWorkflowID(id), TaskQueue: flow.TaskQueue},
		flow.EvaluationWorkflowType, flow.EvaluationInput{EvaluationID: id})
	if err != nil {
		return 0, err
	}
	if err := run.Get(ctx, nil); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// handWritten computes the same metrics (and ODR's parts and the expired
// orders) for every seller in one query, the way a person would write it by
// hand: the baseline of the sweep.
const handWritten = `
WITH o AS (
  SELECT seller_id,
    COUNT(*) FILTER (WHERE placed_at >= $2) AS odr_den,
    COUNT(*) FILTER (WHERE placed_at >= $2 AND (feedback_rating IN (1,2) OR chargeback_at IS NOT NULL OR COALESCE(claim_outcome,'denied') <> 'denied')) AS odr_num,
    COUNT(*) FILTER (WHERE placed_at >= $2 AND feedback_rating IN (1,2)) AS odr_feedback,
    COUNT(*) FILTER (WHERE placed_at >= $2 AND COALESCE(claim_outcome,'denied') <> 'denied') AS odr_claims,
    COUNT(*) FILTER (WHERE placed_at >= $2 AND chargeback_at IS NOT NULL) AS odr_chargebacks,
    COUNT(*) FILTER (WHERE placed_at >= $3) AS cancel_den,
    COUNT(*) FILTER (WHERE placed_at >= $3 AND cancelled_by IN ('seller', 'expired') AND (shipped_at IS NULL OR cancelled_at < shipped_at)) AS cancel_num,
    COUNT(*) FILTER (WHERE placed_at >= $4 AND cancelled_by = 'expired' AND (shipped_at IS NULL OR cancelled_at < shipped_at)) AS expired,
    COUNT(*) FILTER (WHERE ship_by >= $4 AND ship_by < $1) AS late_den,
    COUNT(*) FILTER (WHERE ship_by >= $4 AND ship_by < $1 AND (shipped_at IS NULL OR shipped_at > ship_by)) AS late_num,
    COUNT(*) FILTER (WHERE shipped_at >= $4 AND shipped_at < $1) AS track_den,
    COUNT(*) FILTER (WHERE shipped_at >= $4 AND shipped_at < $1 AND tracking_number <> '' AND first_scan_at IS NOT NULL) AS track_num,
    COUNT(*) FILTER (WHERE first_scan_at IS NOT NULL AND deliver_by >= $4 AND deliver_by < $1) AS otd_den,
    COUNT(*) FILTER (WHERE first_scan_at IS NOT NULL AND deliver_by >= $4 AND deliver_by < $1 AND delivered_at <= deliver_by) AS otd_num,
    COUNT(*) FILTER (WHERE delivered_at >= $4 AND delivered_at < $1) AS return_den,
    COUNT(*) FILTER (WHERE delivered_at >= $4 AND delivered_at < $1 AND returned_at < $1) AS return_num,
    COUNT(*) FILTER (WHERE placed_at >= $4) AS refund_den,
    COUNT(*) FILTER (WHERE placed_at >= $4 AND seller_refund_at < $1) AS refund_num,
    COUNT(*) FILTER (WHERE placed_at >= $6 AND feedback_at IS NOT NULL) AS feedback_den,
    COUNT(*) FILTER (WHERE placed_at >= $6 AND feedback_rating IN (1,2)) AS feedback_num
  FROM orders WHERE placed_at >= $5 OR ship_by >= $5 OR shipped_at >= $5 OR deliver_by >= $5 OR delivered_at >= $5
  GROUP BY seller_id),
m AS (
  SELECT seller_id, COUNT(*) AS den, COUNT(*) FILTER (WHERE responded_at <= received_at + 86400000) AS num
  FROM buyer_messages WHERE needs_response AND received_at >= $4 AND received_at < $1 - 86400000
  GROUP BY seller_id)
SELECT COUNT(*) FROM o FULL JOIN m USING (seller_id)`

// evaluationRuns is how many times each side runs; the median is reported, so
// neither side is judged on a cold first run alone.
const evaluationRuns = 3

func benchEvaluation(ctx context.Context, e *env, orders int) (result, error) {
	var sweeps, hands []time.Duration
	for i := range evaluationRuns {
		sweep, err := evaluate(ctx, e, fmt.Sprintf("bench-sweep-%d", i))
		if err != nil {
			return result{}, err
		}
		sweeps = append(sweeps, sweep)
	}
	for range evaluationRuns {
		took, err := handWrittenSweep(ctx, e.pg)
		if err != nil {
			return result{}, err
		}
		hands = append(hands, took)
	}
	steps, err := sweepSteps(ctx, e, "bench-sweep-steps")
	if err != nil {
		return result{}, err
	}
	return result{Name: "evaluation", Measure: fmt.Sprintf("%d orders, sweep with case opening OFF vs one SQL query", orders), Ours: median(sweeps).Seconds(),
		Baseline: median(hands).Seconds(), Unit: "s", Aim: "ratio <= 2",
		Note: fmt.Sprintf("median of %d runs each (sweep %s; query %s); the sweep also stores a snapshot and the latest health of every seller and the evidence of breaches; %s",
			evaluationRuns, seconds(sweeps), seconds(hands), steps)}, nil
}

// handWrittenSweep runs the hand-written query once and says how long it took.
func handWrittenSweep(ctx context.Context, pg *pgx.Conn) (time.Duration, error) {
	now := time.Now()
	day := int64(24 * time.Hour / time.Millisecond)
	var n int
	err := pg.QueryRow(ctx, handWritten, now.UnixMilli(), now.UnixMilli()-60*day, now.UnixMilli()-7*day, now.UnixMilli()-30*day,
		now.UnixMilli()-180*day, now.UnixMilli()-90*day).Scan(&n)
	return time.Since(now), err
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func seconds(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%.2f s", d.Seconds()))
	}
	return strings.Join(parts, ", ")
}

func emptyWorkflow(workflow.Context) error { return nil }

// storm: time until k breaches are warned cases with queued mail, against starting
// (and finishing) k empty workflows on the same Temporal server. Meanwhile the
// API's /healthz and the sellers' health pages are sampled, to show they stay
// responsive.
func benchStorm(ctx context.Context, e *env, k int, sellers []string) (result, error) {
	e.sink.on = true
	defer func() { e.sink.on = false }()
	liveness := startProbe(func(int) (*http.Request, error) { return http.NewRequest("GET", e.api.URL+"/healthz", nil) })
	pages := startProbe(func(i int) (*http.Request, error) {
		req, err := http.NewRequest("GET", e.api.URL+"/v1/sellers/"+sellers[i%len(sellers)]+"/health", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+adminKey)
		}
		return req, err
	})
	start := time.Now()
	if _, err := evaluate(ctx, e, "bench-storm"); err != nil {
		return result{}, err
	}
	for {
		var cases, mails int
		if err := e.pg.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM cases WHERE state = 'warned'), (SELECT COUNT(*) FROM outbox WHERE template = 'warning')`).Scan(&cases, &mails); err != nil {
			return result{}, err
		}
		if cases >= k && mails >= k {
			break
		}
		if time.Since(start) > 30*time.Minute {
			return result{}, fmt.Errorf("storm: only %d cases and %d mails after 30 minutes", cases, mails)
		}
		time.Sleep(200 * time.Millisecond)
	}
	ours := time.Since(start)
	live, page := liveness.stop(), pages.stop()

	bare, err := emptyWorkflows(ctx, e.client, flow.TaskQueue, "empty", k)
	if err != nil {
		return result{}, err
	}
	return result{Name: "storm", Measure: fmt.Sprintf("%d breaches to warned cases + queued mail vs %d empty workflows", k, k),
		Ours: ours.Seconds(), Baseline: bare.Seconds(), Unit: "s", Aim: "ratio <= 3",
		Note: fmt.Sprintf("meanwhile /healthz %s; GET health %s", live, page), Failed: live.failed + page.failed}, nil
}

// api: GET /v1/sellers/{id}/health at 64 concurrent clients, against a bare Echo
// handler doing one indexed query on the same database.
func benchAPI(ctx context.Context, e *env, sellers []string, d time.Duration) ([]result, error) {
	// Both sides on a settled database: the sweep just rewrote every seller's
	// latest health, and autovacuum catching up would fall on whichever side ran
	// first.
	if _, err := e.pg.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return nil, err
	}
	ours, err := warmLoad(d, func(i int) (*http.Request, error) {
		s := sellers[i%len(sellers)]
		req, err := http.NewRequest("GET", e.api.URL+"/v1/sellers/"+s+"/health", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+adminKey)
		}
		return req, err
	})
	if err != nil {
		return nil, err
	}
	bare := echo.New()
	db := e.store.DB()
	bare.GET("/health/:id", func(c echo.Context) error {
		var evaluation string
		var at int64
		if err := db.QueryRowContext(c.Request().Context(), `SELECT evaluation_id, evaluated_at FROM seller_health WHERE seller_id = $1`, c.Param("id")).Scan(&evaluation, &at); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"evaluation_id": evaluation, "evaluated_at": at})
	})
	srv := httptest.NewServer(bare)
	defer srv.Close()
	base, err := warmLoad(d, func(i int) (*http.Request, error) {
		return http.NewRequest("GET", srv.URL+"/health/"+sellers[i%len(sellers)], nil)
	})
	if err != nil {
		return nil, err
	}
	return []result{
		{Name: "api", Measure: "GET health, requests/s at 64 clients", Ours: ours.rps, Baseline: base.rps, Unit: "req/s", Aim: "(informative)"},
		{Name: "api", Measure: "GET health, p50 latency", Ours: ours.p50, Baseline: base.p50, Unit: "ms", Aim: "(informative)"},
		{Name: "api", Measure: "GET health, p99 latency", Ours: ours.p99, Baseline: base.p99, Unit: "ms", Aim: "ratio <= 2"},
	}, nil
}

type loadResult struct{ rps, p50, p99 float64 }

// warmLoad runs a short untimed load first (connections, prepared statements,
// caches), then the measured one.
func warmLoad(d time.Duration, next func(i int) (*http.Request, error)) (loadResult, error) {
	if _, err := load(min(d/5, 2*time.Second), next); err != nil {
		return loadResult{}, err
	}
	return load(d, next)
}

// load runs 64 clients for d and measures throughput and latency.
func load(d time.Duration, next func(i int) (*http.Request, error)) (loadResult, error) {
	const clients = 64
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var lat []float64
	var firstErr error
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; time.Now().Before(deadline); i += clients {
				req, err := next(i)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				t := time.Now()
				resp, err := hc.Do(req)
				if err == nil {
					_, _ = bytes.NewBuffer(nil).ReadFrom(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("%s: %d", req.URL.Path, resp.StatusCode)
					}
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				lat = append(lat, float64(time.Since(t).Microseconds())/1000)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return loadResult{}, firstErr
	}
	sort.Float64s(lat)
	pct := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return loadResult{rps: float64(len(lat)) / d.Seconds(), p50: pct(0.50), p99: pct(0.99)}, nil
}

// tierEvaluate runs the tier evaluation of a quarter over every seller and waits
// for it, mail included.
func tierEvaluate(ctx context.Context, e *env, id, quarter string) (time.Duration, error) {
	if _, err := e.store.CreateTierEvaluation(ctx, id, quarter, "bench"); err != nil {
		return 0, err
	}
	start := time.Now()
	run, err := e.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: flow.TierEvaluationWorkflowID(id), TaskQueue: flow.TaskQueue},
		flow.TierEvaluationWorkflowType, flow.TierEvaluationInput{EvaluationID: id, Quarter: quarter})
	if err != nil {
		return 0, err
	}
	if err := run.Get(ctx, nil); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// handWrittenTiers computes the same quarter's criteria for every seller in one
// query, the way a person would write it by hand: the baseline of the tier
// evaluation.
const handWrittenTiers = `
SELECT COUNT(*) FROM (
  SELECT seller_id, COUNT(*) AS n,
    COUNT(*) FILTER (WHERE (feedback_rating IN (1,2) AND feedback_at < $2) OR (COALESCE(claim_outcome,'denied') <> 'denied' AND claim_at < $2) OR chargeback_at < $2) AS defects,
    COUNT(*) FILTER (WHERE cancelled_by IN ('seller','expired') AND cancelled_at < $2 AND (shipped_at IS NULL OR cancelled_at < shipped_at)) AS cancels,
    COUNT(*) FILTER (WHERE ship_by < $2 AND (shipped_at IS NULL OR shipped_at > ship_by)) AS late,
    COUNT(*) FILTER (WHERE shipped_at < $2) AS shipped,
    COUNT(*) FILTER (WHERE shipped_at < $2 AND tracking_number <> '' AND first_scan_at < $2) AS tracked
  FROM orders WHERE placed_at >= $1 AND placed_at < $2
  GROUP BY seller_id) t`

// benchTiers runs the tier evaluation of the quarter holding most of the orders
// three times (the first changes most sellers' tier and mails them; the others
// change nothing) against the hand-written query.
func benchTiers(ctx context.Context, e *env, orders int, now time.Time) (result, error) {
	q := health.QuarterOf(now.Add(-30 * 24 * time.Hour))
	var runs, hands []time.Duration
	for i := range evaluationRuns {
		took, err := tierEvaluate(ctx, e, fmt.Sprintf("bench-tiers-%d", i), q.String())
		if err != nil {
			return result{}, err
		}
		runs = append(runs, took)
	}
	for range evaluationRuns {
		start := time.Now()
		var n int
		if err := e.pg.QueryRow(ctx, handWrittenTiers, q.Start().UnixMilli(), q.End().UnixMilli()).Scan(&n); err != nil {
			return result{}, err
		}
		hands = append(hands, time.Since(start))
	}
	return result{Name: "tiers", Measure: fmt.Sprintf("%d orders, tier evaluation of %s vs one SQL query", orders, q), Ours: median(runs).Seconds(),
		Baseline: median(hands).Seconds(), Unit: "s", Aim: "ratio <= 2",
		Note: fmt.Sprintf("median of %d runs each (tier evaluations %s, the first mailing every change; query %s); the evaluation also stores every seller's tier and standing",
			evaluationRuns, seconds(runs), seconds(hands))}, nil
}
