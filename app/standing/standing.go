// Package standing holds the use cases of the rewarding side of account health:
// quarterly tier evaluations, a seller's tier with what the next one needs, and
// the invitation-only programs a seller is invited to, accepts or declines.
package standing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// Store is what the use cases read and write.
type Store interface {
	Seller(ctx context.Context, id string) (store.Seller, error)
	CreateTierEvaluation(ctx context.Context, id, quarter, trigger string) (store.TierEvaluation, error)
	FinishTierEvaluation(ctx context.Context, id, failure string) error
	TierEvaluation(ctx context.Context, id string) (store.TierEvaluation, error)
	SellerTiers(ctx context.Context, sellerID string) ([]store.SellerTier, error)
	Programs(ctx context.Context, sellerIDs []string) (map[string]map[string]store.SellerProgram, error)
	AnswerProgram(ctx context.Context, sellerID, program string, accept bool, now time.Time) (store.SellerProgram, error)
	WindowCounts(ctx context.Context, sh store.Shard, from, to time.Time) ([]string, map[string]health.WindowCounts, error)
}

// Flow is what the use cases ask of the workflows.
type Flow interface {
	StartTierEvaluation(ctx context.Context, in flow.TierEvaluationInput) error
}

// Service runs the use cases.
type Service struct {
	Store  Store
	Flow   Flow
	Policy health.Policy
	Now    func() time.Time // nil: time.Now
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// StartTierEvaluation evaluates every seller's tier for a quarter that has ended.
func (s *Service) StartTierEvaluation(ctx context.Context, quarter string) (store.TierEvaluation, error) {
	q, err := health.ParseQuarter(quarter)
	if err != nil {
		return store.TierEvaluation{}, app.Invalid("not a quarter", map[string]string{"quarter": err.Error()})
	}
	if q.End().After(s.now()) {
		return store.TierEvaluation{}, app.Invalid("the quarter has not ended",
			map[string]string{"quarter": fmt.Sprintf("%s ends %s; only an ended quarter is evaluated", q, q.End().Format(time.RFC3339))})
	}
	id := uuid.NewString()
	e, err := s.Store.CreateTierEvaluation(ctx, id, q.String(), "api")
	if err != nil {
		return e, err
	}
	if err := s.Flow.StartTierEvaluation(ctx, flow.TierEvaluationInput{EvaluationID: id, Quarter: q.String()}); err != nil {
		if ferr := s.Store.FinishTierEvaluation(context.WithoutCancel(ctx), id, "could not start: "+err.Error()); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return e, fmt.Errorf("start tier evaluation %s: %w", id, err)
	}
	return e, nil
}

// TierEvaluation reads a tier evaluation's progress.
func (s *Service) TierEvaluation(ctx context.Context, id string) (store.TierEvaluation, error) {
	e, err := s.Store.TierEvaluation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return e, app.NotFound("tier evaluation")
	}
	return e, err
}

// Tier is a seller's tier: the latest quarter's, with its standing and benefits,
// and the tiers of every quarter evaluated.
type Tier struct {
	SellerID    string
	Standing    health.TierStanding
	Quarter     string // "" before any evaluation
	EvaluatedAt *time.Time
	Benefits    []string
	History     []store.SellerTier
}

func (s *Service) visible(ctx context.Context, p app.Principal, sellerID string) error {
	if !p.CanSeeSeller(sellerID) {
		return app.NotFound("seller")
	}
	if _, err := s.Store.Seller(ctx, sellerID); errors.Is(err, store.ErrNotFound) {
		return app.NotFound("seller")
	} else if err != nil {
		return err
	}
	return nil
}

// Tier reads a seller's tier. Before any evaluation a seller holds the starting
// tier, with nothing yet measured.
func (s *Service) Tier(ctx context.Context, p app.Principal, sellerID string) (Tier, error) {
	if err := s.visible(ctx, p, sellerID); err != nil {
		return Tier{}, err
	}
	hist, err := s.Store.SellerTiers(ctx, sellerID)
	if err != nil {
		return Tier{}, err
	}
	t := Tier{SellerID: sellerID, Standing: health.TierStanding{Tier: health.StartTier, Criteria: []health.Criterion{}}, History: hist}
	if len(hist) > 0 {
		latest := hist[0]
		if err := json.Unmarshal([]byte(latest.Standing), &t.Standing); err != nil {
			return t, fmt.Errorf("tier of %s: %w", sellerID, err)
		}
		t.Quarter, t.EvaluatedAt = latest.Quarter, &latest.EvaluatedAt
	}
	if l, _, ok := s.Policy.Tiers.Level(t.Standing.Tier); ok {
		t.Benefits = l.Benefits
	}
	if t.Benefits == nil {
		t.Benefits = []string{}
	}
	return t, nil
}

// Program is where a seller stands with a program: its status, and the criteria
// as they stand now.
type Program struct {
	Policy   health.ProgramPolicy
	Status   string
	Criteria []health.Criterion
	Row      store.SellerProgram // zero when never invited
}

// Programs lists every program of the policy as the seller stands with it.
func (s *Service) Programs(ctx context.Context, p app.Principal, sellerID string) ([]Program, error) {
	if err := s.visible(ctx, p, sellerID); err != nil {
		return nil, err
	}
	rows, err := s.Store.Programs(ctx, []string{sellerID})
	if err != nil {
		return nil, err
	}
	out := make([]Program, 0, len(s.Policy.Programs))
	for _, pp := range s.Policy.Programs {
		pr, err := s.program(ctx, sellerID, pp, rows[sellerID][pp.Name])
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, nil
}

func (s *Service) program(ctx context.Context, sellerID string, pp health.ProgramPolicy, row store.SellerProgram) (Program, error) {
	now := s.now()
	_, counts, err := s.Store.WindowCounts(ctx, store.Shard{IDs: []string{sellerID}}, now.Add(-pp.Window()), now)
	if err != nil {
		return Program{}, err
	}
	_, cs := pp.Judge(counts[sellerID])
	status := row.Status
	if status == "" {
		status = store.ProgramNotEligible
	}
	return Program{Policy: pp, Status: status, Criteria: cs, Row: row}, nil
}

// Answer takes a seller's acceptance (or refusal) of an invitation to a program.
func (s *Service) Answer(ctx context.Context, p app.Principal, sellerID, program string, accept bool) (Program, error) {
	if p.Role != store.RoleSeller || p.SellerID != sellerID {
		return Program{}, app.NotFound("seller")
	}
	var pp *health.ProgramPolicy
	for i := range s.Policy.Programs {
		if s.Policy.Programs[i].Name == program {
			pp = &s.Policy.Programs[i]
		}
	}
	if pp == nil {
		return Program{}, app.NotFound("program")
	}
	row, err := s.Store.AnswerProgram(ctx, sellerID, program, accept, s.now())
	if errors.Is(err, store.ErrConflict) {
		status := row.Status
		if status == "" {
			status = store.ProgramNotEligible
		}
		return Program{}, app.Conflict("only an invitation can be accepted or declined; the program %s is %s", program, status)
	}
	if err != nil {
		return Program{}, err
	}
	return s.program(ctx, sellerID, *pp, row)
}
