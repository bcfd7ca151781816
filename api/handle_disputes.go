package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/app/disputes"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// DisputeJSON is the Dispute schema of api/openapi.yaml.
type DisputeJSON struct {
	ID              string     `json:"id"`
	OrderID         string     `json:"order_id"`
	SellerID        string     `json:"seller_id"`
	Defect          *string    `json:"defect"`  // null: every defect the order had
	Defects         []string   `json:"defects"` // those it covers
	Status          string     `json:"status"`
	Reason          string     `json:"reason"`
	Message         string     `json:"message"`
	CaseID          *string    `json:"case_id"`
	CreatedAt       time.Time  `json:"created_at"`
	DecidedAt       *time.Time `json:"decided_at"`
	DecidedBy       *string    `json:"decided_by"`
	DecisionMessage *string    `json:"decision_message"`
}

func disputeJSON(d store.DisputeRow) DisputeJSON {
	out := DisputeJSON{ID: d.ID, OrderID: d.OrderID, SellerID: d.SellerID, Defect: d.Defect, Defects: []string{}, Status: d.Status,
		Reason: d.Reason, Message: d.Message, CaseID: d.CaseID, CreatedAt: d.CreatedAt, DecidedAt: d.DecidedAt, DecidedBy: d.DecidedBy,
		DecisionMessage: d.DecisionMessage}
	for _, x := range d.Covers() {
		out.Defects = append(out.Defects, string(x))
	}
	return out
}

type disputeBody struct {
	Defect  health.Defect `json:"defect"`
	Reason  string        `json:"reason" text:"free"`
	Message string        `json:"message" text:"free"`
}

func (s *Server) openDispute(c echo.Context) error {
	var req disputeBody
	if err := bind(c, &req); err != nil {
		return err
	}
	d, err := s.disputes.Open(c.Request().Context(), principal(c), c.Param("order_id"),
		disputes.Request{Defect: req.Defect, Reason: req.Reason, Message: req.Message})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"dispute": disputeJSON(d)})
}

// listDisputes lists disputes oldest first, a page at a time.
func (s *Server) listDisputes(c echo.Context) error {
	page, err := pageOf(c, 100)
	if err != nil {
		return err
	}
	rows, next, err := s.disputes.List(c.Request().Context(), principal(c), c.QueryParam("status"), page)
	if err != nil {
		return err
	}
	out := make([]DisputeJSON, len(rows))
	for i, d := range rows {
		out[i] = disputeJSON(d)
	}
	return c.JSON(http.StatusOK, map[string]any{"disputes": out, "next_cursor": nextCursor(next)})
}

type disputeDecisionBody struct {
	Decision string `json:"decision"`
	Message  string `json:"message" text:"free"`
}

func (s *Server) decideDispute(c echo.Context) error {
	var req disputeDecisionBody
	if err := bind(c, &req); err != nil {
		return err
	}
	d, err := s.disputes.Decide(c.Request().Context(), principal(c), c.Param("id"), req.Decision, req.Message)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"dispute": disputeJSON(d)})
}
