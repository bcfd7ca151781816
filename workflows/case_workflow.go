package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// Workflow versions: a running case replays through the branch it was recorded on.
const (
	// changeOrderedMail delivers a record's mails one after another.
	changeOrderedMail = "ordered-mail"
	// changeHandlersFirst registers the update handlers before the case opens,
	// and lets a case carry its state into a new run when its history grows long.
	// Runs recorded before it register them after the opening (registering yields,
	// which orders that run's commands) and never continue as new.
	changeHandlersFirst = "handlers-first"
	// changeSearchAttributes keeps the case's search attributes (flow.Search*) up to
	// date. Runs recorded before it upsert none: their histories have no such commands.
	changeSearchAttributes = "search-attributes"
	// changeWithdrawal lets a reviewer withdraw a case (the withdraw update).
	changeWithdrawal = "withdrawal"
	// changeConfirmation holds a suspension for a reviewer's confirmation when the
	// case's policy asks it (cases.confirm_suspension).
	changeConfirmation = "confirm-suspension"
)

// maxObservationsPerRun bounds a run's history: a notify-only case that stays in
// breach hears of every sweep, and each is a timeline entry.
const maxObservationsPerRun = 200

// seenEvaluationsKept is how many evaluation ids a case remembers to recognise a
// retried shard's repeat; a retry comes soon after its first try.
const seenEvaluationsKept = 64

// caseRun is one run of a case's workflow.
type caseRun struct {
	in       flow.CaseInput
	c        health.Case
	seq      int // the last timeline entry written
	version  int // bumped by every change an update makes, to wake the main loop
	pending  []flow.Observation
	seen     []string // the latest evaluations observed, oldest first
	observed int      // observations applied in this run
	appeals  map[string]flow.Appeal

	current    bool   // this run registers handlers first and may continue as new (changeHandlersFirst)
	searchable bool   // this run keeps its search attributes up to date (changeSearchAttributes)
	published  string // the id and state last published, so an entry that changes neither adds nothing
	openDone   bool   // the opening is recorded, or failed
	openErr    error

	deliveries int       // mail deliveries still running
	retryAt    time.Time // after a deadline's transition failed for good: when to try again
	backoff    time.Duration
	mu         workflow.Mutex // one transition at a time
}

var caseActivities *activities.Cases // method values only name the activities

// caseActivityOptions apply to every activity of a case, including those run from
// update handlers, whose context does not inherit the workflow's options. Errors
// that retrying cannot fix come back non-retryable (flow.ErrPermanent).
var caseActivityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
}

// CaseWorkflow takes one case from opening to its end: warning and grace period,
// re-check, enforcement, appeals under the review SLA, decisions, deactivation.
// Every change is written by an activity (case row, timeline, appeal, ledger and
// mail in one transaction); mail goes out through the outbox afterwards. A long
// case continues as new, carrying its state.
func CaseWorkflow(ctx workflow.Context, in flow.CaseInput) (health.Case, error) {
	ctx = workflow.WithActivityOptions(ctx, caseActivityOptions)
	r, err := setup(ctx, in)
	if err != nil {
		return health.Case{}, err
	}
	if in.Resume == nil {
		if err := r.open(ctx); err != nil {
			return r.c, err
		}
		if r.c.ID == "" {
			return r.c, nil // the first observation was not a breach: nothing to open
		}
	}
	if !r.current {
		if err := r.registerHandlers(ctx); err != nil {
			return r.c, err
		}
	}
	return r.run(ctx)
}

// setup makes the run's state and registers its handlers before anything can
// block, so no request that arrives early is lost.
func setup(ctx workflow.Context, in flow.CaseInput) (*caseRun, error) {
	r := &caseRun{in: in, appeals: map[string]flow.Appeal{}, mu: workflow.NewMutex(ctx)}
	if res := in.Resume; res != nil {
		r.c, r.seq, r.pending, r.seen = res.Case, res.Seq, res.Pending, res.SeenEvaluations
		for _, a := range res.Appeals {
			r.appeals[a.ID] = a
		}
		r.in.Resume, r.openDone = nil, true
	}
	r.current = workflow.GetVersion(ctx, changeHandlersFirst, workflow.DefaultVersion, 1) == 1
	r.searchable = workflow.GetVersion(ctx, changeSearchAttributes, workflow.DefaultVersion, 1) == 1
	if err := r.publish(ctx); err != nil {
		return r, err
	}
	sig := workflow.GetSignalChannel(ctx, flow.SignalObservation)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var o flow.Observation
			sig.Receive(ctx, &o)
			r.pending = append(r.pending, o)
		}
	})
	if !r.current {
		return r, nil // CaseWorkflow registers them once the case is open
	}
	return r, r.registerHandlers(ctx)
}

// open opens the case: a policy case enforced at once, or a metric case warned by
// the breach that started it (signal-with-start delivers it as the first signal).
func (r *caseRun) open(ctx workflow.Context) error {
	defer func() { r.openDone = true }()
	var id string
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return newCaseID() }).Get(&id); err != nil {
		return err
	}
	now := workflow.Now(ctx).UTC()
	var (
		opened health.Case
		spec   *recordSpec
	)
	switch r.in.Kind {
	case health.PolicyViolation:
		ev := flow.Evidence{OrderIDs: []string{}, Note: r.in.Note}
		opened = health.OpenPolicyCase(id, r.in.SellerID, r.in.ListingID, r.in.Violation, r.in.Policy, now)
		spec = &recordSpec{typ: "opened", actor: "reviewer:" + r.in.OpenedBy, evidence: &ev,
			detail: map[string]any{"message": "listing deactivated for a policy violation", "violation": r.in.Violation, "listing_id": r.in.ListingID},
			mail:   []flow.MailSpec{{Template: "enforcement", To: flow.ToSeller}}}
	default:
		if err := workflow.Await(ctx, func() bool { return len(r.pending) > 0 }); err != nil {
			return err
		}
		first := r.pending[0]
		r.pending = r.pending[1:]
		if first.Status != health.Bad {
			return nil
		}
		r.see(first.EvaluationID)
		opened = health.OpenMetricCase(id, r.in.SellerID, r.in.Metric, r.in.Action, r.in.Policy, now)
		tmpl, msg := "warning", "warning: the metric missed its target; grace period started"
		if opened.NotifyOnly() {
			tmpl, msg = "notice", "notice: the metric missed its target (notify-only metric)"
		}
		spec = &recordSpec{typ: "opened", actor: "system", evidence: &first.Evidence,
			detail: observationDetail(msg, first), mail: []flow.MailSpec{{Template: tmpl, To: flow.ToSeller}}}
	}
	err := r.transition(ctx, func() (*recordSpec, error) {
		r.c = opened
		return spec, nil
	})
	if err != nil {
		r.openErr = err
		// The case never opened: let a waiting request hear why before the run ends.
		_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	}
	return err
}

// run waits for what moves the case (deadlines, observations, updates) until it
// closes, or continues as new when the history has grown long.
func (r *caseRun) run(ctx workflow.Context) (health.Case, error) {
	for r.c.State.Open() {
		if r.continueNow(ctx) {
			return r.c, r.continueAsNew(ctx)
		}
		v := r.version
		woken := func() bool { return r.version != v || (len(r.pending) > 0 && !r.full()) || r.continueNow(ctx) }
		wait := r.c.Deadline.Sub(workflow.Now(ctx))
		if r.retryAt.After(r.c.Deadline) {
			wait = r.retryAt.Sub(workflow.Now(ctx))
		}
		if (r.c.State == health.UnderReview || r.c.State == health.PendingConfirmation) && r.c.Escalated {
			if err := workflow.Await(ctx, woken); err != nil { // escalated once; now only a decision moves it
				return r.c, err
			}
			r.observe(ctx)
			continue
		} else if wait > 0 {
			ok, err := workflow.AwaitWithTimeout(ctx, wait, woken)
			if err != nil {
				return r.c, err
			}
			if ok {
				r.observe(ctx)
				continue
			}
		}
		if r.version != v {
			continue // an update moved the case while the timer fired; look again
		}
		if err := r.deadlinePassed(ctx); err != nil {
			var nr *temporal.ApplicationError
			if !errors.As(err, &nr) || nr.Type() != flow.ErrNotRecorded {
				return r.c, err
			}
			// Recorded on the timeline; try again later rather than at once.
			r.backoff = min(max(2*r.backoff, time.Minute), 24*time.Hour)
			r.retryAt = workflow.Now(ctx).Add(r.backoff)
		} else {
			r.retryAt, r.backoff = time.Time{}, 0
		}
	}
	// Let running handlers and mail deliveries finish before the run ends.
	err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && r.deliveries == 0 })
	return r.c, err
}

// continueNow says whether the run should hand over to a new one now: its history
// is long (Temporal suggests it, or it has applied many observations) and nothing
// is in flight that the new run could not take over.
func (r *caseRun) continueNow(ctx workflow.Context) bool {
	if !r.current || (!workflow.GetInfo(ctx).GetContinueAsNewSuggested() && !r.full()) {
		return false
	}
	return r.deliveries == 0 && workflow.AllHandlersFinished(ctx)
}

func (r *caseRun) continueAsNew(ctx workflow.Context) error {
	in := r.in
	res := &flow.CaseResume{Case: r.c, Seq: r.seq, SeenEvaluations: r.seen, Pending: r.pending}
	for _, id := range sortedKeys(r.appeals) {
		res.Appeals = append(res.Appeals, r.appeals[id])
	}
	in.Resume = res
	return workflow.NewContinueAsNewError(ctx, CaseWorkflow, in)
}

// full says the run has applied as many observations as one run may; the rest
// wait for the next run.
func (r *caseRun) full() bool { return r.current && r.observed >= maxObservationsPerRun }

// see remembers an evaluation as observed and reports whether it was new.
func (r *caseRun) see(evaluationID string) bool {
	if evaluationID == "" {
		return true
	}
	for _, id := range r.seen {
		if id == evaluationID {
			return false
		}
	}
	r.seen = append(r.seen, evaluationID)
	if len(r.seen) > seenEvaluationsKept {
		r.seen = r.seen[len(r.seen)-seenEvaluationsKept:]
	}
	return true
}

// observe applies the observations evaluations sent: a recovery closes a warned
// case; a breach found again is noted on the timeline (once per evaluation). An
// observation that cannot be recorded is dropped; its failure is on the timeline.
func (r *caseRun) observe(ctx workflow.Context) {
	for len(r.pending) > 0 && r.c.State.Open() && !r.full() {
		o := r.pending[0]
		r.pending = r.pending[1:]
		r.observed++
		if !r.see(o.EvaluationID) {
			continue
		}
		_ = r.transition(ctx, func() (*recordSpec, error) {
			switch {
			case o.Status == health.Good && (r.c.State == health.Warned || r.c.State == health.PendingConfirmation):
				from := r.c.State
				if err := r.c.Recover(); err != nil {
					return nil, err
				}
				return &recordSpec{typ: "recovered", actor: "system", from: from, evidence: &o.Evidence,
					detail: observationDetail("the metric is back on target; the case is closed", o),
					mail:   []flow.MailSpec{{Template: "resolved", To: flow.ToSeller}}}, nil
			case o.Status == health.Bad:
				return &recordSpec{typ: "breach_observed", actor: "system", from: r.c.State,
					detail: observationDetail("an evaluation found the metric still missing its target", o)}, nil
			}
			return nil, nil
		})
	}
}

// deadlinePassed applies the end of what the case was waiting for.
func (r *caseRun) deadlinePassed(ctx workflow.Context) error {
	if r.c.State == health.Warned {
		var o flow.Observation
		err := workflow.ExecuteActivity(ctx, caseActivities.Recheck,
			flow.RecheckInput{SellerID: r.c.SellerID, Metric: r.c.Metric, Rule: r.in.Rule}).Get(ctx, &o)
		if err != nil {
			return err
		}
		return r.transition(ctx, func() (*recordSpec, error) { return r.graceEnded(ctx, o) })
	}
	return r.transition(ctx, func() (*recordSpec, error) {
		from := r.c.State
		switch from {
		case health.Enforced, health.InfoRequested, health.UnderReview, health.PendingConfirmation:
		default:
			return nil, fmt.Errorf("case %s: no deadline handling for state %s", r.c.ID, from)
		}
		escalate, err := r.c.DeadlinePassed()
		if err != nil {
			return nil, err
		}
		if escalate && from == health.PendingConfirmation {
			return &recordSpec{typ: "confirmation_escalated", actor: "system", from: from,
				detail: map[string]any{"message": "the suspension waited past its confirmation SLA; escalated to every reviewer (nothing is enforced until one confirms)"},
				mail:   []flow.MailSpec{{Template: "confirmation_escalation", To: flow.ToReviewers}}}, nil
		}
		if escalate {
			spec := &recordSpec{typ: "escalated", actor: "system", from: from,
				detail: map[string]any{"message": "the review passed its SLA without a decision; escalated to every reviewer", "appeal_id": r.c.Appeal},
				mail:   []flow.MailSpec{{Template: "escalation", To: flow.ToReviewers}}}
			if ap, ok := r.appeals[r.c.Appeal]; ok {
				spec.appeal = &ap
			}
			return spec, nil
		}
		why := "the appeal window ended without an appeal"
		if from == health.InfoRequested {
			why = "no answer to the request for information came in time"
		}
		return &recordSpec{typ: "deactivated", actor: "system", from: from, message: "Why: " + why + ".",
			detail: map[string]any{"message": why}, mail: []flow.MailSpec{{Template: "deactivated", To: flow.ToSeller}}}, nil
	})
}

// graceEnded applies the re-check at the end of the grace period.
func (r *caseRun) graceEnded(ctx workflow.Context, o flow.Observation) (*recordSpec, error) {
	from := r.c.State
	if from != health.Warned {
		return nil, nil // moved while re-checking
	}
	if r.c.Policy.ConfirmSuspension && r.c.Action == health.Suspend &&
		workflow.GetVersion(ctx, changeConfirmation, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		r.c.Policy.ConfirmSuspension = false // a run recorded before confirmations enforces as it did
	}
	if err := r.c.GraceEnded(workflow.Now(ctx).UTC(), o.Status == health.Bad); err != nil {
		return nil, err
	}
	switch r.c.State {
	case health.PendingConfirmation:
		return &recordSpec{typ: "pending_confirmation", actor: "system", from: from, evidence: &o.Evidence,
			detail: observationDetail("re-checked at the end of the grace period: still missing its target; "+
				"a reviewer confirms before any suspension takes effect", o),
			mail: []flow.MailSpec{{Template: "pending_confirmation", To: flow.ToSeller}}}, nil
	case health.Resolved:
		return &recordSpec{typ: "recovered", actor: "system", from: from, evidence: &o.Evidence,
			detail: observationDetail("re-checked at the end of the grace period: back on target; the case is closed", o),
			mail:   []flow.MailSpec{{Template: "resolved", To: flow.ToSeller}}}, nil
	case health.Enforced:
		return &recordSpec{typ: "enforced", actor: "system", from: from, evidence: &o.Evidence,
			detail: observationDetail("re-checked at the end of the grace period: still missing its target; "+
				string(r.c.Enforcement)+" in effect", o),
			mail: []flow.MailSpec{{Template: "enforcement", To: flow.ToSeller}}}, nil
	}
	// notify-only, still in breach: another period of notice
	return &recordSpec{typ: "still_in_breach", actor: "system", from: from, evidence: &o.Evidence,
		detail: observationDetail("re-checked: still missing its target; this metric only notifies", o)}, nil
}

func (r *caseRun) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, flow.QueryCase, func() (health.Case, error) { return r.c, nil }); err != nil {
		return err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, flow.UpdateAppeal,
		func(ctx workflow.Context, req flow.AppealRequest) (flow.Appeal, error) { return r.appeal(ctx, req) },
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req flow.AppealRequest) error {
			if err := r.addressed(req.CaseID); err != nil {
				return err
			}
			if p := health.ValidatePOA(req.RootCause, req.CorrectiveActions, req.PreventiveMeasures); p != nil {
				return temporal.NewApplicationError("the Plan of Action is incomplete", flow.ErrInvalidPlan, map[string]string(p))
			}
			return refusal(r.c.CanAppeal())
		}})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, flow.UpdateDecision,
		func(ctx workflow.Context, req flow.DecisionRequest) (flow.Appeal, error) { return r.decide(ctx, req) },
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req flow.DecisionRequest) error {
			if err := r.addressed(req.CaseID); err != nil {
				return err
			}
			if p := health.ValidateDecision(req.Decision, req.ReasonCode, req.Message); p != nil {
				return temporal.NewApplicationError("the decision is incomplete", flow.ErrInvalidDecision, map[string]string(p))
			}
			return refusal(r.c.CanDecide(req.AppealID))
		}})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, flow.UpdateWithdraw,
		func(ctx workflow.Context, req flow.WithdrawalRequest) (health.Case, error) {
			return r.withdraw(ctx, req)
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req flow.WithdrawalRequest) error {
			if err := r.addressed(req.CaseID); err != nil {
				return err
			}
			if p := health.ValidateWithdrawal(req.ReasonCode, req.Message); p != nil {
				return temporal.NewApplicationError("the withdrawal is incomplete", flow.ErrInvalidRequest, map[string]string(p))
			}
			return refusal(r.c.CanWithdraw())
		}})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, flow.UpdateConfirm,
		func(ctx workflow.Context, req flow.ConfirmationRequest) (health.Case, error) {
			return r.confirm(ctx, req)
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req flow.ConfirmationRequest) error {
			if err := r.addressed(req.CaseID); err != nil {
				return err
			}
			if p := health.ValidateConfirmation(req.Decision, req.ReasonCode, req.Message); p != nil {
				return temporal.NewApplicationError("the confirmation is incomplete", flow.ErrInvalidRequest, map[string]string(p))
			}
			return refusal(r.c.CanConfirm())
		}})
	if err != nil {
		return err
	}
	return workflow.SetUpdateHandler(ctx, flow.UpdateOpened, func(ctx workflow.Context) (health.Case, error) {
		if err := workflow.Await(ctx, func() bool { return r.openDone }); err != nil {
			return health.Case{}, err
		}
		return r.c, r.openErr
	})
}

// addressed refuses a request for another case than this run's: a closed case's
// workflow id may be reused by a newer case of the same seller and metric.
func (r *caseRun) addressed(caseID string) error {
	switch {
	case r.c.ID == "":
		return temporal.NewApplicationError("the case is still opening; try again in a moment", flow.ErrTransition)
	case caseID != "" && caseID != r.c.ID:
		return temporal.NewApplicationError("case "+caseID+" is closed and takes no more requests", flow.ErrTransition)
	}
	return nil
}

func (r *caseRun) appeal(ctx workflow.Context, req flow.AppealRequest) (flow.Appeal, error) {
	var out flow.Appeal
	err := r.transition(ctx, func() (*recordSpec, error) {
		now := workflow.Now(ctx).UTC()
		from := r.c.State
		// Validators of updates delivered together all run before any handler, so the
		// transition checks again: of two racing requests only the first gets through.
		if err := r.c.SubmitAppeal(req.AppealID, now); err != nil {
			return nil, refusal(err)
		}
		due := r.c.Deadline
		out = flow.Appeal{ID: req.AppealID, CaseID: r.c.ID, SellerID: r.c.SellerID, Status: flow.AppealSubmitted,
			RootCause: req.RootCause, CorrectiveActions: req.CorrectiveActions, PreventiveMeasures: req.PreventiveMeasures,
			SubmittedAt: now, ReviewDue: &due}
		typ, msg := "appeal_submitted", fmt.Sprintf("appeal %d of %d submitted; review due by the SLA", r.c.AppealsUsed, r.c.Policy.MaxAppeals)
		if from == health.InfoRequested {
			typ, msg = "info_provided", "the seller answered the request for information"
		}
		return &recordSpec{typ: typ, actor: "seller:" + r.c.SellerID, from: from, appeal: &out,
			detail: map[string]any{"message": msg, "appeal_id": out.ID},
			mail:   []flow.MailSpec{{Template: "appeal_received", To: flow.ToSeller}}}, nil
	})
	return out, err
}

func (r *caseRun) decide(ctx workflow.Context, req flow.DecisionRequest) (flow.Appeal, error) {
	var out flow.Appeal
	err := r.transition(ctx, func() (*recordSpec, error) {
		now := workflow.Now(ctx).UTC()
		from := r.c.State
		if err := r.c.Decide(req.AppealID, req.Decision, now); err != nil {
			return nil, refusal(err)
		}
		ap, ok := r.appeals[req.AppealID]
		if !ok { // cannot happen: Decide checked it is the appeal under review
			return nil, errors.New("appeal " + req.AppealID + " unknown to its case")
		}
		ap.DecidedAt, ap.DecidedBy = &now, &req.ReviewerID
		ap.ReasonCode, ap.Message = optional(req.ReasonCode), optional(req.Message)
		spec := &recordSpec{actor: "reviewer:" + req.ReviewerID, from: from, reviewer: req.ReviewerName,
			detail: map[string]any{"appeal_id": ap.ID, "reason_code": req.ReasonCode, "message": req.Message}}
		switch req.Decision {
		case health.Approve:
			ap.Status, spec.typ = flow.AppealApproved, "reinstated"
			spec.mail = []flow.MailSpec{{Template: "reinstated", To: flow.ToSeller}}
		case health.Reject:
			ap.Status, spec.typ = flow.AppealRejected, "appeal_rejected"
			spec.mail = []flow.MailSpec{{Template: "rejected", To: flow.ToSeller}}
			if r.c.State == health.Deactivated {
				spec.typ, spec.message = "deactivated", "Why: every appeal has been used and the last one was not accepted."
				spec.mail = append(spec.mail, flow.MailSpec{Template: "deactivated", To: flow.ToSeller})
			}
		case health.RequestInfo:
			ap.Status, spec.typ = flow.AppealInfoRequested, "info_requested"
			spec.mail = []flow.MailSpec{{Template: "info_requested", To: flow.ToSeller}}
		}
		out = ap
		spec.appeal = &out
		return spec, nil
	})
	return out, err
}

// withdraw takes the case back at a reviewer's request: enforcement lifted, the
// appeal under review withdrawn with it, the points given back (by the record's
// ledger entry) and the seller told why.
func (r *caseRun) withdraw(ctx workflow.Context, req flow.WithdrawalRequest) (health.Case, error) {
	// Runs recorded before withdrawals never reach here; the marker keeps later
	// changes of this path apart from the first.
	workflow.GetVersion(ctx, changeWithdrawal, workflow.DefaultVersion, 1)
	return r.withdrawIf(ctx, req, nil)
}

// withdrawIf withdraws the case if check (when given) still allows it once the
// transition holds the case: validators of racing requests all run first.
func (r *caseRun) withdrawIf(ctx workflow.Context, req flow.WithdrawalRequest, check func() error) (health.Case, error) {
	err := r.transition(ctx, func() (*recordSpec, error) {
		now := workflow.Now(ctx).UTC()
		from := r.c.State
		if check != nil {
			if err := check(); err != nil {
				return nil, refusal(err)
			}
		}
		appealID, err := r.c.Withdraw()
		if err != nil {
			return nil, refusal(err)
		}
		spec := &recordSpec{typ: "withdrawn", actor: "reviewer:" + req.ReviewerID, from: from, reviewer: req.ReviewerName,
			message: req.Message, reasonCode: req.ReasonCode,
			detail: map[string]any{"message": req.Message, "reason_code": req.ReasonCode, "lifted": string(r.c.Lifted)},
			mail:   []flow.MailSpec{{Template: "withdrawn", To: flow.ToSeller}}}
		if ap, ok := r.appeals[appealID]; ok {
			ap.Status, ap.DecidedAt, ap.DecidedBy = flow.AppealWithdrawn, &now, &req.ReviewerID
			ap.ReasonCode, ap.Message = optional(req.ReasonCode), optional(req.Message)
			spec.appeal = &ap
			spec.detail["appeal_id"] = ap.ID
		}
		return spec, nil
	})
	return r.c, err
}

// confirm applies a reviewer's answer to a suspension waiting for confirmation:
// confirmed, it takes effect with the reviewer named; withdrawn, the case is
// withdrawn as any withdrawal.
func (r *caseRun) confirm(ctx workflow.Context, req flow.ConfirmationRequest) (health.Case, error) {
	workflow.GetVersion(ctx, changeConfirmation, workflow.DefaultVersion, 1)
	if req.Decision == health.WithdrawIt {
		return r.withdrawIf(ctx, flow.WithdrawalRequest{CaseID: req.CaseID, ReviewerID: req.ReviewerID, ReviewerName: req.ReviewerName,
			ReasonCode: req.ReasonCode, Message: req.Message}, r.c.CanConfirm)
	}
	err := r.transition(ctx, func() (*recordSpec, error) {
		from := r.c.State
		if err := r.c.Confirm(workflow.Now(ctx).UTC()); err != nil {
			return nil, refusal(err)
		}
		detail := map[string]any{"message": "a reviewer confirmed the " + string(r.c.Enforcement), "reviewer_id": req.ReviewerID,
			"reviewer": req.ReviewerName}
		if req.ReasonCode != "" {
			detail["reason_code"] = req.ReasonCode
		}
		if req.Message != "" {
			detail["reviewer_message"] = req.Message
		}
		return &recordSpec{typ: "confirmed", actor: "reviewer:" + req.ReviewerID, from: from, reviewer: req.ReviewerName,
			message: req.Message, reasonCode: req.ReasonCode, detail: detail,
			mail: []flow.MailSpec{{Template: "enforcement", To: flow.ToSeller}}}, nil
	})
	return r.c, err
}

// refusal turns a refused transition into the error callers map to 409.
func refusal(err error) error {
	var te *health.TransitionError
	if errors.As(err, &te) {
		return temporal.NewApplicationError(te.Error(), flow.ErrTransition)
	}
	return err
}

type recordSpec struct {
	typ, actor string
	from       health.CaseState
	detail     map[string]any
	evidence   *flow.Evidence
	appeal     *flow.Appeal
	mail       []flow.MailSpec
	message    string
	reviewer   string
	reasonCode string
}

// transition makes one change to the case, one at a time: apply decides it with
// the domain's rules (it may refuse, or find nothing to do), and the change is
// recorded. A record that fails for a reason retrying cannot fix leaves the case
// as it was, puts the failure on the timeline, and answers flow.ErrNotRecorded,
// so the workflow and the database never disagree.
func (r *caseRun) transition(ctx workflow.Context, apply func() (*recordSpec, error)) error {
	if err := r.mu.Lock(ctx); err != nil {
		return err
	}
	defer r.mu.Unlock()
	before := r.c
	spec, err := apply()
	if err != nil || spec == nil {
		r.c = before
		return err
	}
	// Wake the main loop at once, as an update's change may move its deadline.
	r.version++
	err = r.record(ctx, *spec)
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		if spec.appeal != nil {
			r.appeals[spec.appeal.ID] = *spec.appeal
		}
		return r.publish(ctx)
	case errors.As(err, &appErr) && appErr.Type() == flow.ErrPermanent:
		r.c = before
		r.recordFailure(ctx, *spec, appErr.Message())
		return temporal.NewApplicationError(fmt.Sprintf("%s could not be recorded, so it was not applied: %s", spec.typ, appErr.Message()),
			flow.ErrNotRecorded)
	}
	r.c = before
	return err
}

// recordFailure puts a failed transition on the timeline, under the number the
// failed record would have had. A case that never opened has no timeline.
func (r *caseRun) recordFailure(ctx workflow.Context, failed recordSpec, cause string) {
	r.seq--
	if failed.from == "" {
		return
	}
	err := r.record(ctx, recordSpec{typ: "record_failed", actor: "system", from: r.c.State,
		detail: map[string]any{"message": failed.typ + " could not be recorded and was not applied: " + cause, "failed": failed.typ}})
	if err != nil {
		r.seq--
		workflow.GetLogger(ctx).Error("a failed transition could not be recorded either", "case", r.c.ID, "failed", failed.typ, "error", err)
	}
}

// publish sets the case's search attributes to what the run knows of it: the
// seller, kind and metric from the start, its id and state once it has opened.
func (r *caseRun) publish(ctx workflow.Context) error {
	if !r.searchable || r.published == r.c.ID+"/"+string(r.c.State) {
		return nil
	}
	r.published = r.c.ID + "/" + string(r.c.State)
	kind, metric := r.in.Kind, string(r.in.Metric)
	if kind == "" {
		kind = health.MetricBreach
	}
	if kind == health.PolicyViolation {
		metric = r.in.Violation
	}
	set := []temporal.SearchAttributeUpdate{flow.SearchSellerID.ValueSet(r.in.SellerID), flow.SearchCaseKind.ValueSet(string(kind))}
	if metric != "" {
		set = append(set, flow.SearchCaseMetric.ValueSet(metric))
	}
	if r.c.ID != "" {
		set = append(set, flow.SearchCaseID.ValueSet(r.c.ID), flow.SearchCaseState.ValueSet(string(r.c.State)))
	}
	return workflow.UpsertTypedSearchAttributes(ctx, set...)
}

// record writes one transition and starts delivering its mail.
func (r *caseRun) record(ctx workflow.Context, s recordSpec) error {
	ctx = workflow.WithActivityOptions(ctx, caseActivityOptions)
	r.seq++
	info := workflow.GetInfo(ctx)
	in := flow.RecordInput{
		Case: r.c, WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		Seq: r.seq, At: workflow.Now(ctx).UTC(), Type: s.typ, Actor: s.actor, From: s.from, Detail: s.detail,
		Evidence: s.evidence, Appeal: s.appeal, Mail: s.mail, Message: s.message, Reviewer: s.reviewer,
		ReasonCode: s.reasonCode,
	}
	var keys []string
	if err := workflow.ExecuteActivity(ctx, caseActivities.Record, in).Get(ctx, &keys); err != nil {
		return fmt.Errorf("record %s on case %s: %w", s.typ, r.c.ID, err)
	}
	if len(keys) == 0 {
		return nil
	}
	// A record's mails go out in the order it lists them (the last rejection before the
	// deactivation it causes). Runs started before that ordering deliver them at once.
	groups := [][]string{keys}
	if len(keys) > 1 && workflow.GetVersion(ctx, changeOrderedMail, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		groups = nil
		for _, k := range keys {
			groups = append(groups, []string{k})
		}
	}
	for _, g := range groups {
		r.deliveries++
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { r.deliveries-- }()
			// Mail keeps trying (SMTP may be down for a while) without holding up the case.
			mctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
				StartToCloseTimeout: time.Minute,
				// About a day of tries; a permanent refusal (5xx) stops at once.
				RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: 10 * time.Minute, MaximumAttempts: 150},
			})
			for _, k := range g {
				_ = workflow.ExecuteActivity(mctx, caseActivities.Deliver, k).Get(mctx, nil)
			}
		})
	}
	return nil
}

func observationDetail(message string, o flow.Observation) map[string]any {
	d := map[string]any{"message": message, "numerator": o.Evidence.Numerator, "denominator": o.Evidence.Denominator,
		"value": o.Evidence.Value, "target": o.Evidence.Target}
	if o.EvaluationID != "" {
		d["evaluation_id"] = o.EvaluationID
	}
	return d
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
