package activities

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/accounthealth/accounthealth/activities/killpoint"
	"github.com/accounthealth/accounthealth/activities/mail"
	"github.com/accounthealth/accounthealth/activities/mail/capture"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
	"github.com/accounthealth/accounthealth/templates"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// TestDeliverCrashAfterAcceptSendsOneMessageID stops Deliver after the SMTP server
// (the real capture, on loopback) accepted a warning and before the outbox row is
// marked sent, as a process killed there would, then runs it again as Temporal's
// retry does: the mail arrives twice, both copies with one Message-ID derived from
// its outbox key, so the recipient's side can drop the repeat; a third run sends
// nothing.
func TestDeliverCrashAfterAcceptSendsOneMessageID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		relay, err := capture.Start("127.0.0.1:0", "")
		if err != nil {
			t.Fatal(err)
		}
		defer relay.Close()
		sender, err := mail.NewSender(mail.Config{URL: relay.URL(), From: "Account Health <health@market.example>"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "ada", Name: "Ada", Email: "ada@example.com"}, "hash-ada"); err != nil {
			t.Fatal(err)
		}
		a := &Cases{Store: st, Policy: health.DefaultPolicy(), Mailer: sender, PublicURL: "http://127.0.0.1:1"}
		now := time.Now().UTC().Truncate(time.Millisecond)
		c := health.Case{ID: "C-CRASHMAIL1", SellerID: "ada", Kind: health.MetricBreach, Metric: health.ODR, Action: health.Suspend,
			State: health.Warned, Enforcement: health.NoEnforcement, OpenedAt: now, Deadline: now.Add(time.Hour), Policy: a.Policy.Cases}
		keys, err := a.Record(ctx, flow.RecordInput{Case: c, WorkflowID: "case/ada/odr", RunID: "run-1", Seq: 1, At: now, Type: "opened", Actor: "system",
			Evidence: &flow.Evidence{Numerator: 5, Denominator: 20, WindowDays: 60}, Mail: []flow.MailSpec{{Template: templates.Warning, To: flow.ToSeller}}})
		if err != nil || len(keys) != 1 {
			t.Fatalf("record: %v %v", keys, err)
		}
		key := keys[0]

		var env testsuite.WorkflowTestSuite
		deliver := func() error {
			ae := env.NewTestActivityEnvironment()
			ae.RegisterActivity(a)
			_, err := ae.ExecuteActivity(a.Deliver, key)
			return err
		}
		disarm, err := killpoint.Arm(killpoint.DeliverAfterSend, func(name string, _ int64) { panic("killed at " + name) })
		if err != nil {
			t.Fatal(err)
		}
		if err := deliver(); err == nil {
			t.Fatal("Deliver returned normally past its kill point")
		}
		disarm()
		if m, err := st.Mail(ctx, key); err != nil || m.SentAt != nil {
			t.Fatalf("after the crash the outbox row is %+v (%v), want it unsent", m, err)
		}
		if err := deliver(); err != nil {
			t.Fatalf("the retry: %v", err)
		}
		if err := deliver(); err != nil { // marked now: sends nothing
			t.Fatalf("a retry after the mark: %v", err)
		}

		var copies []capture.Message
		for _, m := range relay.Messages() {
			if m.Headers["X-Accounthealth-Key"] == key {
				copies = append(copies, m)
			}
		}
		if len(copies) != 2 {
			t.Fatalf("the relay got %d copies of %s, want 2 (the crashed send and its retry)", len(copies), key)
		}
		want := mail.MessageID(key, "market.example")
		for i, m := range copies {
			if got := m.Headers["Message-Id"]; got != want {
				t.Errorf("copy %d has Message-ID %q, want %q (from the outbox key)", i+1, got, want)
			}
		}
		if m, err := st.Mail(ctx, key); err != nil || m.SentAt == nil {
			t.Errorf("after the retry the outbox row is %+v (%v), want it sent", m, err)
		}
	})
}

// TestEscalationWithoutReviewersQueuesNothing: with nobody to tell, an escalation
// stays on the timeline and no mail key is handed back, so the case never waits
// on a delivery of a message that was never queued; once a reviewer exists, the
// escalation is queued for them.
func TestEscalationWithoutReviewersQueuesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "bo", Name: "Bo", Email: "bo@example.com"}, "hash-bo"); err != nil {
			t.Fatal(err)
		}
		a := &Cases{Store: st, Policy: health.DefaultPolicy(), PublicURL: "http://127.0.0.1:1"}
		now := time.Now().UTC().Truncate(time.Millisecond)
		c := health.Case{ID: "C-NOREVIEWER", SellerID: "bo", Kind: health.MetricBreach, Metric: health.ODR, Action: health.Suspend,
			State: health.UnderReview, Enforcement: health.AccountSuspension, OpenedAt: now, Deadline: now.Add(time.Hour),
			Escalated: true, Policy: a.Policy.Cases}
		record := func(seq int) []string {
			keys, err := a.Record(ctx, flow.RecordInput{Case: c, WorkflowID: "case/bo/odr", RunID: "run-1", Seq: seq, At: now, Type: "escalated",
				Actor: "system", From: health.UnderReview, Evidence: &flow.Evidence{Numerator: 5, Denominator: 20, WindowDays: 60},
				Mail: []flow.MailSpec{{Template: templates.Escalation, To: flow.ToReviewers}}})
			if err != nil {
				t.Fatalf("record: %v", err)
			}
			return keys
		}
		if keys := record(1); len(keys) != 0 {
			t.Fatalf("no reviewer exists, and the record handed back %v to deliver", keys)
		}
		if _, err := st.Mail(ctx, "C-NOREVIEWER/1/"+templates.Escalation); err == nil {
			t.Error("an escalation was queued with nobody to send it to")
		}
		if tl, err := st.Timeline(ctx, c.ID); err != nil || len(tl) != 1 || tl[0].Type != "escalated" {
			t.Errorf("timeline %+v (%v), want the escalation on it", tl, err)
		}
		if _, err := st.CreateReviewer(ctx, store.Reviewer{Name: "Rae", Email: "rae@example.com"}, "hash-rae"); err != nil {
			t.Fatal(err)
		}
		if keys := record(2); len(keys) != 1 {
			t.Fatalf("with a reviewer: keys %v, want the escalation's", keys)
		}
	})
}
