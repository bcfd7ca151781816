package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/textproto"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/accounthealth/accounthealth/activities/killpoint"
	"github.com/accounthealth/accounthealth/activities/mail"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/templates"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// Mailer sends one message.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Cases holds the case lifecycle's activities.
type Cases struct {
	Store     *store.Store
	Policy    health.Policy
	Mailer    Mailer
	PublicURL string // where people reach the API and pages, e.g. http://127.0.0.1:8080
	// MailFailed, when set, is told of every mail given up on (a metric counts them).
	MailFailed func()
}

// Record writes the transition, its timeline entry, the appeal, the rating ledger
// and the rendered mail in one transaction, and returns the keys of the mail to
// deliver. A retry after success changes nothing and returns the same keys. An
// error retrying cannot fix (the data refused) comes back non-retryable.
func (a *Cases) Record(ctx context.Context, in flow.RecordInput) ([]string, error) {
	keys, err := a.record(ctx, in)
	return keys, permanent(err)
}

func (a *Cases) record(ctx context.Context, in flow.RecordInput) ([]string, error) {
	c := in.Case
	seller, err := a.Store.Seller(ctx, c.SellerID)
	if err != nil {
		return nil, err
	}
	var ev store.Evidence
	if in.Evidence != nil {
		ev = evidenceRow(*in.Evidence)
	} else {
		old, err := a.Store.Case(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("record %s on %s: %w", in.Type, c.ID, err)
		}
		if err := json.Unmarshal([]byte(old.Evidence), &ev); err != nil {
			return nil, fmt.Errorf("evidence of %s: %w", c.ID, err)
		}
	}
	evJSON, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("evidence of %s: %w", c.ID, err)
	}
	detail, err := json.Marshal(in.Detail)
	if err != nil {
		return nil, fmt.Errorf("timeline detail of %s: %w", c.ID, err)
	}
	row := store.CaseRow{
		ID: c.ID, WorkflowID: in.WorkflowID, RunID: in.RunID, SellerID: c.SellerID, Kind: string(c.Kind),
		Metric: nonEmpty(string(c.Metric)), ListingID: nonEmpty(c.ListingID), Violation: nonEmpty(c.Violation),
		Action: string(c.Action), State: string(c.State), Enforcement: string(c.Enforcement), OpenedAt: c.OpenedAt,
		AppealsUsed: c.AppealsUsed, MaxAppeals: c.Policy.MaxAppeals, Escalated: c.Escalated, Evidence: string(evJSON),
	}
	if c.State.Open() {
		d := c.Deadline
		row.Deadline = &d
	} else {
		at := in.At
		row.ClosedAt = &at
	}
	rec := store.CaseRecord{
		Case:  row,
		Event: store.CaseEvent{CaseID: c.ID, Seq: in.Seq, At: in.At, Type: in.Type, Actor: in.Actor, ToState: string(c.State), Detail: string(detail)},
	}
	if in.Appeal != nil {
		ap := appealRow(*in.Appeal)
		rec.Appeal = &ap
	}
	if ch, ok := health.CaseRatingChange(c, in.From); ok {
		caseID := c.ID
		rec.Ledger = []store.LedgerEntry{{SellerID: c.SellerID, Key: ch.Key, At: in.At, Delta: ch.Delta, Cause: ch.Cause, CaseID: &caseID}}
	}
	if in.From != "" {
		f := string(in.From)
		rec.Event.FromState = &f
	}
	data := a.mailData(c, seller, ev, in)
	var keys []string
	for _, m := range in.Mail {
		to := []string{seller.Email}
		if m.To == flow.ToReviewers {
			if to, err = a.Store.ReviewerEmails(ctx); err != nil {
				return nil, err
			}
			if len(to) == 0 {
				continue // nobody to tell: no mail is queued, and no key is given to deliver
			}
		}
		r, err := templates.Render(m.Template, data)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", err)
		}
		toJSON, err := json.Marshal(to)
		if err != nil {
			return nil, err
		}
		caseID, key := c.ID, fmt.Sprintf("%s/%d/%s", c.ID, in.Seq, m.Template)
		rec.Mail = append(rec.Mail, store.OutboxMail{
			Key: key, CaseID: &caseID, Template: m.Template,
			Recipients: string(toJSON), Subject: r.Subject, TextBody: r.Text, HTMLBody: r.HTML, CreatedAt: in.At,
		})
		keys = append(keys, key)
	}
	killpoint.Hit(killpoint.RecordBeforeCommit)
	if err := a.Store.RecordCase(ctx, rec); err != nil {
		return nil, err
	}
	killpoint.Hit(killpoint.RecordAfterCommit)
	return keys, nil
}

// permanent marks an error retrying cannot fix (the database refused the data, or
// what it refers to does not exist) as non-retryable, so a case never retries it
// for ever; anything else (the database away) is retried.
func permanent(err error) error {
	if err != nil && store.Permanent(err) {
		return temporal.NewNonRetryableApplicationError(err.Error(), flow.ErrPermanent, err)
	}
	return err
}

// evidenceRow and appealRow map the workflow's payloads to the store's rows.
func evidenceRow(e flow.Evidence) store.Evidence {
	if e.OrderIDs == nil { // a metric back on target has none behind it: an empty list, as the API promises
		e.OrderIDs = []string{}
	}
	return store.Evidence{Numerator: e.Numerator, Denominator: e.Denominator, Value: e.Value, Target: e.Target,
		WindowDays: e.WindowDays, WindowStart: e.WindowStart, WindowEnd: e.WindowEnd, OrderIDs: e.OrderIDs,
		MessageIDs: e.MessageIDs, Note: e.Note}
}

func appealRow(a flow.Appeal) store.AppealRow {
	return store.AppealRow{ID: a.ID, CaseID: a.CaseID, SellerID: a.SellerID, Status: a.Status, RootCause: a.RootCause,
		CorrectiveActions: a.CorrectiveActions, PreventiveMeasures: a.PreventiveMeasures, SubmittedAt: a.SubmittedAt,
		DecidedAt: a.DecidedAt, DecidedBy: a.DecidedBy, ReasonCode: a.ReasonCode, Message: a.Message, ReviewDue: a.ReviewDue}
}

func (a *Cases) mailData(c health.Case, seller store.Seller, ev store.Evidence, in flow.RecordInput) templates.MailData {
	def := health.Define(c.Metric)
	ids := ev.OrderIDs
	if len(ev.MessageIDs) > 0 {
		ids = ev.MessageIDs
	}
	const shown = 20
	more := 0
	if len(ids) > shown {
		ids, more = ids[:shown], len(ids)-shown
	}
	enforcement := c.Enforcement
	if enforcement == health.NoEnforcement {
		enforcement = health.EnforcementFor(c.Action) // what a warning leads to
	}
	if c.State == health.Withdrawn {
		enforcement = c.Lifted // what the withdrawal lifted (none for a warning)
	}
	d := templates.MailData{
		CaseID: c.ID, CaseURL: a.PublicURL + "/cases/" + c.ID, AppealURL: a.PublicURL + "/v1/cases/" + c.ID + "/appeals",
		SellerID: seller.ID, SellerName: seller.Name, Kind: string(c.Kind), State: string(c.State), Enforcement: string(enforcement),
		// A confirmed suspension was decided by the reviewer who confirmed it.
		Automated: c.Kind == health.MetricBreach && in.Type != "confirmed", Deadline: c.Deadline,
		Metric: string(c.Metric), MetricTitle: def.Title, Rule: def.Numerator + ", of " + def.Denominator,
		Numerator: ev.Numerator, Denominator: ev.Denominator, Value: ev.Value, TargetOp: string(ev.Target.Op), TargetValue: ev.Target.Value,
		WindowDays: ev.WindowDays, WindowStart: ev.WindowStart, WindowEnd: ev.WindowEnd, EvidenceIDs: ids, MoreEvidence: more,
		Recommendations: def.Recommendations, ListingID: c.ListingID, Violation: c.Violation, Note: ev.Note,
		AppealsUsed: c.AppealsUsed, AppealsLeft: max(0, c.Policy.MaxAppeals-c.AppealsUsed), Message: in.Message, Reviewer: in.Reviewer,
	}
	if in.ReasonCode != "" {
		d.ReasonCode, d.ReasonText = in.ReasonCode, health.ReasonCodes[in.ReasonCode]
	}
	if ap := in.Appeal; ap != nil {
		d.AppealID = ap.ID
		if ap.ReasonCode != nil {
			d.ReasonCode = *ap.ReasonCode
			d.ReasonText = health.ReasonCodes[*ap.ReasonCode]
		}
		if ap.Message != nil && d.Message == "" {
			d.Message = *ap.Message
		}
	}
	return d
}

// Deliver sends one queued mail, unless the SMTP server already accepted it.
func (a *Cases) Deliver(ctx context.Context, key string) error {
	m, err := a.Store.Mail(ctx, key)
	if err != nil {
		return err
	}
	if m.SentAt != nil {
		return nil
	}
	killpoint.Hit(killpoint.DeliverBeforeSend)
	err = a.Mailer.Send(ctx, mail.Message{Key: key, To: m.To(), Subject: m.Subject, Text: m.TextBody, HTML: m.HTMLBody,
		Headers: map[string]string{"X-Accounthealth-Key": key}})
	if err != nil {
		if why := a.givingUp(ctx, err); why != "" {
			// Never dropped: the mail ends failed, with its error, until a reviewer sends it again.
			failed, merr := a.Store.MarkMailUndeliverable(context.WithoutCancel(ctx), key, err)
			if merr != nil {
				return fmt.Errorf("deliver %s: %w (and marking it failed: %v)", key, err, merr)
			}
			if failed && a.MailFailed != nil {
				a.MailFailed()
			}
			activity.GetLogger(ctx).Error("mail not delivered; it is failed in the outbox until someone sends it again", "key", key, "why", why, "error", err)
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("deliver %s: %v", key, err), "MailRefused", err)
		}
		_ = a.Store.MarkMailFailed(ctx, key, err)
		return fmt.Errorf("deliver %s: %w", key, err)
	}
	killpoint.Hit(killpoint.DeliverAfterSend)
	// Accepted: from here a retry would send it twice, so a failure to record
	// that is retried here and never returned.
	for range 5 {
		if err = a.Store.MarkMailSent(context.WithoutCancel(ctx), key); err == nil {
			killpoint.Hit(killpoint.DeliverAfterMark)
			return nil
		}
		time.Sleep(time.Second)
	}
	activity.GetLogger(ctx).Error("mail sent but not marked sent", "key", key, "error", err)
	return nil
}

// givingUp says why a failed send is the last one of a mail, or "" to try again:
// the relay refused it for good (5xx, and retrying sends nothing), this is the last
// attempt the retry policy allows, or the mail has been tried for the policy's
// mail.give_up_after since its delivery was scheduled.
func (a *Cases) givingUp(ctx context.Context, err error) string {
	var smtpErr *textproto.Error
	if errors.As(err, &smtpErr) && smtpErr.Code >= 500 {
		return "refused by the relay"
	}
	if !activity.IsActivity(ctx) {
		return ""
	}
	info := activity.GetInfo(ctx)
	if rp := info.RetryPolicy; rp != nil && rp.MaximumAttempts > 0 && info.Attempt >= rp.MaximumAttempts {
		return "last attempt"
	}
	if g := a.Policy.Mail.GiveUpAfter; g > 0 && !info.ScheduledTime.IsZero() && time.Since(info.ScheduledTime) >= g {
		return "tried for " + g.String()
	}
	return ""
}

// DeliverAll sends queued mails one after another, for work that queues many at
// once (a quarter's tier changes, a sweep's invitations). A mail the relay
// refuses for good is left with its error and the rest go on; anything else
// fails the activity, and its retry skips what was already accepted.
func (a *Cases) DeliverAll(ctx context.Context, keys []string) error {
	for i, k := range keys {
		activity.RecordHeartbeat(ctx, i)
		err := a.Deliver(ctx, k)
		var appErr *temporal.ApplicationError
		if err != nil && !(errors.As(err, &appErr) && appErr.NonRetryable()) {
			return err
		}
	}
	return nil
}

// DeliverBatch sends what is left to send of a shard's batch of mail (see
// flow.ShardResult.MailBatch), as DeliverAll does; a retry finds only what the
// relay has not yet accepted.
func (a *Cases) DeliverBatch(ctx context.Context, batch string) error {
	keys, err := a.Store.BatchMail(ctx, batch)
	if err != nil {
		return err
	}
	return a.DeliverAll(ctx, keys)
}

// Recheck measures a case's metric now, for the end of its grace period.
func (a *Cases) Recheck(ctx context.Context, in flow.RecheckInput) (flow.Observation, error) {
	now := time.Now().UTC()
	p := a.Policy
	if in.Rule.WindowDays > 0 {
		p.Metrics = maps.Clone(p.Metrics)
		p.Metrics[in.Metric] = in.Rule
	}
	res, err := a.Store.ComputeMetrics(ctx, store.Shard{IDs: []string{in.SellerID}}, now, p)
	if err != nil {
		return flow.Observation{}, err
	}
	if len(res) != 1 {
		return flow.Observation{}, errors.New("recheck: seller " + in.SellerID + " not found")
	}
	r, ok := store.MetricResultOf(res[0], in.Metric)
	if !ok {
		return flow.Observation{}, fmt.Errorf("recheck: no metric %s", in.Metric)
	}
	return flow.Observation{At: now, Status: r.Status, Evidence: EvidenceOf(r)}, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
