package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/app/sellers"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

type personRequest struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

func (r personRequest) person() sellers.Person {
	return sellers.Person{ID: r.ID, Name: r.Name, Email: r.Email}
}

func (s *Server) createSeller(c echo.Context) error {
	var req personRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	key := NewKey("ahs")
	sel, err := s.sellers.CreateSeller(c.Request().Context(), req.person(), HashKey(key))
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
	key := NewKey("ahr")
	r, err := s.sellers.CreateReviewer(c.Request().Context(), req.person(), HashKey(key))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"reviewer": r, "api_key": key})
}

// metricJSON is the Metric schema of api/openapi.yaml.
type metricJSON = store.MetricDoc

// healthJSON is the Health schema of api/openapi.yaml.
type healthJSON struct {
	SellerID    string              `json:"seller_id"`
	Status      health.SellerStatus `json:"status"`
	Rating      ratingJSON          `json:"rating"`
	Metrics     json.RawMessage     `json:"metrics"` // the stored document as it is: []metricJSON
	EvaluatedAt *time.Time          `json:"evaluated_at"`
	// Orders of the last 30 days the marketplace cancelled because the seller
	// never confirmed them; cancel_rate counts them too.
	ExpiredOrders int64 `json:"expired_orders"`
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

func ledgerOf(entries []store.LedgerEntry) []ledgerJSON {
	out := make([]ledgerJSON, len(entries))
	for i, l := range entries {
		out[i] = ledgerJSON{At: l.At, Delta: l.Delta, Cause: l.Cause, CaseID: l.CaseID}
	}
	return out
}

func (s *Server) sellerHealth(c echo.Context) error {
	h, err := s.sellers.Health(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, healthJSON{SellerID: h.SellerID, Status: h.Status,
		Rating:  ratingJSON{Score: h.Score, Band: h.Band, Changes: ledgerOf(h.Changes)},
		Metrics: h.MetricsJSON, EvaluatedAt: h.EvaluatedAt, ExpiredOrders: h.ExpiredOrders})
}

// sellerSummaryJSON is the SellerSummary schema of api/openapi.yaml.
type sellerSummaryJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Rating    scoreJSON `json:"rating"`
	Tier      string    `json:"tier"`
	OpenCases int       `json:"open_cases"`
}

type scoreJSON struct {
	Score int         `json:"score"`
	Band  health.Band `json:"band"`
}

func (s *Server) listSellers(c echo.Context) error {
	page, err := pageOf(c, 100)
	if err != nil {
		return err
	}
	list, next, err := s.sellers.List(c.Request().Context(), principal(c),
		sellers.ListFilter{Status: c.QueryParam("status"), Band: c.QueryParam("band"), Tier: c.QueryParam("tier")}, page)
	if err != nil {
		return err
	}
	out := make([]sellerSummaryJSON, len(list))
	for i, sm := range list {
		out[i] = sellerSummaryJSON{ID: sm.ID, Name: sm.Name, Status: string(sm.Status), Rating: scoreJSON{sm.Score, sm.Band},
			Tier: sm.Tier, OpenCases: sm.OpenCases}
	}
	return c.JSON(http.StatusOK, map[string]any{"sellers": out, "next_cursor": nextCursor(next)})
}
