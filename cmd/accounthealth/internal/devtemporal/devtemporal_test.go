package devtemporal

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/accounthealth/accounthealth/internal/loopback"
)

const (
	testNamespace = "accounthealth-test"
	taskQueue     = "devtemporal-test"
	waitingID     = "waits-for-signal"
	signalName    = "go"
)

func EchoWorkflow(_ workflow.Context, s string) (string, error) { return "echo " + s, nil }

func WaitSignalWorkflow(ctx workflow.Context) (string, error) {
	var v string
	workflow.GetSignalChannel(ctx, signalName).Receive(ctx, &v)
	return "got " + v, nil
}

// stderr, not t.Log: server goroutines may log after the test returns.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// freeTestPort finds P such that P and P+1000 (its UI) are both free.
func freeTestPort(t *testing.T) int {
	t.Helper()
	p, err := loopback.Port(uiPortOffset)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func start(t *testing.T, dir string, port int) *Server {
	t.Helper()
	began := time.Now()
	s, err := Start(t.Context(), Options{DataDir: dir, Port: port, Namespace: testNamespace, Logger: testLogger()})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("started in %v", time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() { _ = s.Stop() }) // no-op if already stopped
	return s
}

func stop(t *testing.T, s *Server) {
	t.Helper()
	began := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("stopped in %v", time.Since(began).Round(time.Millisecond))
}

// connect dials the server and runs a worker for the test workflows. The
// returned func stops both; call it before stopping the server, or the worker
// would reconnect to the next server on the same port.
func connect(t *testing.T, s *Server) (client.Client, func()) {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  s.FrontendAddress(),
		Namespace: testNamespace,
		Logger:    sdklog.NewStructuredLogger(testLogger()),
	})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(EchoWorkflow)
	w.RegisterWorkflow(WaitSignalWorkflow)
	if err := w.Start(); err != nil {
		t.Fatalf("worker: %v", err)
	}
	var once sync.Once
	closeFn := func() {
		once.Do(func() {
			w.Stop()
			c.Close()
		})
	}
	t.Cleanup(closeFn)
	return c, closeFn
}

// startWaiting starts WaitSignalWorkflow and returns once a worker has run its
// first workflow task, so the restart happens mid-execution.
func startWaiting(ctx context.Context, c client.Client) error {
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: waitingID, TaskQueue: taskQueue}, WaitSignalWorkflow); err != nil {
		return err
	}
	for {
		d, err := c.DescribeWorkflowExecution(ctx, waitingID, "")
		if err == nil && d.GetWorkflowExecutionInfo().GetHistoryLength() >= 4 && d.GetPendingWorkflowTask() == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("first workflow task not completed: %w (last: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// signalAndFinish signals the waiting workflow and checks its result.
func signalAndFinish(t *testing.T, ctx context.Context, c client.Client) {
	t.Helper()
	if err := c.SignalWorkflow(ctx, waitingID, "", signalName, "hello"); err != nil {
		t.Fatalf("signal: %v", err)
	}
	var got string
	if err := c.GetWorkflow(ctx, waitingID, "").Get(ctx, &got); err != nil {
		t.Fatalf("waiting workflow: %v", err)
	}
	if got != "got hello" {
		t.Fatalf("waiting workflow result = %q", got)
	}
}

func TestRestartKeepsWorkflows(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet: Start creates it
	port := freeTestPort(t)

	s := start(t, dir, port)
	if got, want := s.FrontendAddress(), "127.0.0.1:"+strconv.Itoa(port); got != want {
		t.Errorf("FrontendAddress = %q, want %q", got, want)
	}
	if got, want := s.UIAddress(), "http://127.0.0.1:"+strconv.Itoa(port+uiPortOffset); got != want {
		t.Errorf("UIAddress = %q, want %q", got, want)
	}
	c, closeClient := connect(t, s)

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: taskQueue}, EchoWorkflow, "hi")
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	var echo string
	if err := run.Get(ctx, &echo); err != nil || echo != "echo hi" {
		t.Fatalf("echo workflow = %q, %v", echo, err)
	}
	if err := startWaiting(ctx, c); err != nil {
		t.Fatal(err)
	}
	closeClient()
	stop(t, s)
	if _, err := os.Stat(filepath.Join(dir, dbFileName)); err != nil {
		t.Fatalf("db file: %v", err)
	}

	s = start(t, dir, port)
	c, closeClient = connect(t, s)
	signalAndFinish(t, ctx, c)

	// The first run's workflow is still visible after the restart.
	if _, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID()); err != nil {
		t.Errorf("echo workflow lost across restart: %v", err)
	}

	resp, err := http.Get(s.UIAddress() + "/")
	if err != nil {
		t.Fatalf("UI: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("UI / status = %d", resp.StatusCode)
	}
	closeClient()
	stop(t, s)
}

const helperEnv = "DEVTEMPORAL_TEST_HELPER" // "dir:port"

// TestKillHelper is not a test: TestSurvivesSIGKILL runs it in a child process
// that starts the server and a waiting workflow, then waits to be killed.
func TestKillHelper(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("helper process only")
	}
	i := strings.LastIndexByte(spec, ':')
	port, _ := strconv.Atoi(spec[i+1:])
	s := start(t, spec[:i], port)
	c, _ := connect(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := startWaiting(ctx, c); err != nil {
		t.Fatal(err)
	}
	fmt.Println("READY")
	<-ctx.Done()
	t.Fatal("helper was not killed")
}

func TestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	port := freeTestPort(t)

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir+":"+strconv.Itoa(port))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "READY" {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			t.Fatal("helper exited before READY")
		}
	case <-ctx.Done():
		t.Fatal("helper not ready")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()

	s := start(t, dir, port)
	c, closeClient := connect(t, s)
	signalAndFinish(t, ctx, c)
	closeClient()
	stop(t, s)
}

func TestTwoInstancesAndBusyPort(t *testing.T) {
	a := start(t, t.TempDir(), freeTestPort(t))
	b := start(t, t.TempDir(), freeTestPort(t))

	// A taken frontend port is an error, not a process exit.
	_, port, _ := net.SplitHostPort(a.FrontendAddress())
	p, _ := strconv.Atoi(port)
	if _, err := Start(t.Context(), Options{DataDir: t.TempDir(), Port: p, Namespace: testNamespace, Logger: testLogger()}); err == nil {
		t.Fatal("Start on a busy port succeeded")
	} else {
		t.Logf("busy port: %v", err)
	}
	stop(t, b)
	stop(t, a)
}
