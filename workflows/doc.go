// Package workflows holds the Temporal workflows, the durable processes of the
// system, and nothing else: workflow code only decides and waits; activities do
// the I/O; package flow holds the names, payloads and client the rest of the
// system uses to reach them.
package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/accounthealth/accounthealth/workflows/flow"
)

// Register registers every workflow with a worker, under the names package flow uses.
func Register(w worker.WorkflowRegistry) {
	w.RegisterWorkflowWithOptions(CaseWorkflow, workflow.RegisterOptions{Name: flow.CaseWorkflowType})
	w.RegisterWorkflowWithOptions(EvaluationWorkflow, workflow.RegisterOptions{Name: flow.EvaluationWorkflowType})
	w.RegisterWorkflowWithOptions(TierEvaluationWorkflow, workflow.RegisterOptions{Name: flow.TierEvaluationWorkflowType})
	w.RegisterWorkflowWithOptions(MailWorkflow, workflow.RegisterOptions{Name: flow.MailWorkflowType})
	w.RegisterWorkflowWithOptions(WebhookWorkflow, workflow.RegisterOptions{Name: flow.WebhookWorkflowType})
}
