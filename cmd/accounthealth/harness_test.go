package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/accounthealth/accounthealth/api/apitest"
	"github.com/accounthealth/accounthealth/internal/loopback"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// freePort finds a loopback port that is free, and (for Temporal) port+1000 too.
func freePort(t *testing.T, withUI bool) int {
	t.Helper()
	offset := 0
	if withUI {
		offset = 1000
	}
	p, err := loopback.Port(offset)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuffer is a bytes.Buffer safe to write from the program and read from the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// devProcess is `accounthealth dev` run in this process with env, stopped at the end of the test.
type devProcess struct {
	base, adminKey string
	temporal       string // host:port of the embedded Temporal frontend
	out, errs      *syncBuffer
}

func startDev(t *testing.T, env map[string]string) *devProcess {
	t.Helper()
	httpPort := freePort(t, false)
	full := map[string]string{
		"AH_HTTP_ADDR":         fmt.Sprintf("127.0.0.1:%d", httpPort),
		"AH_TEMPORAL_DEV_PORT": fmt.Sprint(freePort(t, true)),
		"AH_DATA_DIR":          t.TempDir(),
		"AH_ADMIN_KEY":         "admin-key-for-tests-0123456789",
	}
	for k, v := range env {
		full[k] = v
	}
	d := &devProcess{base: "http://" + full["AH_HTTP_ADDR"], adminKey: full["AH_ADMIN_KEY"], out: &syncBuffer{}, errs: &syncBuffer{},
		temporal: "127.0.0.1:" + full["AH_TEMPORAL_DEV_PORT"]}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"dev"}, func(k string) string { return full[k] }, d.out, d.errs) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dev's log:\n%s", d.errs)
		}
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("dev did not stop within 30s of its context ending")
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case code := <-done:
			t.Fatalf("dev exited with %d\nstdout:\n%s\nstderr:\n%s", code, d.out, d.errs)
		default:
		}
		if resp, err := http.Get(d.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("dev not healthy after 2 minutes\nstdout:\n%s\nstderr:\n%s", d.out, d.errs)
	return nil
}

// call sends a JSON request with a key and decodes the JSON answer into out (if not nil).
func call(t *testing.T, method, url, key string, body any, out any) int {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	checkAnswer(t, req, resp, raw)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// openAPI checks answers against api/openapi.yaml, loaded once for all tests.
var openAPI = sync.OnceValues(apitest.NewValidator)

// checkAnswer fails the test when an answer is not one openapi.yaml describes
// (route, status, headers and body), so the document stays in step with the API.
func checkAnswer(t *testing.T, req *http.Request, resp *http.Response, raw []byte) {
	t.Helper()
	v, err := openAPI()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Check(req, resp.StatusCode, resp.Header, raw); err != nil {
		t.Error(err)
	}
}

type apiError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// saveHistory writes a workflow's history as JSON (the format `temporal workflow
// show --output json` writes) for the replay tests, when AH_RECORD_HISTORIES
// names the folder: AH_RECORD_HISTORIES=$PWD/workflows/testdata go test ./cmd/accounthealth/
func saveHistory(t *testing.T, d *devProcess, workflowID, name string) {
	dir := os.Getenv("AH_RECORD_HISTORIES")
	if dir == "" {
		return
	}
	h := historyOf(t, d, workflowID)
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote the history of %s (%d events) to %s", workflowID, len(h.Events), name)
}

// historyOf reads a workflow's whole history from the dev server.
func historyOf(t *testing.T, d *devProcess, workflowID string) *historypb.History {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: d.temporal})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var h historypb.History
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	return &h
}

// noMailKeysIn fails when a workflow's history carries a mail key (one starting
// with one of prefixes) in any payload: a shard names its mail as a batch, so
// the history stays the same size however much mail the shards queue.
func noMailKeysIn(t *testing.T, d *devProcess, workflowID string, prefixes ...string) {
	t.Helper()
	for _, e := range historyOf(t, d, workflowID).Events {
		raw, err := proto.Marshal(e) // payloads as they are stored, not base64
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range prefixes {
			if bytes.Contains(raw, []byte(p)) {
				t.Errorf("%s: event %d (%s) carries a mail key %q...", workflowID, e.EventId, e.EventType, p)
			}
		}
	}
}

// ranOn fails unless workflowID and every activity it scheduled ran on queue,
// but its batches of bulk mail, which must run on flow.BulkMailTaskQueue. It
// answers how many batches it found, each of them completed.
func ranOn(t *testing.T, d *devProcess, workflowID, queue string) (batches int) {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: d.temporal})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(context.Background(), workflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := desc.GetWorkflowExecutionInfo().GetTaskQueue(); got != queue {
		t.Errorf("%s ran on task queue %q, want %q", workflowID, got, queue)
	}
	activities, batchScheduled := 0, map[int64]bool{}
	for _, e := range historyOf(t, d, workflowID).Events {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			activities++
			want := queue
			if a.GetActivityType().GetName() == "DeliverBatch" {
				want, batchScheduled[e.GetEventId()] = flow.BulkMailTaskQueue, true
			}
			if got := a.GetTaskQueue().GetName(); got != want {
				t.Errorf("%s scheduled %s on task queue %q, want %q", workflowID, a.GetActivityType().GetName(), got, want)
			}
		}
		if a := e.GetActivityTaskCompletedEventAttributes(); a != nil && batchScheduled[a.GetScheduledEventId()] {
			batches++
		}
	}
	if activities == 0 {
		t.Errorf("%s scheduled no activity", workflowID)
	}
	if batches != len(batchScheduled) {
		t.Errorf("%s completed %d of its %d batches of mail", workflowID, batches, len(batchScheduled))
	}
	return batches
}
