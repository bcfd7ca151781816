package health

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Case is the state of one case: everything the lifecycle rules look at. Every
// transition is a method here, so the rules live in one place; the workflow calls
// them, and its update validators ask the same methods before accepting a request.
type Case struct {
	ID          string      `json:"id"`
	SellerID    string      `json:"seller_id"`
	Kind        CaseKind    `json:"kind"`
	Metric      MetricID    `json:"metric,omitempty"`
	ListingID   string      `json:"listing_id,omitempty"`
	Violation   string      `json:"violation,omitempty"`
	Action      Action      `json:"action"`
	State       CaseState   `json:"state"`
	Enforcement Enforcement `json:"enforcement"`
	OpenedAt    time.Time   `json:"opened_at"`
	Deadline    time.Time   `json:"deadline"`
	AppealsUsed int         `json:"appeals_used"`
	Appeal      string      `json:"appeal,omitempty"` // the appeal under review or awaiting information
	Escalated   bool        `json:"escalated"`
	Policy      CasePolicy  `json:"policy"`
	// Lifted is the enforcement a withdrawal lifted (none for a warning), so the
	// points it took can be given back; Enforcement is then none.
	Lifted Enforcement `json:"lifted,omitempty"`
}

// TransitionError is a request the case does not take in its present state.
type TransitionError struct {
	State   CaseState
	Problem string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("the case is %s: %s", e.State, e.Problem)
}

func (c *Case) refuse(problem string) error {
	return &TransitionError{State: c.State, Problem: problem}
}

// OpenMetricCase opens a case for a breach: a warning with a grace period.
func OpenMetricCase(id, seller string, m MetricID, a Action, p CasePolicy, now time.Time) Case {
	return Case{ID: id, SellerID: seller, Kind: MetricBreach, Metric: m, Action: a, State: Warned,
		Enforcement: NoEnforcement, OpenedAt: now, Deadline: now.Add(p.WarningGrace), Policy: p}
}

// OpenPolicyCase opens a policy-violation case, enforced at once: the listing is deactivated.
func OpenPolicyCase(id, seller, listing, violation string, p CasePolicy, now time.Time) Case {
	return Case{ID: id, SellerID: seller, Kind: PolicyViolation, ListingID: listing, Violation: violation,
		Action: Restrict, State: Enforced, Enforcement: ListingDeactivation, OpenedAt: now,
		Deadline: now.Add(p.AppealWindow), Policy: p}
}

// NotifyOnly reports whether the case only notifies and never enforces.
func (c *Case) NotifyOnly() bool { return c.Action == Notify }

// Recover closes a warned case (or one waiting for a reviewer to confirm its
// suspension) whose metric is back on target.
func (c *Case) Recover() error {
	if c.State != Warned && c.State != PendingConfirmation {
		return c.refuse("only a warned case closes when its metric recovers; an enforced one needs an appeal")
	}
	c.State = Resolved
	return nil
}

// GraceEnded applies the re-check at the end of the grace period: still in
// breach, the case is enforced (a notify-only case stays a warning for another
// period); recovered, it is resolved.
func (c *Case) GraceEnded(now time.Time, inBreach bool) error {
	if c.State != Warned {
		return c.refuse("the grace period applies only to a warned case")
	}
	switch {
	case !inBreach:
		c.State = Resolved
	case c.NotifyOnly():
		c.Deadline = now.Add(c.Policy.WarningGrace)
	case c.Action == Suspend && c.Policy.ConfirmSuspension:
		// Nothing suspends an account on its own: a reviewer confirms or withdraws.
		c.State, c.Escalated = PendingConfirmation, false
		c.Deadline = now.Add(c.Policy.ConfirmationSLA)
	default:
		c.State = Enforced
		c.Enforcement = EnforcementFor(c.Action)
		c.Deadline = now.Add(c.Policy.AppealWindow)
	}
	return nil
}

// CanConfirm says whether a reviewer may confirm the suspension now.
func (c *Case) CanConfirm() error {
	if c.State != PendingConfirmation {
		return c.refuse("no suspension is waiting for confirmation")
	}
	return nil
}

// Confirm applies a reviewer's confirmation: the suspension takes effect and the
// appeal window opens.
func (c *Case) Confirm(now time.Time) error {
	if err := c.CanConfirm(); err != nil {
		return err
	}
	c.State, c.Escalated = Enforced, false
	c.Enforcement = EnforcementFor(c.Action)
	c.Deadline = now.Add(c.Policy.AppealWindow)
	return nil
}

// ConfirmDecision is a reviewer's answer to a suspension waiting for confirmation.
type ConfirmDecision string

const (
	ConfirmIt  ConfirmDecision = "confirm"
	WithdrawIt ConfirmDecision = "withdraw"
)

// ValidateConfirmation checks a reviewer's answer: a withdrawal carries its
// reason, as every withdrawal does; a confirmation may add one.
func ValidateConfirmation(d ConfirmDecision, code, message string) Problems {
	switch d {
	case WithdrawIt:
		return ValidateWithdrawal(code, message)
	case ConfirmIt:
	default:
		return Problems{"decision": "must be confirm or withdraw"}
	}
	p := Problems{}
	if code != "" && !reasonCode.MatchString(code) {
		p["reason_code"] = CodeRule
	}
	if Length(strings.TrimSpace(message)) > POAMax {
		p["message"] = fmt.Sprintf("is too long; at most %d characters", POAMax)
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// CanAppeal says whether a Plan of Action is taken now: an appeal of an enforced
// case with appeals left, or the answer to a request for information.
func (c *Case) CanAppeal() error {
	switch c.State {
	case Enforced:
		if c.AppealsUsed >= c.Policy.MaxAppeals {
			return c.refuse(fmt.Sprintf("all %d appeals have been used", c.Policy.MaxAppeals))
		}
		return nil
	case InfoRequested:
		return nil
	case Warned:
		return c.refuse("nothing is enforced yet; fix the metric within the grace period and the case closes by itself")
	case PendingConfirmation:
		return c.refuse("nothing is enforced yet; a reviewer is checking the case before any suspension")
	case UnderReview:
		return c.refuse("an appeal is already under review")
	}
	return c.refuse("the case is closed")
}

// SubmitAppeal takes a Plan of Action: it goes to review under the review SLA.
// An answer to a request for information does not use up another appeal.
func (c *Case) SubmitAppeal(appealID string, now time.Time) error {
	if err := c.CanAppeal(); err != nil {
		return err
	}
	if c.State == Enforced {
		c.AppealsUsed++
	}
	c.State, c.Appeal, c.Escalated = UnderReview, appealID, false
	c.Deadline = now.Add(c.Policy.ReviewSLA)
	return nil
}

// Decision is a reviewer's verdict on an appeal.
type Decision string

const (
	Approve     Decision = "approve"
	Reject      Decision = "reject"
	RequestInfo Decision = "request_info"
)

// CanDecide says whether appealID may be decided now.
func (c *Case) CanDecide(appealID string) error {
	if c.State != UnderReview {
		return c.refuse("no appeal is waiting for a decision")
	}
	if appealID != c.Appeal {
		return c.refuse(fmt.Sprintf("appeal %s is not the one under review", appealID))
	}
	return nil
}

// Decide applies a reviewer's decision. A rejection that uses the last appeal
// deactivates; otherwise the seller may appeal again within a new appeal window.
func (c *Case) Decide(appealID string, d Decision, now time.Time) error {
	if err := c.CanDecide(appealID); err != nil {
		return err
	}
	switch d {
	case Approve:
		c.State = Reinstated
	case Reject:
		if c.AppealsUsed >= c.Policy.MaxAppeals {
			c.State = Deactivated
		} else {
			c.State, c.Appeal = Enforced, ""
			c.Deadline = now.Add(c.Policy.AppealWindow)
		}
	case RequestInfo:
		c.State = InfoRequested
		c.Deadline = now.Add(c.Policy.InfoResponseWindow)
	default:
		return c.refuse(fmt.Sprintf("unknown decision %q", d))
	}
	return nil
}

// DeadlinePassed applies the end of whatever the case was waiting for. It
// returns whether the case should be escalated (a late review) rather than moved.
func (c *Case) DeadlinePassed() (escalate bool, err error) {
	switch c.State {
	case Enforced, InfoRequested:
		c.State = Deactivated
		return false, nil
	case UnderReview, PendingConfirmation:
		if c.Escalated {
			return false, c.refuse("the late review was already escalated")
		}
		c.Escalated = true
		return true, nil
	}
	return false, c.refuse("no deadline to pass (the grace period has its own re-check)")
}

// CanWithdraw says whether a reviewer may withdraw the case now: any open case
// may be withdrawn; a finished one stays as it ended.
func (c *Case) CanWithdraw() error {
	if !c.State.Open() {
		return c.refuse("the case is finished; only an open case can be withdrawn")
	}
	return nil
}

// Withdraw takes the case back: its enforcement is lifted and an appeal under
// review (or awaiting information) is withdrawn with it. It answers that appeal's
// id, if any.
func (c *Case) Withdraw() (appealID string, err error) {
	if err := c.CanWithdraw(); err != nil {
		return "", err
	}
	if c.State == UnderReview || c.State == InfoRequested {
		appealID = c.Appeal
	}
	c.State, c.Lifted, c.Enforcement, c.Appeal = Withdrawn, c.Enforcement, NoEnforcement, ""
	return appealID, nil
}

// ValidateWithdrawal checks a reviewer's withdrawal: the seller is told why, with
// a reason code and a written message.
func ValidateWithdrawal(code, message string) Problems {
	p := Problems{}
	switch {
	case code == "":
		p["reason_code"] = "is required: say why the case is withdrawn (e.g. measurement_error)"
	case !reasonCode.MatchString(code):
		p["reason_code"] = CodeRule
	}
	switch n := Length(strings.TrimSpace(message)); {
	case n == 0:
		p["message"] = "is required: tell the seller why the case is withdrawn, in your own words"
	case n > POAMax:
		p["message"] = fmt.Sprintf("is too long; at most %d characters", POAMax)
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// Plan of Action limits.
const (
	POAMin = 20
	POAMax = 10000
)

// ValidatePOA checks the three sections of a Plan of Action.
func ValidatePOA(rootCause, corrective, preventive string) Problems {
	p := Problems{}
	for _, f := range []struct{ name, text, what string }{
		{"root_cause", rootCause, "what caused the problem"},
		{"corrective_actions", corrective, "what you have already done to fix it"},
		{"preventive_measures", preventive, "what you will do so it does not happen again"},
	} {
		n := Length(strings.TrimSpace(f.text))
		switch {
		case n == 0:
			p[f.name] = "is required: say " + f.what
		case n < POAMin:
			p[f.name] = fmt.Sprintf("is too short (%d characters); at least %d: say %s", n, POAMin, f.what)
		case n > POAMax:
			p[f.name] = fmt.Sprintf("is too long (%d characters); at most %d", n, POAMax)
		}
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// ReasonCodes are the reasons a reviewer gives most, with what they tell the seller.
// Others are allowed (any lower_snake_case code) so a marketplace can add its own.
var ReasonCodes = map[string]string{
	"root_cause_unclear":   "The root cause is not identified precisely enough.",
	"actions_not_specific": "The corrective actions are not specific or not yet taken.",
	"prevention_missing":   "The preventive measures would not stop this happening again.",
	"evidence_missing":     "Evidence supporting the plan is missing.",
	"metric_not_recovered": "The metric has not recovered yet.",
	"plan_accepted":        "The plan addresses the problem.",
	"measurement_error":    "The metric was measured wrongly; the case should not have been opened.",
	"opened_in_error":      "The case was opened in error.",
	"other":                "See the reviewer's message.",
}

var (
	reasonCode = regexp.MustCompile(`^[a-z][a-z0-9_]{1,63}$`)
	idPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

// ValidCode reports whether s is a lower_snake_case code (a reason code, a violation).
func ValidCode(s string) bool { return reasonCode.MatchString(s) }

// CodeRule says what a code must look like.
const CodeRule = "must be lower_snake_case, 2-64 characters (e.g. actions_not_specific)"

// ValidID reports whether s can name a seller or a listing.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// IDRule says what an id must look like.
const IDRule = "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"

// ValidateDecision checks a reviewer's decision: a rejection or a request for
// information must carry a reason code and a written message.
func ValidateDecision(d Decision, code, message string) Problems {
	p := Problems{}
	switch d {
	case Approve, Reject, RequestInfo:
	default:
		p["decision"] = "must be approve, reject or request_info"
	}
	needs := d == Reject || d == RequestInfo
	if code == "" && needs {
		p["reason_code"] = "is required when rejecting or requesting information"
	} else if code != "" && !reasonCode.MatchString(code) {
		p["reason_code"] = CodeRule
	}
	n := Length(strings.TrimSpace(message))
	switch {
	case n == 0 && needs:
		p["message"] = "is required: tell the seller what is missing, in your own words"
	case n > POAMax:
		p["message"] = fmt.Sprintf("is too long; at most %d characters", POAMax)
	}
	if len(p) == 0 {
		return nil
	}
	return p
}
