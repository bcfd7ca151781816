package cases

import (
	"context"
	"strings"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// Reason is a reviewer's reason for what they do to a case: a code and their words.
type Reason struct {
	ReasonCode string
	Message    string
}

// Withdraw lets a reviewer take back an open case: the case's workflow decides
// (a finished case refuses), lifts the enforcement, withdraws the appeal under
// review, gives the points back and mails the seller. It answers the case as it
// then stands.
func (s *Service) Withdraw(ctx context.Context, p app.Principal, caseID string, r Reason) (View, error) {
	row, err := s.visible(ctx, p, caseID)
	if err != nil {
		return View{}, err
	}
	r.Message = strings.TrimSpace(r.Message)
	if problems := health.ValidateWithdrawal(r.ReasonCode, r.Message); problems != nil {
		return View{}, app.Invalid("the withdrawal is incomplete", problems)
	}
	if !health.CaseState(row.State).Open() {
		return View{}, app.Conflict("the case is %s; only an open case can be withdrawn", row.State)
	}
	if health.CaseState(row.State) == health.PendingConfirmation { // the confirmation's claim holds for its withdrawal too
		if err := s.heldByAnother(ctx, p, row.ClaimedBy, row.ClaimedAt, "case "+row.ID); err != nil {
			return View{}, err
		}
	}
	reviewer, err := s.Store.Reviewer(ctx, p.ReviewerID)
	if err != nil {
		return View{}, err
	}
	_, err = s.Flow.Withdraw(ctx, row.WorkflowID, flow.WithdrawalRequest{CaseID: row.ID, ReviewerID: p.ReviewerID,
		ReviewerName: reviewer.Name, ReasonCode: r.ReasonCode, Message: r.Message})
	if err != nil {
		return View{}, caseError(err)
	}
	return s.Case(ctx, p, caseID)
}

// Confirm takes a reviewer's answer to a suspension waiting for confirmation:
// confirm (the suspension takes effect, the reviewer named) or withdraw (as
// Withdraw). The case's workflow decides whether it still waits.
func (s *Service) Confirm(ctx context.Context, p app.Principal, caseID string, d health.ConfirmDecision, r Reason) (View, error) {
	row, err := s.visible(ctx, p, caseID)
	if err != nil {
		return View{}, err
	}
	r.Message = strings.TrimSpace(r.Message)
	if problems := health.ValidateConfirmation(d, r.ReasonCode, r.Message); problems != nil {
		return View{}, app.Invalid("the confirmation is incomplete", problems)
	}
	if health.CaseState(row.State) != health.PendingConfirmation {
		return View{}, app.Conflict("the case is %s; no suspension is waiting for confirmation", row.State)
	}
	if err := s.heldByAnother(ctx, p, row.ClaimedBy, row.ClaimedAt, "case "+row.ID); err != nil {
		return View{}, err
	}
	reviewer, err := s.Store.Reviewer(ctx, p.ReviewerID)
	if err != nil {
		return View{}, err
	}
	_, err = s.Flow.Confirm(ctx, row.WorkflowID, flow.ConfirmationRequest{CaseID: row.ID, ReviewerID: p.ReviewerID,
		ReviewerName: reviewer.Name, Decision: d, ReasonCode: r.ReasonCode, Message: r.Message})
	if err != nil {
		return View{}, caseError(err)
	}
	return s.Case(ctx, p, caseID)
}
