// Package cases holds the use cases of cases and appeals: reading a case as its
// seller or a reviewer may see it, a seller's Plan of Action, a reviewer's
// decision and claim, and a policy case opened by a reviewer. The JSON API and
// the web pages both call them, so each rule is written once.
package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// Store is what the use cases read and write in the database.
type Store interface {
	Case(ctx context.Context, id string) (store.CaseRow, error)
	Cases(ctx context.Context, f store.CaseFilter) ([]store.CaseRow, *store.Cursor, error)
	Timeline(ctx context.Context, caseID string) ([]store.CaseEvent, error)
	AppealsOfCase(ctx context.Context, caseID string) ([]store.AppealRow, error)
	Appeal(ctx context.Context, id string) (store.AppealRow, error)
	Appeals(ctx context.Context, status string, p store.Page) ([]store.AppealRow, *store.Cursor, error)
	ReviewQueue(ctx context.Context, f store.QueueFilter) ([]store.QueueItem, error)
	ClaimAppeal(ctx context.Context, appealID, reviewerID string, expiredBefore time.Time) error
	ClaimCase(ctx context.Context, caseID, reviewerID string, expiredBefore time.Time) error
	AssignAppeal(ctx context.Context, appealID, reviewerID string) error
	AssignCase(ctx context.Context, caseID, reviewerID string) error
	Seller(ctx context.Context, id string) (store.Seller, error)
	Reviewer(ctx context.Context, id string) (store.Reviewer, error)
	Disputes(ctx context.Context, f store.DisputeFilter) ([]store.DisputeRow, *store.Cursor, error)
	ClaimIdempotencyKey(ctx context.Context, k store.IdempotencyKey) (store.IdempotencyKey, bool, error)
	CompleteIdempotencyKey(ctx context.Context, principal, key, body string) error
	ReleaseIdempotencyKey(ctx context.Context, principal, key string) error
}

// Flow is what the use cases ask of the case workflows.
type Flow interface {
	SubmitAppeal(ctx context.Context, workflowID, updateID string, req flow.AppealRequest) (flow.Appeal, error)
	Decide(ctx context.Context, workflowID, updateID string, req flow.DecisionRequest) (flow.Appeal, error)
	OpenPolicyCase(ctx context.Context, in flow.CaseInput) (health.Case, error)
	Withdraw(ctx context.Context, workflowID string, req flow.WithdrawalRequest) (health.Case, error)
	Confirm(ctx context.Context, workflowID string, req flow.ConfirmationRequest) (health.Case, error)
}

// Service runs the use cases.
type Service struct {
	Store       Store
	Reports     Reports
	Messages    MessageStore
	Attachments AttachmentStore
	Flow        Flow
	Mailer      Mailer
	Deliveries  app.Deliveries    // retries a message's mail the relay did not take at once
	PublicURL   string            // the base of links in mail
	Policy      health.CasePolicy // the rules a policy case opens under
}

// View is a case as those who may see it see it.
type View struct {
	store.CaseRow
	Files             []store.Attachment  // without their content
	AppealAttachments map[string][]string // by appeal
	Evidence          store.Evidence
	Reasons           health.Statement
	CanAppeal         bool // the case takes a Plan of Action now
	Appeals           []store.AppealRow
	Timeline          []store.CaseEvent
	Disputes          []store.DisputeRow // of the orders behind it, oldest first
}

// AppealsLeft is how many appeals the case still allows.
func (v View) AppealsLeft() int { return max(0, v.MaxAppeals-v.AppealsUsed) }

// visible reads a case the principal may see; anyone else is told it does not exist.
func (s *Service) visible(ctx context.Context, p app.Principal, id string) (store.CaseRow, error) {
	row, err := s.Store.Case(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.CanSeeSeller(row.SellerID)) {
		return row, app.NotFound("case")
	}
	return row, err
}

// view is the case as shown, with its appeals and timeline when full.
func (s *Service) view(ctx context.Context, row store.CaseRow, full bool) (View, error) {
	v := View{CaseRow: row, Appeals: []store.AppealRow{}, Timeline: []store.CaseEvent{}}
	if err := json.Unmarshal([]byte(row.Evidence), &v.Evidence); err != nil {
		return v, fmt.Errorf("evidence of %s: %w", row.ID, err)
	}
	c := row.Case()
	v.Reasons = health.StatementOf(c, v.Evidence.Target, v.Evidence.WindowDays)
	v.CanAppeal = c.CanAppeal() == nil
	if !full {
		return v, nil
	}
	var err error
	if v.Appeals, err = s.Store.AppealsOfCase(ctx, row.ID); err != nil {
		return v, err
	}
	if v.Timeline, err = s.Store.Timeline(ctx, row.ID); err != nil {
		return v, err
	}
	if v.Disputes, _, err = s.Store.Disputes(ctx, store.DisputeFilter{CaseID: row.ID}); err != nil {
		return v, err
	}
	var extra []store.CaseEvent
	for _, d := range v.Disputes {
		extra = append(extra, disputeEntries(d)...)
	}
	if s.Attachments != nil {
		if v.Files, err = s.Attachments.AttachmentsOfCase(ctx, row.ID); err != nil {
			return v, err
		}
		if v.AppealAttachments, err = s.Attachments.AppealAttachments(ctx, row.ID); err != nil {
			return v, err
		}
	}
	if s.Messages != nil {
		msgs, err := s.Messages.CaseMessages(ctx, row.ID)
		if err != nil {
			return v, err
		}
		for _, m := range msgs {
			extra = append(extra, entry(&m.CaseID, m.At, "message", m.Author, map[string]any{"message": m.Body, "message_id": m.ID,
				"author_name": m.AuthorName, "attachment_ids": m.Attachments()}))
		}
	}
	v.Timeline = merge(v.Timeline, extra)
	return v, nil
}

// disputeEntries are a dispute's entries on its case's timeline: opened, and
// its decision.
func disputeEntries(d store.DisputeRow) []store.CaseEvent {
	defects := make([]string, 0, len(d.Covers()))
	for _, x := range d.Covers() {
		defects = append(defects, string(x))
	}
	detail := map[string]any{"message": "the seller disputes the " + strings.Join(defects, ", ") + " of order " + d.OrderID,
		"dispute_id": d.ID, "order_id": d.OrderID, "defects": defects, "reason": d.Reason, "seller_message": d.Message}
	out := []store.CaseEvent{entry(d.CaseID, d.CreatedAt, "dispute_opened", "seller:"+d.SellerID, detail)}
	if d.DecidedAt != nil && d.DecidedBy != nil {
		what := "upheld: the order's " + strings.Join(defects, ", ") + " no longer counts from the next evaluation on"
		if d.Status == store.DisputeDenied {
			what = "denied: the " + strings.Join(defects, ", ") + " of order " + d.OrderID + " still counts"
		}
		dd := map[string]any{"message": "dispute " + what, "dispute_id": d.ID, "order_id": d.OrderID, "defects": defects}
		if d.DecisionMessage != nil {
			dd["reviewer_message"] = *d.DecisionMessage
		}
		out = append(out, entry(d.CaseID, *d.DecidedAt, "dispute_"+d.Status, "reviewer:"+*d.DecidedBy, dd))
	}
	return out
}

func entry(caseID *string, at time.Time, typ, actor string, detail map[string]any) store.CaseEvent {
	b, _ := json.Marshal(detail) // strings and lists of strings: always encodes
	id := ""
	if caseID != nil {
		id = *caseID
	}
	return store.CaseEvent{CaseID: id, At: at, Type: typ, Actor: actor, Detail: string(b)}
}

// merge puts entries kept beside the case (disputes, messages) into its timeline
// by time; each takes the state the case was in then, as it changes nothing.
func merge(timeline, extra []store.CaseEvent) []store.CaseEvent {
	if len(extra) == 0 {
		return timeline
	}
	out := append(append([]store.CaseEvent{}, timeline...), extra...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	state := ""
	for i := range out {
		if out[i].Seq > 0 {
			state = out[i].ToState
			continue
		}
		st := state
		out[i].FromState, out[i].ToState = &st, st
	}
	return out
}

// Case reads one case, with its appeals and timeline.
func (s *Service) Case(ctx context.Context, p app.Principal, id string) (View, error) {
	row, err := s.visible(ctx, p, id)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, row, true)
}

// Filter selects cases.
type Filter struct {
	SellerID string
	State    string
	Page     store.Page
}

var caseStates = health.CaseStates

// List lists a page of the cases the principal may see, newest first, and the
// cursor of the next page; a seller sees only their own.
func (s *Service) List(ctx context.Context, p app.Principal, f Filter) ([]View, *store.Cursor, error) {
	if f.State != "" && !validState(f.State) {
		return nil, nil, app.Invalid("unknown state", map[string]string{"state": fmt.Sprintf("must be one of %v", caseStates)})
	}
	if p.Role == store.RoleSeller {
		if f.SellerID != "" && f.SellerID != p.SellerID {
			return nil, nil, app.NotFound("seller")
		}
		f.SellerID = p.SellerID
	}
	rows, next, err := s.Store.Cases(ctx, store.CaseFilter{SellerID: f.SellerID, State: f.State, Page: f.Page})
	if err != nil {
		return nil, nil, err
	}
	out := make([]View, 0, len(rows))
	for _, r := range rows {
		v, err := s.view(ctx, r, false)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, v)
	}
	return out, next, nil
}

func validState(s string) bool {
	for _, st := range caseStates {
		if string(st) == s {
			return true
		}
	}
	return false
}
