package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/textproto"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/accounthealth/accounthealth/activities/mail"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/templates"
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
}

// Observation is what an evaluation (or a re-check) saw of a case's metric.
type Observation struct {
	EvaluationID string
	At           time.Time
	Status       health.Status
	Evidence     store.Evidence
}

// Mail recipients.
const (
	ToSeller    = "seller"
	ToReviewers = "reviewers"
)

// MailSpec names a mail to queue with a transition.
type MailSpec struct {
	Template string
	To       string // ToSeller or ToReviewers
}

// RecordInput is one transition of a case, as the workflow decided it.
type RecordInput struct {
	Case       health.Case
	WorkflowID string
	RunID      string
	Seq        int
	At         time.Time
	Type       string
	Actor      string
	From       health.CaseState // "" when the case opens
	Detail     map[string]any
	Evidence   *store.Evidence // given when it changes (opening, enforcement)
	Appeal     *store.AppealRow
	Mail       []MailSpec
	Message    string // extra words for the mail (e.g. why a case became final)
	Reviewer   string // the reviewer's name, for decisions
}

// Record writes the transition, its timeline entry, the appeal, the rating ledger
// and the rendered mail in one transaction, and returns the keys of the mail to
// deliver. A retry after success changes nothing and returns the same keys.
func (a *Cases) Record(ctx context.Context, in RecordInput) ([]string, error) {
	c := in.Case
	seller, err := a.Store.Seller(ctx, c.SellerID)
	if err != nil {
		return nil, err
	}
	ev := in.Evidence
	if ev == nil {
		old, err := a.Store.Case(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("record %s on %s: %w", in.Type, c.ID, err)
		}
		var e store.Evidence
		if err := json.Unmarshal([]byte(old.Evidence), &e); err != nil {
			return nil, fmt.Errorf("evidence of %s: %w", c.ID, err)
		}
		ev = &e
	}
	evJSON, _ := json.Marshal(ev)
	detail, _ := json.Marshal(in.Detail)
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
		Case:   row,
		Event:  store.CaseEvent{CaseID: c.ID, Seq: in.Seq, At: in.At, Type: in.Type, Actor: in.Actor, ToState: string(c.State), Detail: string(detail)},
		Appeal: in.Appeal,
		Ledger: ledgerFor(in, c),
	}
	if in.From != "" {
		f := string(in.From)
		rec.Event.FromState = &f
	}
	data := a.mailData(c, seller, *ev, in)
	for _, m := range in.Mail {
		to := []string{seller.Email}
		if m.To == ToReviewers {
			if to, err = a.Store.ReviewerEmails(ctx); err != nil {
				return nil, err
			}
			if len(to) == 0 {
				continue // nobody to tell; the escalation stays on the timeline
			}
		}
		r, err := templates.Render(m.Template, data)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", err)
		}
		toJSON, _ := json.Marshal(to)
		caseID := c.ID
		rec.Mail = append(rec.Mail, store.OutboxMail{
			Key: fmt.Sprintf("%s/%d/%s", c.ID, in.Seq, m.Template), CaseID: &caseID, Template: m.Template,
			Recipients: string(toJSON), Subject: r.Subject, TextBody: r.Text, HTMLBody: r.HTML, CreatedAt: in.At,
		})
	}
	if err := a.Store.RecordCase(ctx, rec); err != nil {
		return nil, err
	}
	keys := make([]string, len(in.Mail))
	for i, m := range in.Mail {
		keys[i] = fmt.Sprintf("%s/%d/%s", c.ID, in.Seq, m.Template)
	}
	return keys, nil
}

// ledgerFor is the rating change a transition causes: a case takes a notice's
// points when it opens, the rest of its enforcement's when enforced, and gives
// all back on reinstatement.
func ledgerFor(in RecordInput, c health.Case) []store.LedgerEntry {
	caseID := c.ID
	entry := func(key string, delta int, cause string) []store.LedgerEntry {
		return []store.LedgerEntry{{SellerID: c.SellerID, Key: "case/" + c.ID + "/" + key, At: in.At, Delta: delta, Cause: cause, CaseID: &caseID}}
	}
	notice := health.Severity(health.NoEnforcement)
	what := string(c.Metric)
	if what == "" {
		what = c.Violation
	}
	switch {
	case in.From == "" && c.State == health.Enforced: // a policy case, enforced at once
		return entry("opened", -health.Severity(c.Enforcement), fmt.Sprintf("case %s opened: %s", c.ID, strings.ReplaceAll(string(c.Enforcement), "_", " ")))
	case in.From == "":
		return entry("opened", -notice, fmt.Sprintf("case %s opened: %s missed its target", c.ID, what))
	case in.From == health.Warned && c.State == health.Enforced:
		return entry("enforced", notice-health.Severity(c.Enforcement), fmt.Sprintf("case %s enforced: %s", c.ID, strings.ReplaceAll(string(c.Enforcement), "_", " ")))
	case c.State == health.Reinstated:
		return entry("reinstated", health.Severity(c.Enforcement), fmt.Sprintf("case %s: appeal approved, points given back", c.ID))
	}
	return nil
}

func (a *Cases) mailData(c health.Case, seller store.Seller, ev store.Evidence, in RecordInput) templates.MailData {
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
	d := templates.MailData{
		CaseID: c.ID, CaseURL: a.PublicURL + "/cases/" + c.ID, AppealURL: a.PublicURL + "/v1/cases/" + c.ID + "/appeals",
		SellerID: seller.ID, SellerName: seller.Name, Kind: string(c.Kind), State: string(c.State), Enforcement: string(enforcement),
		Automated: c.Kind == health.MetricBreach, Deadline: c.Deadline,
		Metric: string(c.Metric), MetricTitle: def.Title, Rule: def.Numerator + ", of " + def.Denominator,
		Numerator: ev.Numerator, Denominator: ev.Denominator, Value: ev.Value, TargetOp: string(ev.Target.Op), TargetValue: ev.Target.Value,
		WindowDays: ev.WindowDays, WindowStart: ev.WindowStart, WindowEnd: ev.WindowEnd, EvidenceIDs: ids, MoreEvidence: more,
		Recommendations: def.Recommendations, ListingID: c.ListingID, Violation: c.Violation, Note: ev.Note,
		AppealsUsed: c.AppealsUsed, AppealsLeft: max(0, c.Policy.MaxAppeals-c.AppealsUsed), Message: in.Message, Reviewer: in.Reviewer,
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
	err = a.Mailer.Send(ctx, mail.Message{To: m.To(), Subject: m.Subject, Text: m.TextBody, HTML: m.HTMLBody,
		Headers: map[string]string{"X-Accounthealth-Key": key}})
	if err != nil {
		_ = a.Store.MarkMailFailed(ctx, key, err)
		var smtpErr *textproto.Error
		if errors.As(err, &smtpErr) && smtpErr.Code >= 500 { // refused for good: retrying sends nothing
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("deliver %s: %v", key, err), "MailRefused", err)
		}
		return fmt.Errorf("deliver %s: %w", key, err)
	}
	// Accepted: from here a retry would send it twice, so a failure to record
	// that is retried here and never returned.
	for range 5 {
		if err = a.Store.MarkMailSent(context.WithoutCancel(ctx), key); err == nil {
			return nil
		}
		time.Sleep(time.Second)
	}
	activity.GetLogger(ctx).Error("mail sent but not marked sent", "key", key, "error", err)
	return nil
}

// RecheckInput names a case's metric.
type RecheckInput struct {
	SellerID string
	Metric   health.MetricID
	Rule     health.MetricPolicy // the rule the case opened under; zero: the worker's
}

// Recheck measures a case's metric now, for the end of its grace period.
func (a *Cases) Recheck(ctx context.Context, in RecheckInput) (Observation, error) {
	now := time.Now().UTC()
	p := a.Policy
	if in.Rule.WindowDays > 0 {
		p.Metrics = maps.Clone(p.Metrics)
		p.Metrics[in.Metric] = in.Rule
	}
	res, err := a.Store.ComputeMetrics(ctx, store.Shard{IDs: []string{in.SellerID}}, now, p)
	if err != nil {
		return Observation{}, err
	}
	if len(res) != 1 {
		return Observation{}, errors.New("recheck: seller " + in.SellerID + " not found")
	}
	r, ok := store.MetricResultOf(res[0], in.Metric)
	if !ok {
		return Observation{}, fmt.Errorf("recheck: no metric %s", in.Metric)
	}
	return Observation{At: now, Status: r.Status, Evidence: store.EvidenceOf(r)}, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
