package flow

import (
	"time"

	"github.com/accounthealth/accounthealth/health"
)

// CaseInput opens a case, or (with Resume) carries a case into its next run. The
// policy is fixed when the case opens, so a case is judged by the rules it was
// opened under.
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

	Resume *CaseResume `json:",omitempty"` // set when the case continues as new
}

// CaseResume is what a case carries from one run into the next when its history
// has grown long: everything its decisions depend on.
type CaseResume struct {
	Case    health.Case
	Seq     int      // the last timeline entry written
	Appeals []Appeal // the case's appeals so far
	// SeenEvaluations are the latest evaluations already observed, so a retried
	// shard's repeat is still recognised after the new run starts.
	SeenEvaluations []string
	Pending         []Observation // received, not yet applied
}

// Observation is what an evaluation (or a re-check) saw of a case's metric.
type Observation struct {
	EvaluationID string
	At           time.Time
	Status       health.Status
	Evidence     Evidence
}

// Evidence is what was measured and which orders (or messages) are behind it.
// The JSON names are those of the case's evidence in the API.
type Evidence struct {
	Numerator   int64         `json:"numerator"`
	Denominator int64         `json:"denominator"`
	Value       *float64      `json:"value"`
	Target      health.Target `json:"target"`
	WindowDays  int           `json:"window_days"`
	WindowStart time.Time     `json:"window_start"`
	WindowEnd   time.Time     `json:"window_end"`
	OrderIDs    []string      `json:"order_ids"`
	MessageIDs  []string      `json:"message_ids,omitempty"`
	Note        string        `json:"note,omitempty"` // a reviewer's description, for policy cases
}

// AppealRequest is a seller's Plan of Action.
type AppealRequest struct {
	CaseID             string `json:",omitempty"` // the case it is for; another case under the same workflow id refuses it
	AppealID           string
	RootCause          string
	CorrectiveActions  string
	PreventiveMeasures string
}

// DecisionRequest is a reviewer's decision on an appeal.
type DecisionRequest struct {
	CaseID       string `json:",omitempty"`
	AppealID     string
	ReviewerID   string
	ReviewerName string
	Decision     health.Decision
	ReasonCode   string
	Message      string
}

// WithdrawalRequest is a reviewer withdrawing a case.
type WithdrawalRequest struct {
	CaseID       string `json:",omitempty"`
	ReviewerID   string
	ReviewerName string
	ReasonCode   string
	Message      string
}

// ConfirmationRequest is a reviewer's answer to a suspension waiting for confirmation.
type ConfirmationRequest struct {
	CaseID       string `json:",omitempty"`
	ReviewerID   string
	ReviewerName string
	Decision     health.ConfirmDecision
	ReasonCode   string
	Message      string
}

// Appeal is a Plan of Action and its decision, as the case holds it.
type Appeal struct {
	ID                 string
	CaseID             string
	SellerID           string
	Status             string
	RootCause          string
	CorrectiveActions  string
	PreventiveMeasures string
	SubmittedAt        time.Time
	DecidedAt          *time.Time
	DecidedBy          *string
	ReasonCode         *string
	Message            *string
	ReviewDue          *time.Time
}

// Appeal statuses.
const (
	AppealSubmitted     = "submitted"
	AppealApproved      = "approved"
	AppealRejected      = "rejected"
	AppealInfoRequested = "info_requested"
	AppealWithdrawn     = "withdrawn" // its case was withdrawn before a decision
)

// Mail recipients.
const (
	ToSeller    = "seller"
	ToReviewers = "reviewers"
)

// MailSpec names a mail to queue with a transition.
type MailSpec struct {
	Template string
	To       string // ToSeller or ToReviewers
}

// RecordInput is one transition of a case, as the workflow decided it.
type RecordInput struct {
	Case       health.Case
	WorkflowID string
	RunID      string
	Seq        int
	At         time.Time
	Type       string
	Actor      string
	From       health.CaseState // "" when the case opens
	Detail     map[string]any
	Evidence   *Evidence // given when it changes (opening, enforcement)
	Appeal     *Appeal
	Mail       []MailSpec
	Message    string // extra words for the mail (e.g. why a case became final)
	Reviewer   string // the reviewer's name, for decisions
	ReasonCode string `json:",omitempty"` // a reviewer's reason, when no appeal carries it (a withdrawal)
}

// RecheckInput names a case's metric.
type RecheckInput struct {
	SellerID string
	Metric   health.MetricID
	Rule     health.MetricPolicy // the rule the case opened under; zero: the worker's
}

// EvaluationInput starts an evaluation.
type EvaluationInput struct {
	EvaluationID string   // "" for a scheduled sweep: the workflow id names it
	SellerIDs    []string // nil: every seller
}

// EvaluationResult sums the shards.
type EvaluationResult struct {
	Sellers  int
	Breaches int
}

// Shard is a set of sellers evaluated together: an inclusive range of ids, or a list.
type Shard struct {
	From string   `json:"from,omitempty"`
	To   string   `json:"to,omitempty"`
	IDs  []string `json:"ids,omitempty"`
}

// PlanInput asks for the shards of an evaluation.
type PlanInput struct {
	EvaluationID string
	SellerIDs    []string // nil: every seller
	AsOf         time.Time
	Trigger      string // "schedule": the evaluation's row is made here
}

// ShardInput is one shard of an evaluation.
type ShardInput struct {
	EvaluationID string
	Shard        Shard
	AsOf         time.Time
	// QueueNews: the shard queues what its cases are to be told, and the
	// evaluation tells them once every shard's facts are stored (TellCases).
	// Evaluations recorded before leave it false: each shard tells its own.
	QueueNews bool `json:",omitempty"`
	// MailBatch: the shard names its mail as a batch (ShardResult.MailBatch)
	// instead of answering every key. Evaluations recorded before leave it false.
	MailBatch bool `json:",omitempty"`
}

// ShardResult is what a shard found.
type ShardResult struct {
	Sellers  int
	Breaches int
	Mail     []string `json:",omitempty"` // keys of the mail it queued (program invitations), without MailBatch
	// MailBatch names the mail it queued, for Cases.DeliverBatch: the keys stay
	// out of the workflow's history, which a marketplace's mail would outgrow.
	MailBatch string `json:",omitempty"`
}

// FinishInput closes an evaluation.
type FinishInput struct {
	EvaluationID string
	Failure      string
}

// TierEvaluationInput starts a tier evaluation.
type TierEvaluationInput struct {
	EvaluationID string // "" for the schedule: the workflow id names it
	Quarter      string // "" for the schedule: the quarter just ended
}

// TierPlanInput asks for the shards of a tier evaluation.
type TierPlanInput struct {
	EvaluationID string
	Quarter      string
	Trigger      string // "schedule": the evaluation's row is made here
}

// TierShardInput is one shard of a tier evaluation.
type TierShardInput struct {
	EvaluationID string
	Quarter      string
	Shard        Shard
	MailBatch    bool `json:",omitempty"` // as ShardInput.MailBatch
}

// TierShardResult is what a shard of a tier evaluation did.
type TierShardResult struct {
	Sellers int
	Changed int
	Mail    []string // keys of the mail it queued, without MailBatch
	// MailBatch names the mail it queued, as ShardResult.MailBatch.
	MailBatch string `json:",omitempty"`
}
