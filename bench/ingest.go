package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// ingestClients is how many producers post at once in the main ingest figure.
	ingestClients = 4
	// ingestBatch is how many events a producer posts in one request.
	ingestBatch = 5_000
)

// benchIngest: events per second through POST /v1/events against a bare COPY of
// the same events into a table with a primary key, in the same Postgres. The
// events are posted as a marketplace streams them: in the order they happened,
// so an order is placed in one batch and shipped, scanned, delivered and
// reviewed in later ones, each of which updates the stored order. Half the
// orders go from one client; the other half from ingestClients at once, the
// sellers split among them by hash (as a partitioned stream would), each
// client's stream in time order.
func benchIngest(ctx context.Context, e *env, d dataset, n int) ([]result, error) {
	// Both sides get their input ready before the clock starts: the request bodies
	// here, the rows for COPY below. What is timed is the system taking them in.
	half := n / 2
	oneStream := timeOrdered(d.Orders[:half])
	parts := make([][]order, ingestClients)
	for _, o := range d.Orders[half:n] {
		h := fnv.New32a()
		h.Write([]byte(o.Seller))
		k := h.Sum32() % ingestClients
		parts[k] = append(parts[k], o)
	}
	manyStreams := make([][]map[string]any, ingestClients)
	for k, p := range parts {
		manyStreams[k] = timeOrdered(p)
	}
	oneBodies, err := bodies(oneStream)
	if err != nil {
		return nil, err
	}
	manyBodies := make([][][]byte, ingestClients)
	manyEvents := 0
	for k, s := range manyStreams {
		if manyBodies[k], err = bodies(s); err != nil {
			return nil, err
		}
		manyEvents += len(s)
	}

	waits := sampleWaits(ctx, e.dbURL)
	one, marks, err := postStreams(ctx, e, [][][]byte{oneBodies})
	oneWaits := waits()
	if err != nil {
		return nil, err
	}
	many, _, err := postStreams(ctx, e, manyBodies)
	if err != nil {
		return nil, err
	}
	if err := checkIngested(ctx, e, d.Orders[:n]); err != nil {
		return nil, err
	}

	var rows [][]any
	for _, s := range append([][]map[string]any{oneStream}, manyStreams...) {
		for _, ev := range s {
			body, err := json.Marshal(ev)
			if err != nil {
				return nil, err
			}
			rows = append(rows, []any{ev["id"], ev["type"], ev["at"], ev["seller_id"], ev["order_id"], body})
		}
	}
	// COPY's rate varies from run to run more than the API's does: the median of
	// three, each into a fresh table.
	var copies []time.Duration
	for i := range 3 {
		table := fmt.Sprintf("bench_events_%d", i)
		if _, err := e.pg.Exec(ctx, `CREATE TABLE `+table+` (id TEXT PRIMARY KEY, type TEXT, at TEXT, seller_id TEXT, order_id TEXT, body JSONB)`); err != nil {
			return nil, err
		}
		start := time.Now()
		_, err = e.pg.CopyFrom(ctx, pgx.Identifier{table}, []string{"id", "type", "at", "seller_id", "order_id", "body"}, pgx.CopyFromRows(rows))
		if err != nil {
			return nil, err
		}
		copies = append(copies, time.Since(start))
	}
	cp := float64(len(rows)) / median(copies).Seconds()
	return []result{
		{Name: "ingest", Measure: fmt.Sprintf("%d events from %d clients, API vs COPY", manyEvents, ingestClients),
			Ours: float64(manyEvents) / many.Seconds(), Baseline: cp, Unit: "events/s", Aim: "ratio >= 0.5"},
		{Name: "ingest", Measure: fmt.Sprintf("%d events from 1 client, API vs COPY", len(oneStream)),
			Ours: float64(len(oneStream)) / one.Seconds(), Baseline: cp, Unit: "events/s", Aim: "ratio >= 0.3 (full)",
			Note: fmt.Sprintf("1 client, %d-event batches in time order: %s; waits of the active backends: %s",
				ingestBatch, tenths(marks[0], len(oneStream)), oneWaits)},
	}, nil
}

// timeOrdered tells the orders' events in the order they happened. The sort is
// stable, so an order's own events that share an instant keep events' order
// (the placement first).
func timeOrdered(orders []order) []map[string]any {
	evs := events(orders)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i]["at"].(string) < evs[j]["at"].(string) })
	return evs
}

// bodies cuts a stream into request bodies of ingestBatch events.
func bodies(evs []map[string]any) ([][]byte, error) {
	var out [][]byte
	for from := 0; from < len(evs); from += ingestBatch {
		b, err := json.Marshal(map[string]any{"events": evs[from:min(from+ingestBatch, len(evs))]})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// postStreams posts each stream from a client of its own, one request after
// another, all streams at once. It returns how long it took until the last was
// stored and, for each stream, when each of its requests was answered.
func postStreams(ctx context.Context, e *env, streams [][][]byte) (time.Duration, [][]time.Duration, error) {
	marks := make([][]time.Duration, len(streams))
	errs := make([]error, len(streams))
	var wg sync.WaitGroup
	start := time.Now()
	for k, s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, body := range s {
				req, _ := http.NewRequestWithContext(ctx, "POST", e.api.URL+"/v1/events", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+adminKey)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("post events: %d", resp.StatusCode)
					}
				}
				if err != nil {
					errs[k] = err
					return
				}
				marks[k] = append(marks[k], time.Since(start))
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, nil, err
		}
	}
	return time.Since(start), marks, nil
}

// checkIngested makes sure the streams did what they say: every order stored,
// and the follow-ups that came in later batches merged into it.
func checkIngested(ctx context.Context, e *env, orders []order) error {
	var delivered, feedback, chargebacks int
	for _, o := range orders {
		if o.Deliv != nil {
			delivered++
		}
		if o.Feedback > 0 {
			feedback++
		}
		if o.Chargeback {
			chargebacks++
		}
	}
	var n, nd, nf, nc, ns int
	err := e.pg.QueryRow(ctx, `SELECT count(*), count(delivered_at), count(feedback_at), count(chargeback_at),
		count(*) FILTER (WHERE shipped_at IS NOT NULL AND first_scan_at IS NOT NULL AND tracking_number IS NOT NULL) FROM orders`).Scan(&n, &nd, &nf, &nc, &ns)
	if err != nil {
		return err
	}
	if n != len(orders) || nd != delivered || nf != feedback || nc != chargebacks || ns != len(orders) {
		return fmt.Errorf("stored %d orders (%d delivered, %d feedback, %d chargebacks, %d shipped and scanned), want %d (%d, %d, %d, %d)",
			n, nd, nf, nc, ns, len(orders), delivered, feedback, chargebacks, len(orders))
	}
	return nil
}

// tenths is the rate of a stream over its first and last tenth of requests,
// which shows how it changes as the tables and their indexes grow.
func tenths(marks []time.Duration, events int) string {
	if len(marks) < 10 {
		return "too few batches to compare"
	}
	per := float64(events) / float64(len(marks))
	k := len(marks) / 10
	first := float64(k) * per / marks[k-1].Seconds()
	last := float64(k) * per / (marks[len(marks)-1] - marks[len(marks)-1-k]).Seconds()
	return fmt.Sprintf("%.0f events/s over the first tenth of batches, %.0f over the last", first, last)
}

// sampleWaits samples, every 50 ms until the returned function is called, what
// the database's backends inside a statement or a transaction wait on (CPU:
// nothing; Client:ClientRead: the next statement of the transaction), and
// returns the shares.
func sampleWaits(ctx context.Context, dbURL string) func() string {
	stop, done := make(chan struct{}), make(chan string)
	go func() {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			<-stop
			done <- "not sampled: " + err.Error()
			return
		}
		defer conn.Close(ctx)
		counts, total := map[string]int{}, 0
		for {
			select {
			case <-stop:
				done <- shares(counts, total)
				return
			case <-time.After(50 * time.Millisecond):
			}
			rows, err := conn.Query(ctx, `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
				WHERE datname = current_database() AND state IN ('active', 'idle in transaction') AND pid <> pg_backend_pid()`)
			if err != nil {
				continue
			}
			for rows.Next() {
				var w string
				if rows.Scan(&w) == nil {
					counts[w]++
					total++
				}
			}
			rows.Close()
		}
	}()
	return func() string {
		close(stop)
		return <-done
	}
}

func shares(counts map[string]int, total int) string {
	if total == 0 {
		return "none seen"
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
	var parts []string
	for _, k := range keys[:min(5, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", k, 100*float64(counts[k])/float64(total)))
	}
	return fmt.Sprintf("%s (%d samples)", strings.Join(parts, ", "), total)
}
