package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	activitypb "go.temporal.io/api/activity/v1"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/accounthealth/accounthealth/activities/killpoint"
	"github.com/accounthealth/accounthealth/activities/mail"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// TestChaosKilledDevLosesNothing runs case lifecycles (breach, warning, enforcement,
// appeal, rejection, appeal, approval, reinstatement) against the real binary and
// SIGKILLs `dev` at seeded random kill points (package killpoint), starting it again
// on the same data dir after each kill with the next point armed. At the end, after
// one more kill and restart, it checks that no case was lost, every appeal and
// decision that got a 2xx is there, every mail arrived, and every repeated mail
// carries the Message-ID of its first copy (the one derived from its outbox key).
//
// AH_CHAOS_RUNS sets how many kills (default 4, with -short 2; by hand, e.g. 24),
// AH_CHAOS_SEED the seed (printed; default from the clock) and AH_CHAOS_DB the
// database, postgres or sqlite (default: the seed's parity).
func TestChaosKilledDevLosesNothing(t *testing.T) {
	kills := 4
	if testing.Short() {
		kills = 2
	}
	if v := os.Getenv("AH_CHAOS_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("AH_CHAOS_RUNS=%q: want a number of kills, at least 1", v)
		}
		kills = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("AH_CHAOS_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("AH_CHAOS_SEED=%q: want a number", v)
		}
		seed = s
	}
	db := map[uint64]string{0: "postgres", 1: "sqlite"}[seed%2]
	if v := os.Getenv("AH_CHAOS_DB"); v != "" {
		db = v
	}
	t.Logf("chaos: seed %d, %d kills, %s (again: AH_CHAOS_SEED=%d AH_CHAOS_RUNS=%d AH_CHAOS_DB=%s)", seed, kills, db, seed, kills, db)

	dataDir := t.TempDir()
	httpPort, temporalPort := freePort(t, false), freePort(t, true)
	env := []string{
		"AH_DATA_DIR=" + dataDir,
		fmt.Sprintf("AH_HTTP_ADDR=127.0.0.1:%d", httpPort),
		fmt.Sprintf("AH_TEMPORAL_DEV_PORT=%d", temporalPort),
		"AH_POLICY_FILE=" + chaosPolicy(t),
		"AH_ADMIN_KEY=admin-key-for-chaos-0123456789",
		"AH_MAIL_FROM=Account Health <health@chaos.example>",
		"AH_SMTP_URL=", "AH_TEMPORAL_ADDRESS=", "AH_DATABASE_URL=",
	}
	switch db {
	case "postgres":
		env = append(env, "AH_DATABASE_URL="+storetest.NewPostgresURL(t))
	case "sqlite":
	default:
		t.Fatalf("AH_CHAOS_DB=%q: want postgres or sqlite", db)
	}
	ch := &chaos{t: t, bin: buildBinary(t), env: env, seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		budget: kills, base: fmt.Sprintf("http://127.0.0.1:%d", httpPort), admin: "admin-key-for-chaos-0123456789",
		temporal: fmt.Sprintf("127.0.0.1:%d", temporalPort), began: time.Now()}
	t.Cleanup(ch.stop)
	ch.start()

	ch.reviewer = ch.provision("/v1/reviewers", func(try int) map[string]string {
		return map[string]string{"name": "Rita Reviewer", "email": fmt.Sprintf("rita%d@example.com", try)}
	})
	var rounds []*chaosRound
	for len(rounds) == 0 || len(ch.fired) < ch.budget {
		if len(rounds) > ch.budget+3 {
			t.Fatalf("%d rounds and only %d of %d kills fired", len(rounds), len(ch.fired), ch.budget)
		}
		rounds = append(rounds, ch.lifecycle(len(rounds)))
	}

	// One more kill, by the test, with nothing armed: what was acknowledged must
	// still be there after a restart.
	ch.step = "the test's own kill"
	ch.kill()
	ch.ensureUp()
	ch.verify(rounds)

	distinct := map[string]bool{}
	for _, f := range ch.fired {
		distinct[f.point+" in "+f.step] = true
	}
	t.Logf("chaos: seed %d, %s, %d rounds, %d kills at %d distinct points (point:N in step), %d restarts, %v",
		seed, db, len(rounds), len(ch.fired), len(distinct), ch.lives-1, ch.since())
	for _, f := range ch.fired {
		t.Logf("  killed at %-28s during %s", f.point, f.step)
	}
}

// chaosPolicy has a grace period of seconds and windows long enough that no
// appeal window or review SLA runs out while the test restarts `dev`.
func chaosPolicy(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	policy := "cases:\n  warning_grace: 5s\n  appeal_window: 30m\n  review_sla: 30m\n  info_response_window: 30m\n  max_appeals: 3\nevaluation:\n  sweep_interval: 0s\n"
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// maxHits is how often a point is reached in one lifecycle, at least: the
// highest N worth arming it for. A point left out is never armed here:
// evaluate.after-observe is reached only by evaluations begun before news was
// queued (workflow version "queued-news"), webhook.after-send only with a
// webhook registered (TestWebhookDeliveriesSurviveAKilledWorker kills there).
var maxHits = map[string]int{
	killpoint.EventsAfterCommit: 1, killpoint.EvaluateAfterStore: 1, killpoint.EvaluateAfterTell: 1,
	killpoint.RecordBeforeCommit: 3, killpoint.RecordAfterCommit: 3,
	killpoint.DeliverBeforeSend: 3, killpoint.DeliverAfterSend: 3, killpoint.DeliverAfterMark: 3,
	killpoint.AppealBeforeUpdate: 2, killpoint.AppealAfterUpdate: 2, killpoint.DecisionBeforeUpdate: 2, killpoint.DecisionAfterUpdate: 2,
}

type firedKill struct{ point, step string }

// chaos runs the real binary and kills it.
type chaos struct {
	t                     *testing.T
	bin                   string
	env                   []string
	seed                  uint64
	rng                   *rand.Rand
	budget                int
	base, admin, temporal string

	reviewer string // the reviewer's key; one reviewer decides every case
	began    time.Time

	cmd      *exec.Cmd
	exited   chan struct{}
	errs     *syncBuffer // this life's stderr
	lives    int
	byTest   bool   // the test killed this life itself
	deadPids []int  // lives killed at a kill point whose activities are not yet unstuck
	step     string // what the lifecycle is doing, for the report
	fired    []firedKill
	armedAt  map[string]bool // point:N already fired, to spread the kills
}

// nextSpec picks the kill point of the next life: point:N, seeded, preferring
// one not fired yet; none once the budget is spent.
func (ch *chaos) nextSpec() string {
	if len(ch.fired) >= ch.budget {
		return ""
	}
	var fresh, all []string
	for _, p := range killpoint.All {
		for n := 1; n <= maxHits[p]; n++ {
			s := fmt.Sprintf("%s:%d", p, n)
			all = append(all, s)
			if !ch.armedAt[s] {
				fresh = append(fresh, s)
			}
		}
	}
	if len(fresh) == 0 {
		fresh = all
	}
	return fresh[ch.rng.IntN(len(fresh))]
}

var killLine = regexp.MustCompile(`killpoint: (\S+) reached`)

// start runs `dev` until it answers /healthz; a life killed on its way up (a
// retried activity can reach its point at once) is counted and started again.
func (ch *chaos) start() {
	for {
		spec := ch.nextSpec()
		ch.lives++
		cmd := exec.Command(ch.bin, "dev")
		cmd.Env = append(append(os.Environ(), ch.env...), "AH_KILLPOINTS="+spec)
		ch.errs = &syncBuffer{}
		cmd.Stderr = ch.errs
		if err := cmd.Start(); err != nil {
			ch.t.Fatal(err)
		}
		ch.cmd, ch.exited = cmd, make(chan struct{})
		go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(ch.exited)
		ch.t.Logf("chaos: %v: life %d (pid %d) armed with %q", ch.since(), ch.lives, cmd.Process.Pid, spec)
		deadline := time.Now().Add(3 * time.Minute)
		for !ch.healthy() {
			if ch.dead() {
				break
			}
			if time.Now().After(deadline) {
				ch.t.Fatalf("dev not healthy after 3 minutes; its log:\n%s", tail(ch.errs.String(), 40))
			}
			time.Sleep(200 * time.Millisecond)
		}
		if ch.dead() {
			ch.record()
			continue
		}
		for _, pid := range ch.deadPids {
			ch.unstick(pid)
		}
		ch.deadPids = nil
		return
	}
}

func (ch *chaos) since() time.Duration { return time.Since(ch.began).Round(100 * time.Millisecond) }

func (ch *chaos) healthy() bool {
	resp, err := http.Get(ch.base + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (ch *chaos) dead() bool {
	select {
	case <-ch.exited:
		return true
	default:
		return false
	}
}

// record notes what killed the last life, and fails the test if it was not a kill point.
func (ch *chaos) record() {
	m := killLine.FindStringSubmatch(ch.errs.String())
	if m == nil {
		ch.t.Fatalf("dev died on its own, not at a kill point (%v); its log:\n%s", ch.cmd.ProcessState, tail(ch.errs.String(), 60))
	}
	if ch.armedAt == nil {
		ch.armedAt = map[string]bool{}
	}
	ch.armedAt[m[1]] = true
	ch.fired = append(ch.fired, firedKill{point: m[1], step: ch.step})
	ch.t.Logf("chaos: %v: killed at %s during %s", ch.since(), m[1], ch.step)
	ch.deadPids = append(ch.deadPids, ch.cmd.Process.Pid)
}

// ensureUp starts `dev` again if it died, and reports whether it had to.
func (ch *chaos) ensureUp() bool {
	if !ch.dead() {
		return false
	}
	if !ch.byTest {
		ch.record()
	}
	ch.byTest = false
	ch.start()
	return true
}

// kill is the test's own SIGKILL.
func (ch *chaos) kill() {
	ch.byTest = true
	_ = ch.cmd.Process.Kill()
	<-ch.exited
	ch.deadPids = append(ch.deadPids, ch.cmd.Process.Pid)
}

func (ch *chaos) stop() {
	if ch.cmd != nil && !ch.dead() {
		ch.kill()
	}
	if ch.t.Failed() && ch.errs != nil {
		ch.t.Logf("the last life's log:\n%s", tail(ch.errs.String(), 80))
	}
}

// unstick stands in for the minute Temporal waits before it gives an activity a
// killed worker had started to another worker (the activities' start-to-close
// timeout): it shortens that timeout, for the attempts the dead process held
// only, with Temporal's UpdateActivityOptions, so a kill costs seconds. What the
// retry then does is exactly what it would do a minute later.
func (ch *chaos) unstick(deadPid int) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := ch.dialTemporal(ctx)
	if err != nil {
		ch.t.Logf("unstick: %v", err)
		return
	}
	defer c.Close()
	prefix := fmt.Sprintf("%d@", deadPid)
	list, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "ExecutionStatus = 'Running'"})
	if err != nil {
		ch.t.Logf("unstick: list workflows: %v", err)
		return
	}
	for _, ex := range list.Executions {
		we := ex.GetExecution()
		desc, err := c.DescribeWorkflowExecution(ctx, we.GetWorkflowId(), we.GetRunId())
		if err != nil {
			continue
		}
		for _, pa := range desc.PendingActivities {
			if pa.State != enums.PENDING_ACTIVITY_STATE_STARTED || !strings.HasPrefix(pa.LastWorkerIdentity, prefix) {
				continue
			}
			_, err := c.WorkflowService().UpdateActivityOptions(ctx, &workflowservice.UpdateActivityOptionsRequest{
				Namespace: "default", Execution: &commonpb.WorkflowExecution{WorkflowId: we.GetWorkflowId(), RunId: we.GetRunId()},
				Activity:        &workflowservice.UpdateActivityOptionsRequest_Id{Id: pa.ActivityId},
				ActivityOptions: &activitypb.ActivityOptions{StartToCloseTimeout: durationpb.New(10 * time.Second)},
				UpdateMask:      &fieldmaskpb.FieldMask{Paths: []string{"start_to_close_timeout"}},
			})
			if err != nil {
				ch.t.Logf("unstick %s activity %s: %v", we.GetWorkflowId(), pa.ActivityId, err)
			}
		}
	}
}

func (ch *chaos) dialTemporal(ctx context.Context) (client.Client, error) {
	return client.DialContext(ctx, client.Options{HostPort: ch.temporal,
		Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
}

// closed reports whether a workflow has ended, and how.
func (ch *chaos) closed(workflowID string) (enums.WorkflowExecutionStatus, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := ch.dialTemporal(ctx)
	if err != nil {
		return 0, false
	}
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return 0, false
	}
	st := desc.GetWorkflowExecutionInfo().GetStatus()
	return st, st != enums.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// req sends one request; err is a transport error (dev died or is down).
func (ch *chaos) req(method, path, key string, body, out any, header ...string) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			ch.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	rq, err := http.NewRequest(method, ch.base+path, r)
	if err != nil {
		ch.t.Fatal(err)
	}
	rq.Header.Set("Content-Type", "application/json")
	rq.Header.Set("Authorization", "Bearer "+key)
	for i := 0; i+1 < len(header); i += 2 {
		rq.Header.Set(header[i], header[i+1])
	}
	hc := http.Client{Timeout: 2 * time.Minute}
	resp, err := hc.Do(rq)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			ch.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	if resp.StatusCode >= 500 {
		ch.t.Logf("chaos: %s %s answered %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, nil
}

// until runs f until it reports done, starting `dev` again whenever it died; the
// time limit counts from the last restart.
func (ch *chaos) until(step string, limit time.Duration, f func() bool) {
	ch.t.Helper()
	ch.step = step
	ch.t.Logf("chaos: %v: %s", ch.since(), step)
	deadline := time.Now().Add(limit)
	for {
		if ch.ensureUp() {
			deadline = time.Now().Add(limit)
		}
		if f() {
			return
		}
		if time.Now().After(deadline) {
			ch.t.Fatalf("%s: not done %v after the last restart (seed %d)", step, limit, ch.seed)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// provision creates a seller or reviewer and returns its key. A request that got
// no answer may have created it, without telling its key: the next try uses
// another id or address.
func (ch *chaos) provision(path string, body func(try int) map[string]string) string {
	var key string
	try := 0
	ch.until("provisioning "+path, 3*time.Minute, func() bool {
		var out struct {
			APIKey string `json:"api_key"`
		}
		try++
		code, err := ch.req("POST", path, ch.admin, body(try), &out)
		if err == nil && code != http.StatusCreated {
			ch.t.Fatalf("POST %s: %d", path, code)
		}
		key = out.APIKey
		return err == nil
	})
	return key
}

type chaosRound struct {
	seller, key, caseID string
	appeals             []string          // appeal ids, as acknowledged with 201
	decided             map[string]string // appeal id -> status a 200 acknowledged
}

// lifecycle drives one seller's case from breach to reinstatement, retrying
// every request that got no answer the way a careful client would: appeals with
// their Idempotency-Key, decisions by reading back whether they were taken.
func (ch *chaos) lifecycle(n int) *chaosRound {
	r := &chaosRound{decided: map[string]string{}}
	r.key = ch.provision("/v1/sellers", func(try int) map[string]string {
		r.seller = fmt.Sprintf("s%d-%d", n, try)
		return map[string]string{"id": r.seller, "name": "Shop " + r.seller, "email": r.seller + "@example.com"}
	})
	events := breachEvents(r.seller, time.Now().UTC())
	ch.until(r.seller+": events", 3*time.Minute, func() bool {
		code, err := ch.req("POST", "/v1/events", ch.admin, map[string]any{"events": events}, nil)
		if err == nil && code != http.StatusOK {
			ch.t.Fatalf("post events: %d", code)
		}
		return err == nil
	})
	var eval evaluation
	ch.until(r.seller+": evaluation", 3*time.Minute, func() bool {
		if eval.ID == "" {
			code, err := ch.req("POST", "/v1/evaluations", ch.admin, map[string]any{"seller_ids": []string{r.seller}}, &eval)
			if err != nil {
				return false
			}
			if code != http.StatusAccepted {
				ch.t.Fatalf("start evaluation: %d", code)
			}
		}
		var e evaluation
		if _, err := ch.req("GET", "/v1/evaluations/"+eval.ID, ch.admin, nil, &e); err != nil {
			return false
		}
		if e.Status == "failed" {
			ch.t.Fatalf("evaluation %s failed: %+v", eval.ID, e)
		}
		return e.Status == "completed"
	})
	ch.until(r.seller+": case opened", 3*time.Minute, func() bool {
		var list struct {
			Cases []caseResp `json:"cases"`
		}
		if _, err := ch.req("GET", "/v1/cases?seller_id="+r.seller, r.key, nil, &list); err != nil || len(list.Cases) == 0 {
			return false
		}
		r.caseID = list.Cases[0].ID
		return true
	})
	ch.waitState(r, "enforced")
	ch.appeal(r, 1)
	ch.decide(r, r.appeals[0], map[string]string{"decision": "reject", "reason_code": "actions_not_specific",
		"message": "Name the new courier and show the damage audit."}, "rejected")
	ch.appeal(r, 2)
	ch.decide(r, r.appeals[1], map[string]string{"decision": "approve", "message": "Thank you, this is thorough."}, "approved")
	ch.waitState(r, "reinstated")
	return r
}

func (ch *chaos) waitState(r *chaosRound, state string) {
	ch.until(r.caseID+": "+state, 3*time.Minute, func() bool {
		var c caseResp
		_, err := ch.req("GET", "/v1/cases/"+r.caseID, r.key, nil, &c)
		return err == nil && c.State == state
	})
}

func (ch *chaos) appeal(r *chaosRound, n int) {
	key := fmt.Sprintf("chaos-%s-%d", r.caseID, n)
	ch.until(fmt.Sprintf("%s: appeal %d", r.caseID, n), 3*time.Minute, func() bool {
		var out struct {
			Appeal appealResp `json:"appeal"`
		}
		code, err := ch.req("POST", "/v1/cases/"+r.caseID+"/appeals", r.key, goodPOA, &out, "Idempotency-Key", key)
		switch {
		case err != nil || code >= 500:
			return false
		case code != http.StatusCreated:
			ch.t.Fatalf("appeal %d of %s with Idempotency-Key %s: %d", n, r.caseID, key, code)
		}
		r.appeals = append(r.appeals, out.Appeal.ID)
		return true
	})
}

// decide sends a decision until it is acknowledged, or, after a try that got no
// answer, until the case shows it was taken (a retry is then refused with 409).
func (ch *chaos) decide(r *chaosRound, appealID string, body map[string]string, status string) {
	unanswered := false
	ch.until(r.caseID+": "+status, 3*time.Minute, func() bool {
		code, err := ch.req("POST", "/v1/appeals/"+appealID+"/decision", ch.reviewer, body, nil)
		switch {
		case err != nil || code >= 500:
			unanswered = true
			return false
		case code == http.StatusOK:
			r.decided[appealID] = status
			return true
		case code == http.StatusConflict && unanswered:
			var c caseResp
			if _, err := ch.req("GET", "/v1/cases/"+r.caseID, r.key, nil, &c); err != nil {
				return false
			}
			for _, a := range c.Appeals {
				if a.ID == appealID && a.Status != "submitted" {
					if a.Status != status {
						ch.t.Fatalf("appeal %s is %s after a %s decision that got no answer", appealID, a.Status, status)
					}
					return true
				}
			}
			return false
		}
		ch.t.Fatalf("decision %s on %s: %d", status, appealID, code)
		return false
	})
}

// verify checks, after the last restart, what the lifecycles were told.
func (ch *chaos) verify(rounds []*chaosRound) {
	t := ch.t
	for _, r := range rounds {
		var list struct {
			Cases []caseResp `json:"cases"`
		}
		ch.until(r.seller+": read back", time.Minute, func() bool {
			_, err := ch.req("GET", "/v1/cases?seller_id="+r.seller, ch.admin, nil, &list)
			return err == nil
		})
		if len(list.Cases) != 1 || list.Cases[0].ID != r.caseID {
			t.Errorf("seller %s has cases %+v, want exactly %s", r.seller, list.Cases, r.caseID)
		}
		var c caseResp
		ch.until(r.caseID+": read back", time.Minute, func() bool {
			_, err := ch.req("GET", "/v1/cases/"+r.caseID, ch.admin, nil, &c)
			return err == nil
		})
		var types []string
		for _, e := range c.Timeline {
			types = append(types, e.Type)
		}
		if got := strings.Join(types, " "); c.State != "reinstated" || got != "opened enforced appeal_submitted appeal_rejected appeal_submitted reinstated" {
			t.Errorf("case %s is %s with timeline %q", r.caseID, c.State, got)
		}
		status := map[string]string{}
		for _, a := range c.Appeals {
			status[a.ID] = a.Status
		}
		for _, id := range r.appeals {
			if _, ok := status[id]; !ok {
				t.Errorf("case %s: appeal %s was acknowledged (201) and is gone", r.caseID, id)
			}
		}
		for id, want := range r.decided {
			if status[id] != want {
				t.Errorf("case %s: appeal %s was acknowledged %s (200) and is %q", r.caseID, id, want, status[id])
			}
		}
	}

	// A reinstated case's workflow ends once its mail is delivered: then no copy is still to come.
	for _, r := range rounds {
		ch.until(r.caseID+": workflow ends", 3*time.Minute, func() bool {
			st, done := ch.closed("case/" + r.seller + "/odr")
			if done && st != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				t.Errorf("the workflow of case %s ended %s", r.caseID, st)
			}
			return done
		})
	}

	// Every mail arrived; the copies of one carry one Message-ID, its key's.
	var want []string
	for _, r := range rounds {
		for i, tmpl := range []string{"warning", "enforcement", "appeal_received", "rejected", "appeal_received", "reinstated"} {
			want = append(want, fmt.Sprintf("%s/%d/%s", r.caseID, i+1, tmpl))
		}
	}
	var byKey map[string][]chaosMail
	ch.until("mail", 3*time.Minute, func() bool {
		var out struct {
			Messages []chaosMail `json:"messages"`
		}
		if _, err := ch.req("GET", "/dev/mail", ch.admin, nil, &out); err != nil {
			return false
		}
		byKey = map[string][]chaosMail{}
		for _, m := range out.Messages {
			k := m.Headers["X-Accounthealth-Key"]
			byKey[k] = append(byKey[k], m)
		}
		for _, k := range want {
			if len(byKey[k]) == 0 {
				return false
			}
		}
		return true
	})
	dups := 0
	for k, copies := range byKey {
		if !slices.Contains(want, k) {
			t.Errorf("unexpected mail %q: %s", k, copies[0].Subject)
			continue
		}
		id := mail.MessageID(k, "chaos.example")
		for i, m := range copies {
			if m.Headers["Message-Id"] != id {
				t.Errorf("copy %d of %s has Message-ID %q, want %q (from its key, on every copy)", i+1, k, m.Headers["Message-Id"], id)
			}
		}
		if len(copies) > 1 {
			dups += len(copies) - 1
			t.Logf("chaos: %s arrived %d times, every copy with Message-ID %s", k, len(copies), id)
		}
	}
	t.Logf("chaos: %d mails, %d repeats", len(want), dups)
}

type chaosMail struct {
	Subject string            `json:"subject"`
	Headers map[string]string `json:"headers"`
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
