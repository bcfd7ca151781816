package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

var (
	idPattern         = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	reasonCodePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,63}$`)
)

type personRequest struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// validate checks a person's fields; withID for sellers, whose id the marketplace chooses.
func (r *personRequest) validate(withID bool) error {
	f := map[string]string{}
	r.Name, r.Email = strings.TrimSpace(r.Name), strings.TrimSpace(r.Email)
	if withID && !idPattern.MatchString(r.ID) {
		f["id"] = "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
	}
	if r.Name == "" || len(r.Name) > 200 {
		f["name"] = "is required, at most 200 characters"
	}
	if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email || len(r.Email) > 254 {
		f["email"] = "must be a plain email address such as seller@example.com"
	}
	if len(f) > 0 {
		return invalid("some fields are not valid", f)
	}
	return nil
}

func (s *Server) createSeller(c echo.Context) error {
	var req personRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := req.validate(true); err != nil {
		return err
	}
	key := NewKey("ahs")
	sel, err := s.store.CreateSeller(c.Request().Context(), store.Seller{ID: req.ID, Name: req.Name, Email: req.Email}, HashKey(key))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"seller": sel, "api_key": key})
}

func (s *Server) createReviewer(c echo.Context) error {
	var req personRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.ID != "" {
		return invalid("a reviewer's id is chosen by the system", map[string]string{"id": "must not be given"})
	}
	if err := req.validate(false); err != nil {
		return err
	}
	key := NewKey("ahr")
	r, err := s.store.CreateReviewer(c.Request().Context(), store.Reviewer{Name: req.Name, Email: req.Email}, HashKey(key))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"reviewer": r, "api_key": key})
}

// metricJSON is METRIC of the contract, with the window's bounds and title added.
type metricJSON = store.MetricDoc

type healthJSON struct {
	SellerID    string              `json:"seller_id"`
	Status      health.SellerStatus `json:"status"`
	Rating      ratingJSON          `json:"rating"`
	Metrics     json.RawMessage     `json:"metrics"` // the stored document as it is: []metricJSON
	EvaluatedAt *time.Time          `json:"evaluated_at"`
	openCases   int
}

type ratingJSON struct {
	Score   int          `json:"score"`
	Band    health.Band  `json:"band"`
	Changes []ledgerJSON `json:"changes"` // the latest changes of the score, newest first, with their causes
}

type ledgerJSON struct {
	At     time.Time `json:"at"`
	Delta  int       `json:"delta"`
	Cause  string    `json:"cause"`
	CaseID *string   `json:"case_id,omitempty"`
}

// metrics decodes the metrics of a health, for the pages.
func (h healthJSON) metrics() ([]metricJSON, error) {
	var out []metricJSON
	if err := json.Unmarshal(h.Metrics, &out); err != nil {
		return nil, fmt.Errorf("health of %s: %w", h.SellerID, err)
	}
	return out, nil
}

func (s *Server) sellerHealth(c echo.Context) error {
	id := c.Param("id")
	if !canSeeSeller(principal(c), id) {
		return notFound("seller")
	}
	out, err := s.health(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// health assembles a seller's HEALTH: the API and the dashboard show the same.
func (s *Server) health(ctx context.Context, id string) (healthJSON, error) {
	h, err := s.store.LatestHealth(ctx, id, s.policy)
	if err != nil {
		return healthJSON{}, err
	}
	standing := h.Cases
	score := health.Score(h.DefectFreeShipped, health.Penalties(standing, time.Now().Add(-health.RatingLookback)))
	out := healthJSON{
		SellerID:    id,
		Status:      health.StatusOf(standing),
		Rating:      ratingJSON{Score: score, Band: health.BandOf(score), Changes: []ledgerJSON{}},
		Metrics:     h.MetricsJSON,
		EvaluatedAt: h.EvaluatedAt,
	}
	for _, l := range h.Ledger {
		out.Rating.Changes = append(out.Rating.Changes, ledgerJSON{At: l.At, Delta: l.Delta, Cause: l.Cause, CaseID: l.CaseID})
	}
	for _, c := range standing {
		if c.State.Open() {
			out.openCases++
		}
	}
	return out, nil
}
