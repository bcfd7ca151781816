// Package sellers holds the use cases of the people the system serves: sellers
// and reviewers provisioned by the marketplace, a seller's health (status, rating
// and metrics), and evaluations of sellers' metrics.
package sellers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// Store is what the use cases read and write in the database.
type Store interface {
	CreateSeller(ctx context.Context, sel store.Seller, keyHash string) (store.Seller, error)
	CreateReviewer(ctx context.Context, r store.Reviewer, keyHash string) (store.Reviewer, error)
	Seller(ctx context.Context, id string) (store.Seller, error)
	LatestHealth(ctx context.Context, sellerID string, p health.Policy) (store.Health, error)
	MetricTrend(ctx context.Context, sellerID string, n int) (map[health.MetricID][]store.TrendPoint, error)
	CreateEvaluation(ctx context.Context, id, trigger string, sellerIDs []string) (store.Evaluation, error)
	FinishEvaluation(ctx context.Context, id string, failure string) error
	Evaluation(ctx context.Context, id string) (store.Evaluation, error)
	ClaimIdempotencyKey(ctx context.Context, k store.IdempotencyKey) (store.IdempotencyKey, bool, error)
	CompleteIdempotencyKey(ctx context.Context, principal, key, body string) error
	ReleaseIdempotencyKey(ctx context.Context, principal, key string) error
	CaseTellCounts(ctx context.Context, evaluationID string) (store.TellCounts, error)
}

// Evaluations is what the use cases ask of the evaluation workflow.
type Evaluations interface {
	StartEvaluation(ctx context.Context, in flow.EvaluationInput) error
}

// Service runs the use cases.
type Service struct {
	Store       Store
	Roster      Roster
	Evaluations Evaluations
	Policy      health.Policy
}

// Person is a seller or reviewer to provision.
type Person struct {
	ID    string // a seller's id, chosen by the marketplace; reviewers get one made
	Name  string
	Email string
}

// check checks a person's fields; withID for sellers.
func (r *Person) check(withID bool) error {
	f := map[string]string{}
	r.Name, r.Email = strings.TrimSpace(r.Name), strings.TrimSpace(r.Email)
	if withID && !health.ValidID(r.ID) {
		f["id"] = health.IDRule
	}
	if !withID && r.ID != "" {
		f["id"] = "must not be given: a reviewer's id is chosen by the system"
	}
	if r.Name == "" || len(r.Name) > 200 {
		f["name"] = "is required, at most 200 characters"
	}
	if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email || len(r.Email) > 254 {
		f["email"] = "must be a plain email address such as seller@example.com"
	}
	if len(f) > 0 {
		return app.Invalid("some fields are not valid", f)
	}
	return nil
}

// CreateSeller provisions a seller with the hash of their first API key.
func (s *Service) CreateSeller(ctx context.Context, p Person, keyHash string) (store.Seller, error) {
	if err := p.check(true); err != nil {
		return store.Seller{}, err
	}
	sel, err := s.Store.CreateSeller(ctx, store.Seller{ID: p.ID, Name: p.Name, Email: p.Email}, keyHash)
	if errors.Is(err, store.ErrConflict) {
		return sel, app.Conflict("a seller with id %s already exists", p.ID)
	}
	return sel, err
}

// CreateReviewer provisions a reviewer with the hash of their API key.
func (s *Service) CreateReviewer(ctx context.Context, p Person, keyHash string) (store.Reviewer, error) {
	if err := p.check(false); err != nil {
		return store.Reviewer{}, err
	}
	r, err := s.Store.CreateReviewer(ctx, store.Reviewer{Name: p.Name, Email: p.Email}, keyHash)
	if errors.Is(err, store.ErrConflict) {
		return r, app.Conflict("a reviewer with the email %s already exists", p.Email)
	}
	return r, err
}

// Health is a seller's health: their status and rating from their cases and
// ledger, and their latest metrics.
type Health struct {
	SellerID    string
	Status      health.SellerStatus
	Score       int
	Band        health.Band
	Changes     []store.LedgerEntry // the latest changes of the score, newest first
	MetricsJSON json.RawMessage     // the stored document, sent as it is
	EvaluatedAt *time.Time
	OpenCases   int
	// ExpiredOrders counts the orders placed in the last health.ExpiredWindow
	// that expired unconfirmed (also in cancel_rate), as of EvaluatedAt.
	ExpiredOrders int64
}

// Metrics decodes the metrics, for the pages.
func (h Health) Metrics() ([]store.MetricDoc, error) {
	var out []store.MetricDoc
	if err := json.Unmarshal(h.MetricsJSON, &out); err != nil {
		return nil, fmt.Errorf("health of %s: %w", h.SellerID, err)
	}
	return out, nil
}

// Health reads a seller's health, for the seller themself, reviewers and the admin.
func (s *Service) Health(ctx context.Context, p app.Principal, sellerID string) (Health, error) {
	if !p.CanSeeSeller(sellerID) {
		return Health{}, app.NotFound("seller")
	}
	h, err := s.Store.LatestHealth(ctx, sellerID, s.Policy)
	if errors.Is(err, store.ErrNotFound) {
		return Health{}, app.NotFound("seller")
	}
	if err != nil {
		return Health{}, err
	}
	score := health.Score(h.DefectFreeShipped, health.Penalties(h.Cases, time.Now().Add(-health.RatingLookback)))
	out := Health{SellerID: sellerID, Status: health.StatusOf(h.Cases), Score: score, Band: health.BandOf(score),
		Changes: h.Ledger, MetricsJSON: h.MetricsJSON, EvaluatedAt: h.EvaluatedAt, ExpiredOrders: h.ExpiredOrders}
	for _, c := range h.Cases {
		if c.State.Open() {
			out.OpenCases++
		}
	}
	return out, nil
}

// Trend reads a seller's last n values of each metric, oldest first.
func (s *Service) Trend(ctx context.Context, p app.Principal, sellerID string, n int) (map[health.MetricID][]store.TrendPoint, error) {
	if !p.CanSeeSeller(sellerID) {
		return nil, app.NotFound("seller")
	}
	return s.Store.MetricTrend(ctx, sellerID, n)
}

// Seller reads a seller the principal may see.
func (s *Service) Seller(ctx context.Context, p app.Principal, id string) (store.Seller, error) {
	if !p.CanSeeSeller(id) {
		return store.Seller{}, app.NotFound("seller")
	}
	sel, err := s.Store.Seller(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return sel, app.NotFound("seller")
	}
	return sel, err
}

// MaxIdempotencyKey bounds an Idempotency-Key.
const MaxIdempotencyKey = 200

// evaluationScope names what an Idempotency-Key on an evaluation was used for.
const evaluationScope = "evaluation"

// StartEvaluation starts an evaluation of the given sellers (nil: every seller)
// and answers its id; the evaluation runs on. With an idempotency key (of who,
// the principal), the key is claimed first: a retry of the same request answers
// the first one's evaluation without starting another, a request with the key
// still in flight is told to retry, and the key used for other sellers is refused.
func (s *Service) StartEvaluation(ctx context.Context, who, key string, sellerIDs []string) (store.Evaluation, error) {
	if err := s.checkSellers(ctx, sellerIDs); err != nil {
		return store.Evaluation{}, err
	}
	if key == "" {
		return s.startEvaluation(ctx, sellerIDs)
	}
	if len(key) > MaxIdempotencyKey {
		return store.Evaluation{}, app.Invalid("the Idempotency-Key is too long",
			map[string]string{"Idempotency-Key": fmt.Sprintf("at most %d characters", MaxIdempotencyKey)})
	}
	digest := sellersDigest(sellerIDs)
	prev, claimed, err := s.Store.ClaimIdempotencyKey(ctx, store.IdempotencyKey{Principal: who, Key: key, Scope: evaluationScope, RequestHash: digest})
	if err != nil {
		return store.Evaluation{}, err
	}
	if !claimed {
		switch {
		case prev.Scope != evaluationScope || prev.RequestHash != digest:
			return store.Evaluation{}, app.Conflict("this Idempotency-Key was used for another request; use a new key for every new request")
		case prev.State != store.KeyDone:
			return store.Evaluation{}, app.Conflict("a request with this Idempotency-Key is still being answered; ask again in a moment")
		}
		return s.Store.Evaluation(ctx, prev.Body)
	}
	e, err := s.startEvaluation(ctx, sellerIDs)
	if err != nil {
		if rerr := s.Store.ReleaseIdempotencyKey(context.WithoutCancel(ctx), who, key); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return e, err
	}
	return e, s.Store.CompleteIdempotencyKey(ctx, who, key, e.ID)
}

// checkSellers refuses an empty list and names the unknown sellers of a list.
func (s *Service) checkSellers(ctx context.Context, sellerIDs []string) error {
	if sellerIDs == nil {
		return nil
	}
	if len(sellerIDs) == 0 {
		return app.Invalid("name at least one seller, or leave seller_ids out to evaluate all",
			map[string]string{"seller_ids": "must not be empty"})
	}
	fields := map[string]string{}
	for i, id := range sellerIDs {
		if _, err := s.Store.Seller(ctx, id); errors.Is(err, store.ErrNotFound) {
			fields[fmt.Sprintf("seller_ids[%d]", i)] = fmt.Sprintf("no seller %q", id)
		} else if err != nil {
			return err
		}
	}
	if len(fields) > 0 {
		return app.Invalid("unknown sellers", fields)
	}
	return nil
}

func (s *Service) startEvaluation(ctx context.Context, sellerIDs []string) (store.Evaluation, error) {
	id := uuid.NewString()
	e, err := s.Store.CreateEvaluation(ctx, id, "api", sellerIDs)
	if err != nil {
		return e, err
	}
	if err := s.Evaluations.StartEvaluation(ctx, flow.EvaluationInput{EvaluationID: id, SellerIDs: sellerIDs}); err != nil {
		if ferr := s.Store.FinishEvaluation(context.WithoutCancel(ctx), id, "could not start: "+err.Error()); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return e, fmt.Errorf("start evaluation %s: %w", id, err)
	}
	return e, nil
}

// sellersDigest identifies a request's sellers (nil: all), to tell a retry from another request.
func sellersDigest(ids []string) string {
	if ids == nil {
		return "all"
	}
	h := sha256.New()
	for _, id := range ids {
		fmt.Fprintf(h, "%d:%s\n", len(id), id)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Evaluation reads an evaluation's progress.
func (s *Service) Evaluation(ctx context.Context, id string) (store.Evaluation, error) {
	e, err := s.Store.Evaluation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return e, app.NotFound("evaluation")
	}
	if err != nil {
		return e, err
	}
	n, err := s.Store.CaseTellCounts(ctx, id)
	e.Cases = &n
	return e, err
}
