// Package killpoint names the points in the code where a crash test may stop
// the process: after a transition commits, between the SMTP server's acceptance
// of a mail and its mark in the outbox, around an appeal's update, after an
// evaluation shard is stored. Unarmed, a point costs one atomic load.
//
// The armed set is package state, set once by main from AH_KILLPOINTS (or by a
// test), rather than passed down like the rest of the configuration: the points
// sit deep in the API, the activities and the workflows' helpers, and threading a
// test-only value through every constructor would touch every signature for
// something production never uses.
package killpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// Names of the points. A test picks from All; each is hit where its comment says.
const (
	EventsAfterCommit    = "events.after-commit"    // POST /v1/events stored its batch, not yet answered
	EvaluateAfterStore   = "evaluate.after-store"   // a shard's snapshots and progress are stored, its breaches not yet signalled
	EvaluateAfterTell    = "evaluate.after-tell"    // a shard's cases were told, what they were told not yet recorded
	EvaluateAfterObserve = "evaluate.after-observe" // a shard's breaches were signalled to their cases, the activity not yet returned
	RecordBeforeCommit   = "record.before-commit"   // a transition's mail is rendered, nothing written yet
	RecordAfterCommit    = "record.after-commit"    // a transition's record committed, the activity not yet returned
	DeliverBeforeSend    = "deliver.before-send"    // an unsent mail was read from the outbox
	DeliverAfterSend     = "deliver.after-send"     // the SMTP server accepted a mail, the outbox not yet marked
	DeliverAfterMark     = "deliver.after-mark"     // the outbox is marked sent, the activity not yet returned
	AppealBeforeUpdate   = "appeal.before-update"   // an appeal is valid, its workflow update not yet sent
	AppealAfterUpdate    = "appeal.after-update"    // the appeal's update returned to the handler, not yet answered
	DecisionBeforeUpdate = "decision.before-update" // a decision is valid, its workflow update not yet sent
	DecisionAfterUpdate  = "decision.after-update"  // the decision's update returned to the handler, not yet answered
	WebhookAfterSend     = "webhook.after-send"     // an endpoint answered 2xx to a delivery, not yet marked delivered
)

// All lists every point.
var All = []string{
	EventsAfterCommit, EvaluateAfterStore, EvaluateAfterTell, EvaluateAfterObserve, RecordBeforeCommit, RecordAfterCommit,
	DeliverBeforeSend, DeliverAfterSend, DeliverAfterMark,
	AppealBeforeUpdate, AppealAfterUpdate, DecisionBeforeUpdate, DecisionAfterUpdate,
	WebhookAfterSend, // the chaos test arms it never (it registers no endpoint); the webhook kill test does
}

// armed holds the points being counted down; nil when nothing is armed.
var armed atomic.Pointer[points]

type points struct {
	left map[string]*atomic.Int64 // read only after Arm; the counters change
	stop func(name string, n int64)
	n    map[string]int64
}

// Hit marks that the program reached the point name. When the point is armed
// and this is its Nth hit, the stop given to Arm runs (for the program: Kill).
func Hit(name string) {
	p := armed.Load()
	if p == nil {
		return
	}
	if c, ok := p.left[name]; ok && c.Add(-1) == 0 {
		p.stop(name, p.n[name])
	}
}

// Arm parses spec, a comma-separated list of name:N (N >= 1; ":N" may be left
// out for 1), and arms those points: stop runs at the Nth hit of each. It
// replaces whatever was armed; the returned disarm undoes it. An empty spec
// arms nothing.
func Arm(spec string, stop func(name string, n int64)) (disarm func(), err error) {
	p := &points{left: map[string]*atomic.Int64{}, n: map[string]int64{}, stop: stop}
	known := map[string]bool{}
	for _, name := range All {
		known[name] = true
	}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, count, hasCount := strings.Cut(item, ":")
		n := int64(1)
		if hasCount {
			n, err = strconv.ParseInt(count, 10, 64)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("kill point %q: the count must be a whole number of at least 1", item)
			}
		}
		if !known[name] {
			return nil, fmt.Errorf("kill point %q: unknown; known points are %s", name, strings.Join(All, ", "))
		}
		c := &atomic.Int64{}
		c.Store(n)
		p.left[name], p.n[name] = c, n
	}
	if len(p.left) == 0 {
		armed.Store(nil)
	} else {
		armed.Store(p)
	}
	return func() { armed.CompareAndSwap(p, nil) }, nil
}

// Kill ends the process at once with SIGKILL, as a crash or an OOM kill would:
// no deferred function, no graceful shutdown, nothing flushed. It first says
// where on stderr, so a test can tell which point stopped the process.
func Kill(name string, n int64) {
	fmt.Fprintf(os.Stderr, "killpoint: %s:%d reached, killing the process\n", name, n)
	self, err := os.FindProcess(os.Getpid())
	if err == nil {
		err = self.Kill()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "killpoint: cannot kill the process: %v\n", err)
		os.Exit(137)
	}
	select {} // SIGKILL is on its way; nothing after the point may run
}
