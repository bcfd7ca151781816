package cases

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// PolicyCase is a reviewer's report of a policy violation on one listing.
type PolicyCase struct {
	SellerID  string
	ListingID string
	Violation string
	Note      string // what was found: the statement of reasons
}

// OpenPolicyCase opens a policy-violation case: the listing is deactivated at
// once, with the reviewer's note as the statement of reasons. It answers once the
// opening is recorded; an open case for the same listing and violation refuses it.
func (s *Service) OpenPolicyCase(ctx context.Context, p app.Principal, req PolicyCase) (View, error) {
	f := map[string]string{}
	if _, err := s.Store.Seller(ctx, req.SellerID); errors.Is(err, store.ErrNotFound) {
		f["seller_id"] = "no such seller"
	} else if err != nil {
		return View{}, err
	}
	if !health.ValidID(req.ListingID) {
		f["listing_id"] = health.IDRule
	}
	if !health.ValidCode(req.Violation) {
		f["violation"] = "must be lower_snake_case, e.g. ip_complaint"
	}
	note := strings.TrimSpace(req.Note)
	if n := health.Length(note); n < health.POAMin || n > health.POAMax {
		f["note"] = fmt.Sprintf("must say what was found, %d to %d characters", health.POAMin, health.POAMax)
	}
	if len(f) > 0 {
		return View{}, app.Invalid("some fields are not valid", f)
	}
	c, err := s.Flow.OpenPolicyCase(ctx, flow.CaseInput{SellerID: req.SellerID, Kind: health.PolicyViolation,
		ListingID: req.ListingID, Violation: req.Violation, Note: note, Policy: s.Policy, OpenedBy: p.ReviewerID})
	if err != nil {
		return View{}, caseError(err)
	}
	row, err := s.Store.Case(ctx, c.ID)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, row, true)
}
