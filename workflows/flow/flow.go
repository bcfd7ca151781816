// Package flow is how the rest of the system talks to the workflows: the task
// queue, the names of the workflows and of their signals, updates and queries,
// the error types their refusals carry, the payloads that cross Temporal, and a
// client that starts, signals and updates them.
//
// Payloads are small types of their own, never database rows: a recorded history
// outlives any schema, so a renamed column must not break a running case. Their
// JSON field names are part of every recorded history; change them only behind
// workflow versioning.
package flow

import "github.com/accounthealth/accounthealth/health"

// Task queues. The worker polls each, with its own pollers and slots.
const (
	// TaskQueue carries the cases, their mail, webhooks and retention.
	TaskQueue = "account-health"
	// EvaluationTaskQueue carries the evaluations (sweeps and tier evaluations)
	// and their shards: a sweep that opens 50,000 cases leaves as many first
	// workflow tasks queued on TaskQueue, and the next evaluation must not
	// wait behind them.
	EvaluationTaskQueue = "account-health-evaluations"
	// BulkMailTaskQueue carries the evaluations' batches of mail (program
	// invitations, news of a tier): its worker delivers only a few batches at
	// once, so a marketplace's first sweep, which invites most sellers, does
	// not take the CPU the cases it opens need to warn their sellers.
	BulkMailTaskQueue = "account-health-bulk-mail"
)

// Workflow type names: the names the worker registers the workflow functions under.
const (
	CaseWorkflowType           = "CaseWorkflow"
	EvaluationWorkflowType     = "EvaluationWorkflow"
	TierEvaluationWorkflowType = "TierEvaluationWorkflow"
	MailWorkflowType           = "MailWorkflow"
)

// Names of the case workflow's signals, updates and query.
const (
	SignalObservation = "observation"   // an evaluation saw the case's metric (Observation)
	UpdateAppeal      = "submit-appeal" // a seller's Plan of Action (AppealRequest → Appeal)
	UpdateDecision    = "decide"        // a reviewer's decision (DecisionRequest → Appeal)
	UpdateWithdraw    = "withdraw"      // a reviewer withdraws the case (WithdrawalRequest → health.Case)
	UpdateConfirm     = "confirm"       // a reviewer confirms or withdraws a pending suspension (ConfirmationRequest → health.Case)
	UpdateOpened      = "opened"        // waits until the case is opened and recorded (→ health.Case)
	QueryCase         = "case"          // the case's state (health.Case)
)

// Types of the application errors a case answers with. Callers match on these,
// never on messages.
const (
	// ErrTransition: the case does not take the request in its present state.
	ErrTransition = "TransitionNotAllowed"
	// ErrInvalidPlan and ErrInvalidDecision: the request itself is incomplete.
	ErrInvalidPlan     = "InvalidPlan"
	ErrInvalidDecision = "InvalidDecision"
	ErrInvalidRequest  = "InvalidRequest" // any other request with fields missing or wrong
	// ErrNotRecorded: the transition could not be written for a reason retrying
	// cannot fix; the case was left as it was and the failure is on its timeline.
	ErrNotRecorded = "NotRecorded"
	// ErrPermanent: an activity met an error retrying cannot fix (invalid data, a
	// constraint violated); it is not retried.
	ErrPermanent = "PermanentError"
)

// Temporal Schedules: the sweep that evaluates every seller, and the tier
// evaluation on the first day of each quarter.
const (
	SweepScheduleID = "evaluation-sweep"
	TierScheduleID  = "tier-evaluation"
)

// CaseWorkflowID is the id of the case of a seller's metric: at most one runs at a time.
func CaseWorkflowID(seller string, m health.MetricID) string {
	return "case/" + seller + "/" + string(m)
}

// PolicyCaseWorkflowID is the id of a policy-violation case of one listing.
func PolicyCaseWorkflowID(seller, listing, violation string) string {
	return "case/" + seller + "/" + listing + "/" + violation
}

// EvaluationWorkflowID is the workflow id of an evaluation.
func EvaluationWorkflowID(evaluationID string) string { return "evaluation/" + evaluationID }

// TierEvaluationWorkflowID is the workflow id of a tier evaluation.
func TierEvaluationWorkflowID(evaluationID string) string { return "tier-evaluation/" + evaluationID }
