// Command bench measures accounthealth against baselines measured in the same run
// on the same machine: ingest against COPY, the sweep against one hand-written
// query, a breach storm against empty workflows, and the health endpoint against
// a bare handler. It prints each figure, its baseline and their ratio.
//
//	go run ./bench -size smoke|quick|full
//	go run ./bench -size marketplace   (1,000,000 sellers, 100,000,000 orders: hours, not for CI)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accounthealth/accounthealth/store/storetest"
)

func main() {
	sizeName := flag.String("size", "smoke", "smoke (a minute or two), quick (10,000 sellers, 1M orders), full (100,000 sellers, 10M orders) or marketplace (1M sellers, 100M orders, on the real binary)")
	only := flag.String("only", "ingest,evaluation,cases,cases-dev,tiers,api,storm,webhooks,growth", "which benchmarks to run, comma-separated (cases-dev builds the binary and sweeps through `accounthealth dev`)")
	out := flag.String("out", "bench/out", "folder for the JSON results")
	stormSellers := flag.Int("storm-sellers", 0, "sellers in breach in the storm and webhooks benchmarks (0: the size's)")
	mp := marketplace{Sellers: 1_000_000, Orders: 100_000_000}
	flag.IntVar(&mp.Sellers, "marketplace-sellers", mp.Sellers, "sellers of -size marketplace (fewer for a rehearsal)")
	flag.IntVar(&mp.Orders, "marketplace-orders", mp.Orders, "orders of -size marketplace")
	flag.DurationVar(&mp.TellLimit, "tell-limit", 45*time.Minute, "-size marketplace: how long to wait for every case to be told before comparing rates")
	flag.IntVar(&mp.BareSample, "bare-sample", 5_000, "-size marketplace: empty workflows that measure the bare rate")
	flag.DurationVar(&mp.LoadFor, "load-for", 20*time.Second, "-size marketplace: each slice of the health load")
	flag.Parse()
	if *sizeName == "marketplace" {
		if mp.Sellers < 20 || mp.Orders < mp.Sellers {
			fmt.Fprintln(os.Stderr, "bench: -marketplace-sellers must be at least 20 and -marketplace-orders at least as many")
			os.Exit(2)
		}
		step := func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
		}
		results, err := benchMarketplace(context.Background(), storetest.PostgresAdminURL(), mp, step)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		printTable(os.Stdout, size{Name: fmt.Sprintf("marketplace (%d sellers, %d orders)", mp.Sellers, mp.Orders)},
			serverSettings(context.Background(), storetest.PostgresAdminURL()), results, nil)
		save(*out, "marketplace", results)
		return
	}
	s, ok := sizes[*sizeName]
	if !ok {
		fmt.Fprintf(os.Stderr, "bench: -size %q: want smoke, quick, full or marketplace\n", *sizeName)
		os.Exit(2)
	}
	if *stormSellers > 0 { // a loaded machine may not finish 10,000 within the storm's 30 minutes
		s.StormSellers = *stormSellers
	}
	results, err := run(context.Background(), s, strings.Split(*only, ","), os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	save(*out, s.Name, results)
}

// save keeps the results as JSON in dir, as name.json.
func save(dir, name string, results []result) {
	if err := os.MkdirAll(dir, 0o755); err == nil {
		b, _ := json.MarshalIndent(results, "", "  ")
		_ = os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644)
	}
}

func run(ctx context.Context, s size, only []string, stdout, progress io.Writer) ([]result, error) {
	want := map[string]bool{}
	for _, o := range only {
		want[strings.TrimSpace(o)] = true
	}
	step := func(format string, args ...any) {
		fmt.Fprintf(progress, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	admin := storetest.PostgresAdminURL()
	now := time.Now().UTC()
	var results []result

	if want["evaluation"] || want["api"] || want["ingest"] || want["tiers"] {
		step("generating %d sellers and %d orders", s.Sellers, s.Orders)
		d := generate(1, s.Sellers, s.Orders, 0.05, now)
		if want["ingest"] {
			e, err := newEnv(ctx, admin)
			if err != nil {
				return nil, err
			}
			step("ingest: %d orders as events through the API, then the same rows through COPY", s.IngestOrders)
			if err := e.loadSellers(ctx, d.Sellers); err != nil {
				e.close()
				return nil, err
			}
			rs, err := benchIngest(ctx, e, d, s.IngestOrders)
			e.close()
			if err != nil {
				return nil, fmt.Errorf("ingest: %w", err)
			}
			results = append(results, rs...)
		}
		if want["evaluation"] || want["api"] || want["tiers"] {
			e, err := newEnv(ctx, admin)
			if err != nil {
				return nil, err
			}
			step("loading %d orders with COPY", len(d.Orders))
			if err := e.load(ctx, d); err != nil {
				e.close()
				return nil, err
			}
			if want["evaluation"] || want["api"] {
				step("evaluation: the sweep, then the hand-written query")
				r, err := benchEvaluation(ctx, e, len(d.Orders))
				if err != nil {
					e.close()
					return nil, fmt.Errorf("evaluation: %w", err)
				}
				if want["evaluation"] {
					results = append(results, r)
				}
			}
			if want["tiers"] {
				step("tiers: the tier evaluation of a quarter, then the hand-written query")
				r, err := benchTiers(ctx, e, len(d.Orders), now)
				if err != nil {
					e.close()
					return nil, fmt.Errorf("tiers: %w", err)
				}
				results = append(results, r)
			}
			if want["api"] {
				step("api: GET health at 64 clients for %s, then the bare handler", s.APIDuration)
				rs, err := benchAPI(ctx, e, d.Sellers, s.APIDuration)
				if err != nil {
					e.close()
					return nil, fmt.Errorf("api: %w", err)
				}
				results = append(results, rs...)
			}
			e.close()
		}
	}
	if want["cases"] {
		e, err := newEnv(ctx, admin)
		if err != nil {
			return nil, err
		}
		inBreach, healthy := casePopulations(s.Sellers/2, s.Orders/2, now)
		step("cases: %d sellers (5%% in breach) and %d without breach, %d orders each; sweeps with case opening on", len(inBreach.Sellers), len(healthy.Sellers), len(inBreach.Orders))
		err = e.load(ctx, inBreach)
		if err == nil {
			err = e.load(ctx, healthy)
		}
		if err != nil {
			e.close()
			return nil, err
		}
		rs, err := benchCases(ctx, e, inBreach, healthy)
		e.close()
		if err != nil {
			return nil, fmt.Errorf("cases: %w", err)
		}
		results = append(results, rs...)
	}
	if want["cases-dev"] {
		inBreach, healthy := casePopulations(s.Sellers/2, s.Orders/2, now)
		step("cases-dev: the same with the real binary (accounthealth dev, its SQLite-backed Temporal) driven over HTTP")
		rs, err := benchCasesDev(ctx, admin, inBreach, healthy)
		if err != nil {
			return nil, fmt.Errorf("cases-dev: %w", err)
		}
		results = append(results, rs...)
	}
	if want["storm"] {
		e, err := newEnv(ctx, admin)
		if err != nil {
			return nil, err
		}
		step("storm: %d sellers in breach at once", s.StormSellers)
		d := generate(2, s.StormSellers, s.StormSellers*20, 1, now)
		if err := e.load(ctx, d); err != nil {
			e.close()
			return nil, err
		}
		r, err := benchStorm(ctx, e, d.Breaches, d.Sellers)
		e.close()
		if err != nil {
			return nil, fmt.Errorf("storm: %w", err)
		}
		results = append(results, r)
	}
	if want["webhooks"] {
		step("webhooks: %d sellers in breach at once, without and with a webhook", s.StormSellers)
		d := generate(2, s.StormSellers, s.StormSellers*20, 1, now)
		var envs []*env
		for range 2 {
			e, err := newEnv(ctx, admin)
			if err == nil {
				envs = append(envs, e)
				err = e.load(ctx, d)
			}
			if err != nil {
				for _, e := range envs {
					e.close()
				}
				return nil, err
			}
		}
		r, err := benchWebhooks(ctx, envs[0], envs[1], d.Breaches)
		envs[0].close()
		envs[1].close()
		if err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
		results = append(results, r)
	}
	var growth []result
	if want["growth"] {
		for _, n := range s.GrowthOrders {
			e, err := newEnv(ctx, admin)
			if err != nil {
				return nil, err
			}
			step("growth: the sweep over %d orders", n)
			d := generate(3, max(1, n/100), n, 0.05, now)
			if err := e.load(ctx, d); err != nil {
				e.close()
				return nil, err
			}
			took, err := evaluate(ctx, e, "bench-growth")
			var again time.Duration
			if err == nil {
				again, err = evaluate(ctx, e, "bench-growth-again")
			}
			e.close()
			if err != nil {
				return nil, fmt.Errorf("growth: %w", err)
			}
			growth = append(growth, result{Name: "growth", Measure: fmt.Sprintf("sweep over %d orders (%d sellers)", n, len(d.Sellers)),
				Ours: took.Seconds(), Again: again.Seconds(), Baseline: float64(n) / 1e6, Unit: "s"})
		}
	}
	printTable(stdout, s, serverSettings(ctx, admin), results, growth)
	return append(results, growth...), nil
}

// serverSettings names the PostgreSQL settings the figures depend on. Autovacuum
// above all: a server without it never analyzes the tables a sweep fills, and the
// planner then scans them whole (README, Performance).
func serverSettings(ctx context.Context, url string) string {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "PostgreSQL settings unknown: " + err.Error()
	}
	defer conn.Close(ctx)
	var version, autovacuum, buffers string
	err = conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('autovacuum'), current_setting('shared_buffers')`).
		Scan(&version, &autovacuum, &buffers)
	if err != nil {
		return "PostgreSQL settings unknown: " + err.Error()
	}
	return fmt.Sprintf("PostgreSQL %s, autovacuum %s, shared_buffers %s", version, autovacuum, buffers)
}

func printTable(w io.Writer, s size, server string, results, growth []result) {
	fmt.Fprintf(w, "\naccounthealth bench, size %s, on %d cores (%s/%s), %s, %s\n\n", s.Name, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, server, time.Now().Format("2006-01-02"))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "benchmark\tmeasure\tours\tbaseline\tunit\tratio\taim\t")
	for _, r := range results {
		ours, ratio := fmt.Sprintf("%.1f", r.Ours), fmt.Sprintf("%.2f", r.Ratio())
		if r.Missing != "" {
			ours, ratio = r.Missing, "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\t%s\t%s\t\n", r.Name, r.Measure, ours, r.Baseline, r.Unit, ratio, r.Aim)
	}
	tw.Flush()
	for _, r := range results {
		if r.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.Name, r.Note)
		}
	}
	if len(growth) > 0 {
		fmt.Fprintln(w, "\nhow the sweep's cost grows (case opening off; the first sweep of new facts mails every eligible seller a program invitation, the second sweep of the same facts invites no one):")
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "orders\tfirst sweep s\tper million orders\tsecond sweep s\tper million orders\t")
		for _, g := range growth {
			fmt.Fprintf(tw, "%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", g.Baseline*1e6, g.Ours, g.Ours/g.Baseline, g.Again, g.Again/g.Baseline)
		}
		tw.Flush()
	}
}

// probe samples requests' latency in the background, one every 50 ms. A request
// that fails or answers anything but 200 is counted as failed, not timed.
type probe struct {
	stopCh chan struct{}
	done   chan probeResult
}

type probeResult struct {
	ok, failed int
	p50, p99   float64 // milliseconds, of the requests that succeeded
}

func (r probeResult) String() string {
	return fmt.Sprintf("p50 %.1f ms, p99 %.1f ms, %d requests, %d failed", r.p50, r.p99, r.ok+r.failed, r.failed)
}

// probeClient gives up on a request after 5 s: a hung API counts as failed samples.
var probeClient = &http.Client{Timeout: 5 * time.Second}

func startProbe(next func(i int) (*http.Request, error)) *probe {
	p := &probe{stopCh: make(chan struct{}), done: make(chan probeResult)}
	go func() {
		var lat []float64
		failed := 0
		for i := 0; ; i++ {
			select {
			case <-p.stopCh:
				p.done <- summarise(lat, failed)
				return
			case <-time.After(50 * time.Millisecond):
			}
			req, err := next(i)
			if err != nil {
				failed++
				continue
			}
			t := time.Now()
			resp, err := probeClient.Do(req)
			if err != nil {
				failed++
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				failed++
				continue
			}
			lat = append(lat, float64(time.Since(t).Microseconds())/1000)
		}
	}()
	return p
}

func summarise(lat []float64, failed int) probeResult {
	r := probeResult{ok: len(lat), failed: failed}
	if len(lat) > 0 {
		sort.Float64s(lat)
		r.p50, r.p99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return r
}

func (p *probe) stop() probeResult {
	close(p.stopCh)
	return <-p.done
}
