package cases

import (
	"context"
	"errors"
	"time"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// A claim gives an appeal (or a suspension waiting for confirmation) to one
// reviewer: only they decide it while the claim holds. It lapses after the
// policy's cases.claim_ttl, and an admin may give it to another reviewer.

// claimExpiredBefore is the instant before which a claim has lapsed (zero: claims never lapse).
func (s *Service) claimExpiredBefore() time.Time {
	if s.Policy.ClaimTTL <= 0 {
		return time.Time{}
	}
	return time.Now().Add(-s.Policy.ClaimTTL)
}

// heldByAnother refuses a decision while another reviewer's claim on it holds,
// naming who holds it.
func (s *Service) heldByAnother(ctx context.Context, p app.Principal, by *string, at *time.Time, what string) error {
	if by == nil || *by == p.ReviewerID || at == nil {
		return nil
	}
	if s.Policy.ClaimTTL > 0 && !at.After(s.claimExpiredBefore()) {
		return nil // lapsed
	}
	name := *by
	if r, err := s.Store.Reviewer(ctx, *by); err == nil {
		name = r.Name + " (" + r.ID + ")"
	}
	until := "an admin reassigns it"
	if s.Policy.ClaimTTL > 0 {
		until = at.Add(s.Policy.ClaimTTL).UTC().Format(time.RFC3339) + " or until an admin reassigns it"
	}
	return app.Conflict("%s is claimed by %s: only they can decide it, until %s", what, name, until)
}

// Claim gives an undecided appeal to the reviewer asking; another reviewer's
// claim stands until it lapses.
func (s *Service) Claim(ctx context.Context, p app.Principal, appealID string) error {
	err := s.Store.ClaimAppeal(ctx, appealID, p.ReviewerID, s.claimExpiredBefore())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return app.NotFound("appeal")
	case errors.Is(err, store.ErrConflict):
		ap, aerr := s.Store.Appeal(ctx, appealID)
		if aerr != nil {
			return aerr
		}
		if err := s.heldByAnother(ctx, p, ap.ClaimedBy, ap.ClaimedAt, "appeal "+appealID); err != nil {
			return err
		}
		return app.Conflict("another reviewer has just claimed appeal %s", appealID)
	}
	return err
}

// ClaimConfirmation gives a suspension waiting for confirmation to the reviewer asking.
func (s *Service) ClaimConfirmation(ctx context.Context, p app.Principal, caseID string) (View, error) {
	row, err := s.visible(ctx, p, caseID)
	if err != nil {
		return View{}, err
	}
	if health.CaseState(row.State) != health.PendingConfirmation {
		return View{}, app.Conflict("the case is %s; only a suspension waiting for confirmation is claimed (appeals are claimed on their own)", row.State)
	}
	err = s.Store.ClaimCase(ctx, caseID, p.ReviewerID, s.claimExpiredBefore())
	if errors.Is(err, store.ErrConflict) {
		if err := s.heldByAnother(ctx, p, row.ClaimedBy, row.ClaimedAt, "case "+caseID); err != nil {
			return View{}, err
		}
		return View{}, app.Conflict("another reviewer has just claimed case %s", caseID)
	}
	if err != nil {
		return View{}, err
	}
	return s.Case(ctx, p, caseID)
}

// Reassign is an admin giving an appeal's or a case's claim to a reviewer.
func (s *Service) Reassign(ctx context.Context, p app.Principal, kind, id, reviewerID string) error {
	if _, err := s.Store.Reviewer(ctx, reviewerID); errors.Is(err, store.ErrNotFound) {
		return app.Invalid("unknown reviewer", map[string]string{"reviewer_id": "no reviewer with this id"})
	} else if err != nil {
		return err
	}
	var err error
	if kind == "appeal" {
		err = s.Store.AssignAppeal(ctx, id, reviewerID)
	} else {
		err = s.Store.AssignCase(ctx, id, reviewerID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return app.NotFound(kind)
	}
	return err
}
