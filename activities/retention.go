package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// DefaultPruneBatch is how many rows one pruning statement takes.
const DefaultPruneBatch = 1000

// Retention prunes what the policy's retention says is kept no longer.
type Retention struct {
	Store  *store.Store
	Policy health.RetentionPolicy
	Batch  int // rows a statement takes; DefaultPruneBatch when 0
}

// age is how long kind is kept (0: for good).
func (a *Retention) age(kind string) time.Duration {
	switch kind {
	case store.PruneSnapshots:
		return a.Policy.Snapshots
	case store.PruneSentMailBodies:
		return a.Policy.SentMailBodies
	}
	return a.Policy.Sessions // sessions, sign-in links and their requests
}

// Prune removes, batch by batch, every kind's rows past its age, and answers
// how many of each. Retried, it goes on from what is left.
func (a *Retention) Prune(ctx context.Context, _ flow.RetentionInput) (flow.RetentionSummary, error) {
	batch := a.Batch
	if batch <= 0 {
		batch = DefaultPruneBatch
	}
	now := time.Now()
	sum := flow.RetentionSummary{Pruned: map[string]int64{}}
	for _, kind := range store.PruneKinds {
		age := a.age(kind)
		if age <= 0 {
			continue
		}
		for {
			n, err := a.Store.PruneBatch(ctx, kind, now.Add(-age), batch)
			if err != nil {
				return sum, err
			}
			sum.Pruned[kind] += n
			if activity.IsActivity(ctx) {
				activity.RecordHeartbeat(ctx, sum)
			}
			if n < int64(batch) {
				break
			}
		}
	}
	return sum, nil
}
