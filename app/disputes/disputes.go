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
	"github.com/accounthealth/accounthealth/telemetry"
	"github.com/accounthealth/accounthealth/templates"
)

// Store is what the use cases read and write.
type Store interface {
	Order(ctx context.Context, id string) (health.Order, error)
	CreateDispute(ctx context.Context, d store.DisputeRow, mail []store.OutboxMail) error
	Dispute(ctx context.Context, id string) (store.DisputeRow, error)
	Disputes(ctx context.Context, f store.DisputeFilter) ([]store.DisputeRow, *store.Cursor, error)
	DecideDispute(ctx context.Context, id, status, reviewerID, message string, at time.Time, mail []store.OutboxMail) error
	Cases(ctx context.Context, f store.CaseFilter) ([]store.CaseRow, *store.Cursor, error)
	Seller(ctx context.Context, id string) (store.Seller, error)
	Reviewer(ctx context.Context, id string) (store.Reviewer, error)
	CaseClaimant(ctx context.Context, caseID string) (*store.Reviewer, error)
	ReviewerEmails(ctx context.Context) ([]string, error)
	app.CourierStore
}

// Service runs the use cases.
type Service struct {
	Store Store
	// The mail of a dispute is queued with it and sent at once by the courier
	// (retried by the mail workflow when the relay does not take it).
	Mailer     app.Mailer
	Deliveries app.Deliveries
	PublicURL  string
	Now        func() time.Time // nil: time.Now
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
	seller, err := s.Store.Seller(ctx, d.SellerID)
	if err != nil {
		return d, err
	}
	reviewers, err := s.reviewersFor(ctx, d)
	if err != nil {
		return d, err
	}
	data := s.mailData(d, seller)
	mail, err := s.mail(d, data, "received", templates.DisputeReceived, []string{seller.Email})
	if err != nil {
		return d, err
	}
	if len(reviewers) > 0 {
		m, err := s.mail(d, data, "waiting", templates.DisputeWaiting, reviewers)
		if err != nil {
			return d, err
		}
		mail = append(mail, m...)
	}
	err = s.Store.CreateDispute(ctx, d, mail)
	if errors.Is(err, store.ErrConflict) {
		msg := err.Error()
		if i := strings.Index(msg, "the "); i >= 0 {
			msg = strings.TrimSuffix(msg[i:], ": "+store.ErrConflict.Error())
		}
		return d, app.Conflict("%s; a defect is disputed once (a denied dispute is not reopened)", msg)
	}
	if err != nil {
		return d, err
	}
	s.send(ctx, mail)
	return d, nil
}

// reviewersFor is who is told that a dispute waits: the reviewer holding the
// case the order is evidence of, or every reviewer when none does (or there is
// no case), as with a message on a case.
func (s *Service) reviewersFor(ctx context.Context, d store.DisputeRow) ([]string, error) {
	if d.CaseID != nil {
		claimant, err := s.Store.CaseClaimant(ctx, *d.CaseID)
		if err != nil {
			return nil, err
		}
		if claimant != nil {
			return []string{claimant.Email}, nil
		}
	}
	return s.Store.ReviewerEmails(ctx)
}

// mailData is what every mail of dispute d shows.
func (s *Service) mailData(d store.DisputeRow, seller store.Seller) templates.MailData {
	data := templates.MailData{SellerID: seller.ID, SellerName: seller.Name, DashboardURL: s.PublicURL + "/",
		DisputeID: d.ID, DisputeURL: s.PublicURL + "/review/disputes/" + d.ID, OrderID: d.OrderID, DisputeReason: d.Reason,
		Message: d.Message}
	if d.CaseID != nil {
		data.CaseID, data.CaseURL = *d.CaseID, s.PublicURL+"/cases/"+*d.CaseID
	}
	seen := map[health.MetricID]bool{}
	for _, x := range d.Covers() {
		data.Defects = append(data.Defects, string(x))
		for _, m := range x.Metrics() {
			if !seen[m] {
				seen[m] = true
				data.DefectMetrics = append(data.DefectMetrics, string(m))
			}
		}
	}
	return data
}

// mail renders one mail of dispute d. Its key names the dispute and the step, so
// it is queued once and keeps one Message-ID through every retry.
func (s *Service) mail(d store.DisputeRow, data templates.MailData, step, name string, to []string) ([]store.OutboxMail, error) {
	r, err := templates.Render(name, data)
	if err != nil {
		return nil, err
	}
	toJSON, err := json.Marshal(to)
	if err != nil {
		return nil, err
	}
	return []store.OutboxMail{{Key: "dispute/" + d.ID + "/" + step, CaseID: d.CaseID, Template: name, Recipients: string(toJSON),
		Subject: r.Subject, TextBody: r.Text, HTMLBody: r.HTML, CreatedAt: s.now()}}, nil
}

// send delivers the mail just queued: at once, as people wait for it; the
// courier leaves to the mail workflow what the relay does not take.
func (s *Service) send(ctx context.Context, mail []store.OutboxMail) {
	if s.Mailer == nil {
		return // no relay configured: the mail waits in the outbox
	}
	for _, m := range mail {
		app.Courier{Store: s.Store, Mailer: s.Mailer, Deliveries: s.Deliveries, Log: telemetry.Logger(ctx, nil)}.Send(ctx, m, m.To())
	}
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
	seller, err := s.Store.Seller(ctx, d.SellerID)
	if err != nil {
		return d, err
	}
	reviewer, err := s.Store.Reviewer(ctx, p.ReviewerID)
	if err != nil {
		return d, err
	}
	data := s.mailData(d, seller)
	data.Decision, data.Reviewer, data.Message = decision, reviewer.Name, message
	mail, err := s.mail(d, data, "decided", templates.DisputeDecided, []string{seller.Email})
	if err != nil {
		return d, err
	}
	err = s.Store.DecideDispute(ctx, id, decision, p.ReviewerID, message, s.now(), mail)
	if errors.Is(err, store.ErrConflict) {
		cur, _ := s.Store.Dispute(ctx, id)
		return d, app.Conflict("dispute %s was already decided: %s", id, cur.Status)
	}
	if err != nil {
		return d, err
	}
	s.send(ctx, mail)
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
