package cases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// Reports is what the reports' use cases read and write.
type Reports interface {
	CreateReport(ctx context.Context, r store.Report) error
	Report(ctx context.Context, id string) (store.Report, error)
	Reports(ctx context.Context, status string, p store.Page) ([]store.Report, *store.Cursor, error)
	DecideReport(ctx context.Context, id, status, reviewerID, message string, caseID *string, at time.Time) (store.Report, error)
}

// NewReport is a buyer's report the marketplace forwards.
type NewReport struct {
	SellerID, ListingID, Category, Description string
}

// Report stores a buyer's report, open for a reviewer to triage.
func (s *Service) Report(ctx context.Context, req NewReport) (store.Report, error) {
	f := map[string]string{}
	if _, err := s.Store.Seller(ctx, req.SellerID); errors.Is(err, store.ErrNotFound) {
		f["seller_id"] = "no such seller"
	} else if err != nil {
		return store.Report{}, err
	}
	if req.ListingID != "" && !health.ValidID(req.ListingID) {
		f["listing_id"] = health.IDRule
	}
	if !health.ValidCode(req.Category) {
		f["category"] = "must be lower_snake_case, e.g. counterfeit"
	}
	desc := strings.TrimSpace(req.Description)
	if n := health.Length(desc); n < 1 || n > health.POAMax {
		f["description"] = fmt.Sprintf("must say what the buyer reports, 1 to %d characters", health.POAMax)
	}
	if len(f) > 0 {
		return store.Report{}, app.Invalid("the report is not valid", f)
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return store.Report{}, err
	}
	r := store.Report{ID: "rep_" + hex.EncodeToString(b), SellerID: req.SellerID, Category: req.Category, Description: desc,
		Status: store.ReportOpen, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if req.ListingID != "" {
		r.ListingID = &req.ListingID
	}
	return r, s.Reports.CreateReport(ctx, r)
}

// ListReports lists a page of reports with a status ("" for all), oldest first.
func (s *Service) ListReports(ctx context.Context, status string, p store.Page) ([]store.Report, *store.Cursor, error) {
	switch status {
	case "", store.ReportOpen, store.ReportDismissed, store.ReportCaseOpened:
	default:
		return nil, nil, app.Invalid("unknown status", map[string]string{"status": fmt.Sprintf("%q must be open, dismissed or case_opened", status)})
	}
	return s.Reports.Reports(ctx, status, p)
}

// ReportDecision is a reviewer's decision on a report.
type ReportDecision struct {
	Decision  string // dismiss | open_case
	Violation string // open_case: the policy violated
	ListingID string // open_case: the listing, when the report names none
	Message   string // dismiss: why; open_case: what was found (the case's statement of reasons)
}

// DecideReport dismisses a report, or opens the policy case it shows (through
// OpenPolicyCase, the path of a case a reviewer opens) and links it. A decided
// report is a conflict.
func (s *Service) DecideReport(ctx context.Context, p app.Principal, id string, d ReportDecision) (store.Report, *View, error) {
	r, err := s.Reports.Report(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return r, nil, app.NotFound("report")
	} else if err != nil {
		return r, nil, err
	}
	if r.Status != store.ReportOpen {
		return r, nil, app.Conflict("report %s is %s already", id, r.Status)
	}
	msg := strings.TrimSpace(d.Message)
	var v *View
	switch d.Decision {
	case "dismiss":
		if health.Length(msg) < 1 || health.Length(msg) > health.POAMax {
			return r, nil, app.Invalid("a dismissal says why", map[string]string{"message": fmt.Sprintf("must say why, 1 to %d characters", health.POAMax)})
		}
	case "open_case":
		listing := d.ListingID
		if listing == "" && r.ListingID != nil {
			listing = *r.ListingID
		}
		view, err := s.OpenPolicyCase(ctx, p, PolicyCase{SellerID: r.SellerID, ListingID: listing, Violation: d.Violation, Note: msg})
		var ae *app.Error
		if errors.As(err, &ae) && ae.Kind == app.KindInvalid {
			if m, ok := ae.Fields["note"]; ok { // the decision's message is the case's note
				delete(ae.Fields, "note")
				ae.Fields["message"] = m
			}
			return r, nil, ae
		}
		if err != nil {
			return r, nil, err
		}
		v = &view
	default:
		return r, nil, app.Invalid("unknown decision", map[string]string{"decision": "must be dismiss or open_case"})
	}
	status, caseID := store.ReportDismissed, (*string)(nil)
	if v != nil {
		status, caseID = store.ReportCaseOpened, &v.ID
	}
	r, err = s.Reports.DecideReport(ctx, id, status, p.ReviewerID, msg, caseID, time.Now().UTC())
	if errors.Is(err, store.ErrConflict) {
		return r, nil, app.Conflict("report %s was decided by another reviewer first", id)
	}
	return r, v, err
}
