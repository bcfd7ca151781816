package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// Names of the case workflow's signals, updates and query.
const (
	SignalObservation = "observation"   // an evaluation saw the case's metric (activities.Observation)
	UpdateAppeal      = "submit-appeal" // a seller's Plan of Action (AppealRequest)
	UpdateDecision    = "decide"        // a reviewer's decision (DecisionRequest)
	QueryCase         = "case"          // the case's state (health.Case)

	// changeOrderedMail versions the delivery of a record's mails one after another.
	changeOrderedMail = "ordered-mail"

	// ErrTransition is the type of the application error a refused request carries.
	ErrTransition = "TransitionNotAllowed"
)

// CaseWorkflowID is the id of the case of a seller's metric: at most one runs at a time.
func CaseWorkflowID(seller string, m health.MetricID) string {
	return "case/" + seller + "/" + string(m)
}

// PolicyCaseWorkflowID is the id of a policy-violation case of one listing.
func PolicyCaseWorkflowID(seller, listing, violation string) string {
	return "case/" + seller + "/" + listing + "/" + violation
}

// CaseInput opens a case. The policy is fixed when the case opens, so a case is
// judged by the rules it was opened under.
type CaseInput struct {
	SellerID  string
	Kind      health.CaseKind
	Metric    health.MetricID
	Action    health.Action
	Policy    health.CasePolicy
	Rule      health.MetricPolicy // the metric's rule when the case opened; the grace re-check judges by it
	ListingID string              // policy cases
	Violation string
	Note      string
	OpenedBy  string // the reviewer who opened a policy case
}

// AppealRequest is a seller's Plan of Action.
type AppealRequest struct {
	AppealID           string
	RootCause          string
	CorrectiveActions  string
	PreventiveMeasures string
}

// DecisionRequest is a reviewer's decision on an appeal.
type DecisionRequest struct {
	AppealID     string
	ReviewerID   string
	ReviewerName string
	Decision     health.Decision
	ReasonCode   string
	Message      string
}

// caseRun is one case's workflow state.
type caseRun struct {
	c          health.Case
	in         CaseInput
	seq        int
	version    int // bumped by every change an update makes, to wake the main loop
	pending    []activities.Observation
	seenEvals  map[string]bool
	appeals    map[string]*store.AppealRow
	deliveries int
	mu         workflow.Mutex
}

var caseActivities *activities.Cases // method values only name the activities

// caseActivityOptions apply to every activity of a case, including those run from
// update handlers, whose context does not inherit the workflow's options.
var caseActivityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
}

// CaseWorkflow takes one case from opening to its end: warning and grace period,
// re-check, enforcement, appeals under the review SLA, decisions, deactivation.
// Every change is written by an activity (case row, timeline, appeal, ledger and
// mail in one transaction); mail goes out through the outbox afterwards.
func CaseWorkflow(ctx workflow.Context, in CaseInput) (health.Case, error) {
	ctx = workflow.WithActivityOptions(ctx, caseActivityOptions)
	r := &caseRun{in: in, seenEvals: map[string]bool{}, appeals: map[string]*store.AppealRow{}, mu: workflow.NewMutex(ctx)}
	sig := workflow.GetSignalChannel(ctx, SignalObservation)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var o activities.Observation
			sig.Receive(ctx, &o)
			r.pending = append(r.pending, o)
		}
	})
	var id string
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return newCaseID() }).Get(&id); err != nil {
		return r.c, err
	}
	now := workflow.Now(ctx).UTC()
	switch in.Kind {
	case health.PolicyViolation:
		r.c = health.OpenPolicyCase(id, in.SellerID, in.ListingID, in.Violation, in.Policy, now)
		ev := store.Evidence{OrderIDs: []string{}, Note: in.Note}
		err := r.record(ctx, recordSpec{typ: "opened", actor: "reviewer:" + in.OpenedBy, evidence: &ev,
			detail: map[string]any{"message": "listing deactivated for a policy violation", "violation": in.Violation, "listing_id": in.ListingID},
			mail:   []activities.MailSpec{{Template: "enforcement", To: activities.ToSeller}}})
		if err != nil {
			return r.c, err
		}
	default:
		// Signal-with-start delivers the breach that opens the case as the first signal.
		if err := workflow.Await(ctx, func() bool { return len(r.pending) > 0 }); err != nil {
			return r.c, err
		}
		first := r.pending[0]
		r.pending = r.pending[1:]
		if first.Status != health.Bad {
			return r.c, nil // nothing to open
		}
		r.seenEvals[first.EvaluationID] = true
		r.c = health.OpenMetricCase(id, in.SellerID, in.Metric, in.Action, in.Policy, now)
		tmpl, msg := "warning", "warning: the metric missed its target; grace period started"
		if r.c.NotifyOnly() {
			tmpl, msg = "notice", "notice: the metric missed its target (notify-only metric)"
		}
		err := r.record(ctx, recordSpec{typ: "opened", actor: "system", evidence: &first.Evidence,
			detail: observationDetail(msg, first), mail: []activities.MailSpec{{Template: tmpl, To: activities.ToSeller}}})
		if err != nil {
			return r.c, err
		}
	}

	if err := workflow.SetQueryHandler(ctx, QueryCase, func() (health.Case, error) { return r.c, nil }); err != nil {
		return r.c, err
	}
	if err := r.registerUpdates(ctx); err != nil {
		return r.c, err
	}

	for r.c.State.Open() {
		v := r.version
		woken := func() bool { return r.version != v || len(r.pending) > 0 }
		if r.c.State == health.UnderReview && r.c.Escalated {
			if err := workflow.Await(ctx, woken); err != nil { // escalated once; now only a decision moves it
				return r.c, err
			}
			if err := r.observe(ctx); err != nil {
				return r.c, err
			}
			continue
		} else if wait := r.c.Deadline.Sub(workflow.Now(ctx)); wait > 0 {
			ok, err := workflow.AwaitWithTimeout(ctx, wait, woken)
			if err != nil {
				return r.c, err
			}
			if ok {
				if err := r.observe(ctx); err != nil {
					return r.c, err
				}
				continue
			}
		}
		if r.version != v {
			continue // an update moved the case while the timer fired; look again
		}
		if err := r.deadlinePassed(ctx); err != nil {
			return r.c, err
		}
	}
	// Let running handlers and mail deliveries finish before the run ends.
	err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && r.deliveries == 0 })
	return r.c, err
}

// observe applies the observations evaluations sent: a recovery closes a warned
// case; a breach found again is noted on the timeline (once per evaluation).
func (r *caseRun) observe(ctx workflow.Context) error {
	for len(r.pending) > 0 && r.c.State.Open() {
		o := r.pending[0]
		r.pending = r.pending[1:]
		if o.EvaluationID != "" && r.seenEvals[o.EvaluationID] {
			continue
		}
		r.seenEvals[o.EvaluationID] = true
		switch {
		case o.Status == health.Good && r.c.State == health.Warned:
			from := r.c.State
			if err := r.c.Recover(); err != nil {
				return err
			}
			err := r.record(ctx, recordSpec{typ: "recovered", actor: "system", from: from, evidence: &o.Evidence,
				detail: observationDetail("the metric is back on target; the case is closed", o),
				mail:   []activities.MailSpec{{Template: "resolved", To: activities.ToSeller}}})
			if err != nil {
				return err
			}
		case o.Status == health.Bad:
			if err := r.record(ctx, recordSpec{typ: "breach_observed", actor: "system", from: r.c.State,
				detail: observationDetail("an evaluation found the metric still missing its target", o)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// deadlinePassed applies the end of what the case was waiting for.
func (r *caseRun) deadlinePassed(ctx workflow.Context) error {
	from := r.c.State
	switch from {
	case health.Warned:
		var o activities.Observation
		err := workflow.ExecuteActivity(ctx, caseActivities.Recheck,
			activities.RecheckInput{SellerID: r.c.SellerID, Metric: r.c.Metric, Rule: r.in.Rule}).Get(ctx, &o)
		if err != nil {
			return err
		}
		if r.c.State != health.Warned {
			return nil // moved while re-checking
		}
		if err := r.c.GraceEnded(workflow.Now(ctx).UTC(), o.Status == health.Bad); err != nil {
			return err
		}
		switch r.c.State {
		case health.Resolved:
			return r.record(ctx, recordSpec{typ: "recovered", actor: "system", from: from, evidence: &o.Evidence,
				detail: observationDetail("re-checked at the end of the grace period: back on target; the case is closed", o),
				mail:   []activities.MailSpec{{Template: "resolved", To: activities.ToSeller}}})
		case health.Enforced:
			return r.record(ctx, recordSpec{typ: "enforced", actor: "system", from: from, evidence: &o.Evidence,
				detail: observationDetail("re-checked at the end of the grace period: still missing its target; "+
					string(r.c.Enforcement)+" in effect", o),
				mail: []activities.MailSpec{{Template: "enforcement", To: activities.ToSeller}}})
		default: // notify-only, still in breach: another period of notice
			return r.record(ctx, recordSpec{typ: "still_in_breach", actor: "system", from: from, evidence: &o.Evidence,
				detail: observationDetail("re-checked: still missing its target; this metric only notifies", o)})
		}
	case health.Enforced, health.InfoRequested, health.UnderReview:
		escalate, err := r.c.DeadlinePassed()
		if err != nil {
			return err
		}
		if escalate {
			ap := r.appeals[r.c.Appeal]
			return r.record(ctx, recordSpec{typ: "escalated", actor: "system", from: from, appeal: ap,
				detail: map[string]any{"message": "the review passed its SLA without a decision; escalated to every reviewer", "appeal_id": r.c.Appeal},
				mail:   []activities.MailSpec{{Template: "escalation", To: activities.ToReviewers}}})
		}
		why := "the appeal window ended without an appeal"
		if from == health.InfoRequested {
			why = "no answer to the request for information came in time"
		}
		return r.record(ctx, recordSpec{typ: "deactivated", actor: "system", from: from, message: "Why: " + why + ".",
			detail: map[string]any{"message": why}, mail: []activities.MailSpec{{Template: "deactivated", To: activities.ToSeller}}})
	}
	return fmt.Errorf("case %s: no deadline handling for state %s", r.c.ID, from)
}

func (r *caseRun) registerUpdates(ctx workflow.Context) error {
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAppeal,
		func(ctx workflow.Context, req AppealRequest) (store.AppealRow, error) { return r.appeal(ctx, req) },
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req AppealRequest) error {
			if p := health.ValidatePOA(req.RootCause, req.CorrectiveActions, req.PreventiveMeasures); p != nil {
				return temporal.NewApplicationError("the Plan of Action is incomplete", "InvalidPlan", p)
			}
			return refusal(r.c.CanAppeal())
		}})
	if err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecision,
		func(ctx workflow.Context, req DecisionRequest) (store.AppealRow, error) { return r.decide(ctx, req) },
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req DecisionRequest) error {
			if p := health.ValidateDecision(req.Decision, req.ReasonCode, req.Message); p != nil {
				return temporal.NewApplicationError("the decision is incomplete", "InvalidDecision", p)
			}
			return refusal(r.c.CanDecide(req.AppealID))
		}})
}

func (r *caseRun) appeal(ctx workflow.Context, req AppealRequest) (store.AppealRow, error) {
	now := workflow.Now(ctx).UTC()
	from := r.c.State
	// Validators of updates delivered together all run before any handler, so the
	// handler checks again: of two racing requests only the first gets through.
	if err := r.c.SubmitAppeal(req.AppealID, now); err != nil {
		return store.AppealRow{}, refusal(err)
	}
	r.version++
	due := r.c.Deadline
	ap := &store.AppealRow{ID: req.AppealID, CaseID: r.c.ID, SellerID: r.c.SellerID, Status: store.AppealSubmitted,
		RootCause: req.RootCause, CorrectiveActions: req.CorrectiveActions, PreventiveMeasures: req.PreventiveMeasures,
		SubmittedAt: now, ReviewDue: &due}
	r.appeals[ap.ID] = ap
	typ, msg := "appeal_submitted", fmt.Sprintf("appeal %d of %d submitted; review due by the SLA", r.c.AppealsUsed, r.c.Policy.MaxAppeals)
	if from == health.InfoRequested {
		typ, msg = "info_provided", "the seller answered the request for information"
	}
	err := r.record(ctx, recordSpec{typ: typ, actor: "seller:" + r.c.SellerID, from: from, appeal: ap,
		detail: map[string]any{"message": msg, "appeal_id": ap.ID},
		mail:   []activities.MailSpec{{Template: "appeal_received", To: activities.ToSeller}}})
	return *ap, err
}

func (r *caseRun) decide(ctx workflow.Context, req DecisionRequest) (store.AppealRow, error) {
	now := workflow.Now(ctx).UTC()
	from := r.c.State
	if err := r.c.Decide(req.AppealID, req.Decision, now); err != nil {
		return store.AppealRow{}, refusal(err)
	}
	r.version++
	ap := r.appeals[req.AppealID]
	if ap == nil { // cannot happen: CanDecide checked it is the appeal under review
		return store.AppealRow{}, errors.New("appeal " + req.AppealID + " unknown to its case")
	}
	ap.DecidedAt, ap.DecidedBy = &now, &req.ReviewerID
	ap.ReasonCode, ap.Message = optional(req.ReasonCode), optional(req.Message)
	spec := recordSpec{actor: "reviewer:" + req.ReviewerID, from: from, appeal: ap, reviewer: req.ReviewerName,
		detail: map[string]any{"appeal_id": ap.ID, "reason_code": req.ReasonCode, "message": req.Message}}
	switch req.Decision {
	case health.Approve:
		ap.Status, spec.typ = store.AppealApproved, "reinstated"
		spec.mail = []activities.MailSpec{{Template: "reinstated", To: activities.ToSeller}}
	case health.Reject:
		ap.Status, spec.typ = store.AppealRejected, "appeal_rejected"
		spec.mail = []activities.MailSpec{{Template: "rejected", To: activities.ToSeller}}
		if r.c.State == health.Deactivated {
			spec.typ, spec.message = "deactivated", "Why: every appeal has been used and the last one was not accepted."
			spec.mail = append(spec.mail, activities.MailSpec{Template: "deactivated", To: activities.ToSeller})
		}
	case health.RequestInfo:
		ap.Status, spec.typ = store.AppealInfoRequested, "info_requested"
		spec.mail = []activities.MailSpec{{Template: "info_requested", To: activities.ToSeller}}
	}
	return *ap, r.record(ctx, spec)
}

// refusal turns a refused transition into the error callers map to 409.
func refusal(err error) error {
	var te *health.TransitionError
	if errors.As(err, &te) {
		return temporal.NewApplicationError(te.Error(), ErrTransition)
	}
	return err
}

type recordSpec struct {
	typ, actor string
	from       health.CaseState
	detail     map[string]any
	evidence   *store.Evidence
	appeal     *store.AppealRow
	mail       []activities.MailSpec
	message    string
	reviewer   string
}

// record writes one transition and starts delivering its mail. Records run one
// at a time, each with the case as it is then, so the read model never goes back.
func (r *caseRun) record(ctx workflow.Context, s recordSpec) error {
	ctx = workflow.WithActivityOptions(ctx, caseActivityOptions)
	if err := r.mu.Lock(ctx); err != nil {
		return err
	}
	defer r.mu.Unlock()
	r.seq++
	info := workflow.GetInfo(ctx)
	in := activities.RecordInput{
		Case: r.c, WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		Seq: r.seq, At: workflow.Now(ctx).UTC(), Type: s.typ, Actor: s.actor, From: s.from, Detail: s.detail,
		Evidence: s.evidence, Appeal: s.appeal, Mail: s.mail, Message: s.message, Reviewer: s.reviewer,
	}
	if s.appeal != nil {
		copied := *s.appeal
		in.Appeal = &copied
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

func observationDetail(message string, o activities.Observation) map[string]any {
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
