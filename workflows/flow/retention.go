package flow

// RetentionWorkflowType is the retention workflow's name; RetentionScheduleID its schedule's.
const (
	RetentionWorkflowType = "RetentionWorkflow"
	RetentionScheduleID   = "retention"
)

// RetentionInput starts a pruning; the ages are the worker's policy (retention).
type RetentionInput struct{}

// RetentionSummary says how many rows of each kind a pruning removed (for sent
// mail bodies: emptied), by store.PruneKinds.
type RetentionSummary struct {
	Pruned map[string]int64 `json:"pruned"`
}
