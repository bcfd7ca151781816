package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/accounthealth/accounthealth/internal/loopback"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// devSystem is the real binary run as `accounthealth dev` (its embedded Temporal
// keeps its state in SQLite in the data folder) on a fresh PostgreSQL database,
// driven over HTTP as a user would.
type devSystem struct {
	base     string
	temporal string
	url      string // its PostgreSQL database
	pg       *pgx.Conn
	cmd      *exec.Cmd
	logs     bytes.Buffer
	closers  []func()
}

func (d *devSystem) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

// freeAddr is a free loopback port; for Temporal, port+1000 (its UI) must be free too.
func freeAddr(withUI bool) (int, error) {
	if withUI {
		return loopback.Port(1000)
	}
	return loopback.Port(0)
}

// startDev builds the binary and starts `accounthealth dev`, with no sweep schedule.
func startDev(ctx context.Context, pgAdmin string) (*devSystem, error) {
	d := &devSystem{}
	dir, err := os.MkdirTemp("", "ah-bench-dev-")
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, func() { _ = os.RemoveAll(dir) })
	bin := filepath.Join(dir, "accounthealth")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/accounthealth/accounthealth/cmd/accounthealth").CombinedOutput(); err != nil {
		return d, fmt.Errorf("go build: %v\n%s", err, out)
	}
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte("evaluation:\n  sweep_interval: 0s\n"), 0o644); err != nil {
		return d, err
	}
	u, drop, err := storetest.CreateDatabase(ctx, pgAdmin)
	if err != nil {
		return d, err
	}
	d.closers = append(d.closers, drop)
	d.url = u
	httpPort, err := freeAddr(false)
	if err != nil {
		return d, err
	}
	tPort, err := freeAddr(true)
	if err != nil {
		return d, err
	}
	d.base, d.temporal = fmt.Sprintf("http://127.0.0.1:%d", httpPort), fmt.Sprintf("127.0.0.1:%d", tPort)
	d.cmd = exec.Command(bin, "dev")
	d.cmd.Env = append(os.Environ(), "AH_DATABASE_URL="+u, "AH_DATA_DIR="+filepath.Join(dir, "data"), "AH_HTTP_ADDR="+fmt.Sprintf("127.0.0.1:%d", httpPort),
		"AH_TEMPORAL_DEV_PORT="+fmt.Sprint(tPort), "AH_ADMIN_KEY="+adminKey, "AH_POLICY_FILE="+policy,
		"AH_IN_FLIGHT_PER_CLIENT=1000") // the benchmark's 64 clients share one address
	d.cmd.Stdout, d.cmd.Stderr = io.Discard, &d.logs
	if err := d.cmd.Start(); err != nil {
		return d, err
	}
	exited := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(exited) }()
	d.closers = append(d.closers, func() {
		_ = d.cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = d.cmd.Process.Kill()
			<-exited
		}
	})
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		select {
		case <-exited:
			return d, fmt.Errorf("dev exited:\n%s", d.logs.String())
		default:
		}
		if resp, err := http.Get(d.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return d, fmt.Errorf("dev not healthy after 3 minutes:\n%s", d.logs.String())
		}
	}
	if d.pg, err = pgx.Connect(ctx, u); err != nil {
		return d, err
	}
	d.closers = append(d.closers, func() { _ = d.pg.Close(context.Background()) })
	return d, nil
}

// call sends a request with the admin key and decodes the answer into out.
func (d *devSystem) call(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

// sweep starts an evaluation of the sellers with POST /v1/evaluations and
// follows it with GET /v1/evaluations/{id}.
func (d *devSystem) sweep(ctx context.Context, sellers []string) (sweepTimes, error) {
	start := time.Now()
	var started struct{ ID string }
	if err := d.call(ctx, "POST", "/v1/evaluations", map[string]any{"seller_ids": sellers}, &started); err != nil {
		return sweepTimes{}, err
	}
	var t sweepTimes
	for deadline := time.Now().Add(30 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		var e struct {
			Status           string `json:"status"`
			SellersTotal     int    `json:"sellers_total"`
			SellersEvaluated int    `json:"sellers_evaluated"`
		}
		if err := d.call(ctx, "GET", "/v1/evaluations/"+started.ID, nil, &e); err != nil {
			return t, err
		}
		if t.facts == 0 && e.SellersTotal > 0 && e.SellersEvaluated >= e.SellersTotal {
			t.facts = time.Since(start)
		}
		switch e.Status {
		case "completed":
			t.ended = time.Since(start)
			if t.facts == 0 {
				t.facts = t.ended
			}
			return t, t.lastTold(ctx, d.pg, started.ID, start)
		case "failed":
			return t, fmt.Errorf("evaluation %s failed", started.ID)
		}
		if time.Now().After(deadline) {
			return t, fmt.Errorf("evaluation %s not completed in 30 minutes", started.ID)
		}
	}
}

// benchCasesDev is benchCases against the real binary: its Temporal is the dev
// server's, SQLite-backed. The empty workflows run on the same server, on a task
// queue of their own served by a worker in this process.
func benchCasesDev(ctx context.Context, pgAdmin string, inBreach, healthy dataset) ([]result, error) {
	d, err := startDev(ctx, pgAdmin)
	defer func() {
		if d != nil {
			d.close()
		}
	}()
	if err != nil {
		return nil, err
	}
	loader := &env{pg: d.pg}
	if err := loader.load(ctx, inBreach); err != nil {
		return nil, err
	}
	if err := loader.load(ctx, healthy); err != nil {
		return nil, err
	}
	c, err := client.Dial(client.Options{HostPort: d.temporal, Namespace: "default", Logger: quietSDK{}})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	const queue = "bench-bare"
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflow(emptyWorkflow)
	if err := w.Start(); err != nil {
		return nil, err
	}
	defer w.Stop()
	rs, err := runCases(ctx, casesTarget{label: "dev", pg: d.pg,
		sweep: func(ctx context.Context, _ string, sellers []string) (sweepTimes, error) {
			return d.sweep(ctx, sellers)
		},
		bare: func(ctx context.Context, k int) (time.Duration, error) {
			return emptyWorkflows(ctx, c, queue, "bare", k)
		}}, inBreach, healthy)
	if err != nil && strings.TrimSpace(d.logs.String()) != "" {
		err = fmt.Errorf("%w\ndev's log (end):\n%s", err, tailOf(d.logs.String(), 20))
	}
	return rs, err
}

func tailOf(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}
