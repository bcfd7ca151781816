package flow

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// WebhookWorkflowType delivers the events of one endpoint.
const WebhookWorkflowType = "WebhookWorkflow"

// WebhookWorkflowID is the id of an endpoint's delivery workflow: one per endpoint.
func WebhookWorkflowID(webhookID string) string { return "webhook/" + webhookID }

// WebhookInput names an endpoint.
type WebhookInput struct {
	WebhookID string `json:"webhook_id"`
}

// DispatchResult is how a stretch of delivering ended.
type DispatchResult struct {
	Gone bool `json:"gone"` // the endpoint was deleted: its workflow ends
}

// StartWebhook starts an endpoint's delivery workflow, unless it runs already.
func (f *Client) StartWebhook(ctx context.Context, webhookID string) error {
	id := WebhookWorkflowID(webhookID)
	_, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE},
		WebhookWorkflowType, WebhookInput{WebhookID: webhookID})
	if err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	return nil
}

// StopWebhook cancels an endpoint's delivery workflow; one that has ended is fine.
func (f *Client) StopWebhook(ctx context.Context, webhookID string) error {
	err := f.c.CancelWorkflow(ctx, WebhookWorkflowID(webhookID), "")
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("stop %s: %w", WebhookWorkflowID(webhookID), err)
	}
	return nil
}
