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

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// Store is what the use cases read and write in the database.
type Store interface {
	Case(ctx context.Context, id string) (store.CaseRow, error)
	Cases(ctx context.Context, f store.CaseFilter) ([]store.CaseRow, error)
	Timeline(ctx context.Context, caseID string) ([]store.CaseEvent, error)
	AppealsOfCase(ctx context.Context, caseID string) ([]store.AppealRow, error)
	Appeal(ctx context.Context, id string) (store.AppealRow, error)
	Appeals(ctx context.Context, status string, limit int) ([]store.AppealRow, error)
	ReviewQueue(ctx context.Context, f store.QueueFilter) ([]store.QueueItem, error)
	ClaimAppeal(ctx context.Context, appealID, reviewerID string) error
	Seller(ctx context.Context, id string) (store.Seller, error)
	Reviewer(ctx context.Context, id string) (store.Reviewer, error)
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
	Store  Store
	Flow   Flow
	Policy health.CasePolicy // the rules a policy case opens under
}

// View is a case as those who may see it see it.
type View struct {
	store.CaseRow
	Evidence  store.Evidence
	Reasons   health.Statement
	CanAppeal bool // the case takes a Plan of Action now
	Appeals   []store.AppealRow
	Timeline  []store.CaseEvent
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
	v.Timeline, err = s.Store.Timeline(ctx, row.ID)
	return v, err
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
	Limit    int
}

var caseStates = health.CaseStates

// List lists the cases the principal may see, newest first; a seller sees only
// their own.
func (s *Service) List(ctx context.Context, p app.Principal, f Filter) ([]View, error) {
	if f.State != "" && !validState(f.State) {
		return nil, app.Invalid("unknown state", map[string]string{"state": fmt.Sprintf("must be one of %v", caseStates)})
	}
	if p.Role == store.RoleSeller {
		if f.SellerID != "" && f.SellerID != p.SellerID {
			return nil, app.NotFound("seller")
		}
		f.SellerID = p.SellerID
	}
	rows, err := s.Store.Cases(ctx, store.CaseFilter{SellerID: f.SellerID, State: f.State, Limit: f.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(rows))
	for _, r := range rows {
		v, err := s.view(ctx, r, false)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func validState(s string) bool {
	for _, st := range caseStates {
		if string(st) == s {
			return true
		}
	}
	return false
}
