package activities

import (
	"context"

	"go.temporal.io/sdk/activity"

	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// mailBatch names the batch of mail one shard of an evaluation queues. No two
// shards share a seller, so the shard's first seller names it within the
// evaluation, and a retried shard names the same batch.
func mailBatch(evaluation string, sh flow.Shard) string {
	first := sh.From
	if first == "" && len(sh.IDs) > 0 {
		first = sh.IDs[0]
	}
	return evaluation + "/" + first
}

// inBatch puts a mail about to be queued in batch ("" leaves it in none).
func inBatch(batch string, m *store.OutboxMail) {
	if m != nil {
		m.Batch = nonEmpty(batch)
	}
}

// mailToDeliver answers what a shard hands its workflow to deliver: the keys
// queued when it runs without batches (histories recorded before them), or else
// the batch's name when it queued mail, and on a retry even when this attempt
// queued none, since an attempt that died after storing left its mail queued
// and unnamed to the workflow. An empty batch costs one lookup.
func mailToDeliver(ctx context.Context, batch string, keys []string) ([]string, string) {
	if batch == "" {
		return keys, ""
	}
	if len(keys) > 0 || (activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt > 1) {
		return nil, batch
	}
	return nil, ""
}
