// Package workflows holds the Temporal workflows: the durable processes of the
// system. Workflow code only decides; activities do the I/O.
package workflows

// TaskQueue is the one task queue the worker polls.
const TaskQueue = "account-health"

// EvaluationWorkflowID is the workflow id of an evaluation.
func EvaluationWorkflowID(evaluationID string) string { return "evaluation/" + evaluationID }
