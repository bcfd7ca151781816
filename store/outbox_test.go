package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// TestFailedMailIsKeptAndResentOnce: a mail given up on is failed with its error
// and attempts, listed as failed, counted, and taken back for one resend only; a
// sent mail is never taken back.
func TestFailedMailIsKeptAndResentOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
		for _, k := range []string{"signin/a", "signin/b", "signin/c"} {
			if err := st.QueueMail(ctx, store.OutboxMail{Key: k, Template: "signin", Recipients: `["x@example.com"]`, Subject: "s", TextBody: "t", HTMLBody: "h", CreatedAt: at}); err != nil {
				t.Fatal(err)
			}
		}
		// Queued again under one key: the same mail, the same id.
		if err := st.QueueMail(ctx, store.OutboxMail{Key: "signin/a", Template: "signin", Recipients: `[]`, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		a, err := st.MailByID(ctx, store.MailID("signin/a"))
		if err != nil || a.Key != "signin/a" || a.Status() != store.MailPending {
			t.Fatalf("mail by id: %+v %v", a, err)
		}
		if err := st.MarkMailFailed(ctx, "signin/a", errors.New("dial: connection refused")); err != nil {
			t.Fatal(err)
		}
		if ok, err := st.MarkMailUndeliverable(ctx, "signin/a", errors.New("dial: connection refused")); !ok || err != nil {
			t.Fatalf("undeliverable: %v %v", ok, err)
		}
		if err := st.MarkMailSent(ctx, "signin/b"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := st.MarkMailUndeliverable(ctx, "signin/b", errors.New("late")); ok {
			t.Error("a sent mail became failed")
		}
		failed, _, err := st.ListMail(ctx, store.MailFailed, store.Page{})
		if err != nil || len(failed) != 1 || failed[0].Key != "signin/a" || failed[0].Attempts != 2 ||
			failed[0].LastError == nil || *failed[0].LastError != "dial: connection refused" || failed[0].FailedAt == nil {
			t.Fatalf("failed mail: %+v %v", failed, err)
		}
		counts, oldest, err := st.OutboxCounts(ctx)
		if err != nil || counts[store.MailFailed] != 1 || counts[store.MailSent] != 1 || counts[store.MailPending] != 1 ||
			oldest == nil || !oldest.Equal(at) {
			t.Errorf("counts: %v, oldest pending %v, %v", counts, oldest, err)
		}
		if _, err := st.RetryMail(ctx, a.ID); err != nil {
			t.Fatalf("resend: %v", err)
		}
		if _, err := st.RetryMail(ctx, a.ID); !errors.Is(err, store.ErrConflict) {
			t.Errorf("a second resend while pending: %v, want ErrConflict", err)
		}
		if _, err := st.RetryMail(ctx, store.MailID("signin/b")); !errors.Is(err, store.ErrConflict) {
			t.Errorf("resend of a sent mail: %v, want ErrConflict", err)
		}
		if _, err := st.RetryMail(ctx, "mail_nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("resend of no mail: %v, want ErrNotFound", err)
		}
		// Pages by id.
		first, next, _ := st.ListMail(ctx, "", store.Page{Limit: 2})
		rest, end, _ := st.ListMail(ctx, "", store.Page{Limit: 2, After: next})
		if len(first) != 2 || next == nil || len(rest) != 1 || end != nil || rest[0].ID <= first[1].ID {
			t.Errorf("pages: %d then %d (cursors %v, %v)", len(first), len(rest), next, end)
		}
	})
}

// TestBatchMailListsWhatIsLeftToSend: a batch answers its own mail still to
// send, in key order; not another batch's, not mail in no batch, not what was
// sent or given up on.
func TestBatchMailListsWhatIsLeftToSend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b1, b2 := "evaluation/e1/s001", "evaluation/e1/s501"
		queue := func(key string, batch *string) {
			t.Helper()
			if err := st.QueueMail(ctx, store.OutboxMail{Key: key, Template: "program_invited", Recipients: `["x@example.com"]`,
				Subject: "s", TextBody: "t", HTMLBody: "h", CreatedAt: time.Now().UTC(), Batch: batch}); err != nil {
				t.Fatal(err)
			}
		}
		for _, k := range []string{"program/s003/b/invited", "program/s001/b/invited", "program/s002/b/invited", "program/s004/b/invited"} {
			queue(k, &b1)
		}
		queue("program/s501/b/invited", &b2)
		queue("program/s005/b/invited", nil)
		if err := st.MarkMailSent(ctx, "program/s002/b/invited"); err != nil {
			t.Fatal(err)
		}
		if ok, err := st.MarkMailUndeliverable(ctx, "program/s004/b/invited", errors.New("550 no such user")); !ok || err != nil {
			t.Fatalf("undeliverable: %v %v", ok, err)
		}
		got, err := st.BatchMail(ctx, b1)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"program/s001/b/invited", "program/s003/b/invited"}; !slices.Equal(got, want) {
			t.Errorf("batch %s: %v, want %v", b1, got, want)
		}
		if got, err := st.BatchMail(ctx, "evaluation/e1/none"); err != nil || len(got) != 0 {
			t.Errorf("a batch with no mail: %v %v", got, err)
		}
	})
}
