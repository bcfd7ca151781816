package workflows

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/accounthealth/accounthealth/activities"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// TestRetentionWorkflowSummarises: the workflow prunes with the real activity,
// in batches, and answers the count of each kind; a kind kept for good (0) is
// left alone.
func TestRetentionWorkflowSummarises(t *testing.T) {
	st := storetest.NewSQLite(t)
	ctx := context.Background()
	old := time.Now().Add(-30 * 24 * time.Hour)
	for _, k := range []string{"m1", "m2", "m3"} {
		if err := st.QueueMail(ctx, store.OutboxMail{Key: k, Template: "t", Recipients: `["a@b.c"]`, Subject: k, TextBody: "b", HTMLBody: "b", CreatedAt: old}); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkMailSent(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"s1", "s2"} {
		if err := st.CreateSession(ctx, store.Session{IDHash: id, Role: store.RoleAdmin, CSRF: "c", CreatedAt: old, ExpiresAt: old.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	// Mail sent just now is past a retention of 1ms; sessions kept for good (0) are not visited.
	time.Sleep(10 * time.Millisecond)
	env.RegisterActivity(&activities.Retention{Store: st, Batch: 2,
		Policy: health.RetentionPolicy{SentMailBodies: time.Millisecond, Sessions: 0, Snapshots: 400 * 24 * time.Hour}})
	env.ExecuteWorkflow(RetentionWorkflow, flow.RetentionInput{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var sum flow.RetentionSummary
	if err := env.GetWorkflowResult(&sum); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{store.PruneSnapshots: 0, store.PruneSentMailBodies: 3}
	if len(sum.Pruned) != len(want) || sum.Pruned[store.PruneSnapshots] != 0 || sum.Pruned[store.PruneSentMailBodies] != 3 {
		t.Errorf("summary %v, want %v (sessions kept for good are not visited)", sum.Pruned, want)
	}
	if m, _ := st.Mail(ctx, "m2"); m.TextBody != "" || m.Subject != "m2" {
		t.Errorf("a pruned mail: %+v", m)
	}
}
