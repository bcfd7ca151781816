// Package disputes holds the use cases of a seller's dispute of an order's
// defect: opening one, the reviewers' queue, and their decision. An upheld
// dispute removes the defect from every metric from the next evaluation on.
package disputes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// Store is what the use cases read and write.
type Store interface {
	Order(ctx context.Context, id string) (health.Order, error)
	CreateDispute(ctx context.Context, d store.DisputeRow) error
	Dispute(ctx context.Context, id string) (store.DisputeRow, error)
	Disputes(ctx context.Context, f store.DisputeFilter) ([]store.DisputeRow, *store.Cursor, error)
	DecideDispute(ctx context.Context, id, status, reviewerID, message string, at time.Time) error
	Cases(ctx context.Context, f store.CaseFilter) ([]store.CaseRow, *store.Cursor, error)
}

// Service runs the use cases.
type Service struct {
	Store Store
	Now   func() time.Time // nil: time.Now
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Request is a seller's dispute.
type Request struct {
	Defect  health.Defect // "": every defect the order has
	Reason  string
	Message string
}

// Open takes a seller's dispute of their own order's defect, within 90 days of
// the defect's event; one dispute per order and defect, ever.
func (s *Service) Open(ctx context.Context, p app.Principal, orderID string, r Request) (store.DisputeRow, error) {
	o, err := s.Store.Order(ctx, orderID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.CanSeeSeller(o.SellerID)) {
		return store.DisputeRow{}, app.NotFound("order")
	}
	if err != nil {
		return store.DisputeRow{}, err
	}
	r.Reason, r.Message = strings.TrimSpace(r.Reason), strings.TrimSpace(r.Message)
	if problems := health.ValidateDispute(r.Defect, r.Reason, r.Message); problems != nil {
		return store.DisputeRow{}, app.Invalid("the dispute is incomplete", problems)
	}
	now := s.now()
	covers, field, problem := health.DisputeProblem(o, r.Defect, now)
	if field != "" {
		return store.DisputeRow{}, app.Invalid("this dispute cannot be taken", map[string]string{field: problem})
	}
	d := store.DisputeRow{ID: "D-" + strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:12]), OrderID: o.ID,
		SellerID: o.SellerID, Defects: health.DefectMask(covers), Status: store.DisputeOpen, Reason: r.Reason, Message: r.Message,
		CreatedAt: now}
	if r.Defect != "" {
		def := string(r.Defect)
		d.Defect = &def
	}
	if d.CaseID, err = s.caseOf(ctx, o); err != nil {
		return d, err
	}
	err = s.Store.CreateDispute(ctx, d)
	if errors.Is(err, store.ErrConflict) {
		msg := err.Error()
		if i := strings.Index(msg, "the "); i >= 0 {
			msg = strings.TrimSuffix(msg[i:], ": "+store.ErrConflict.Error())
		}
		return d, app.Conflict("%s; a defect is disputed once (a denied dispute is not reopened)", msg)
	}
	return d, err
}

// caseOf finds the case the order is evidence of, if any: an open one first, else
// the latest.
func (s *Service) caseOf(ctx context.Context, o health.Order) (*string, error) {
	rows, _, err := s.Store.Cases(ctx, store.CaseFilter{SellerID: o.SellerID, Page: store.Page{Limit: 200}})
	if err != nil {
		return nil, err
	}
	var found *string
	for _, r := range rows { // newest first
		var ev store.Evidence
		if json.Unmarshal([]byte(r.Evidence), &ev) != nil {
			continue
		}
		for _, id := range ev.OrderIDs {
			if id != o.ID {
				continue
			}
			if health.CaseState(r.State).Open() {
				return &r.ID, nil
			}
			if found == nil {
				found = &r.ID
			}
		}
	}
	return found, nil
}

var statuses = []string{store.DisputeOpen, store.DisputeUpheld, store.DisputeDenied}

// List lists disputes with a status (all when empty), oldest first; a seller
// sees only their own.
func (s *Service) List(ctx context.Context, p app.Principal, status string, page store.Page) ([]store.DisputeRow, *store.Cursor, error) {
	if status != "" && !contains(statuses, status) {
		return nil, nil, app.Invalid("unknown status", map[string]string{"status": "must be one of " + strings.Join(statuses, ", ")})
	}
	f := store.DisputeFilter{Status: status, Page: page}
	if p.Role == store.RoleSeller {
		f.SellerID = p.SellerID
	}
	return s.Store.Disputes(ctx, f)
}

// Get reads one dispute the principal may see.
func (s *Service) Get(ctx context.Context, p app.Principal, id string) (store.DisputeRow, error) {
	d, err := s.Store.Dispute(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.CanSeeSeller(d.SellerID)) {
		return d, app.NotFound("dispute")
	}
	return d, err
}

// Decide records a reviewer's decision: upheld (the defects leave every metric
// from the next evaluation on) or denied, with a message to the seller.
func (s *Service) Decide(ctx context.Context, p app.Principal, id, decision, message string) (store.DisputeRow, error) {
	d, err := s.Get(ctx, p, id)
	if err != nil {
		return d, err
	}
	message = strings.TrimSpace(message)
	problems := map[string]string{}
	if decision != store.DisputeUpheld && decision != store.DisputeDenied {
		problems["decision"] = "must be upheld or denied"
	}
	switch n := health.Length(message); {
	case n == 0:
		problems["message"] = "is required: tell the seller why, in your own words"
	case n > health.POAMax:
		problems["message"] = fmt.Sprintf("is too long; at most %d characters", health.POAMax)
	}
	if len(problems) > 0 {
		return d, app.Invalid("the decision is incomplete", problems)
	}
	err = s.Store.DecideDispute(ctx, id, decision, p.ReviewerID, message, s.now())
	if errors.Is(err, store.ErrConflict) {
		return d, app.Conflict("dispute %s was already decided: %s", id, d.Status)
	}
	if err != nil {
		return d, err
	}
	return s.Store.Dispute(ctx, id)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
