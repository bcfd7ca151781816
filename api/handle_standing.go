package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/app/standing"
	"github.com/accounthealth/accounthealth/health"
)

type tierEvaluationBody struct {
	Quarter string `json:"quarter"`
}

func (s *Server) startTierEvaluation(c echo.Context) error {
	var req tierEvaluationBody
	if err := bind(c, &req); err != nil {
		return err
	}
	e, err := s.standing.StartTierEvaluation(c.Request().Context(), req.Quarter)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"id": e.ID, "quarter": e.Quarter, "status": e.Status})
}

func (s *Server) getTierEvaluation(c echo.Context) error {
	e, err := s.standing.TierEvaluation(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

// tierJSON is the Tier schema of api/openapi.yaml.
type tierJSON struct {
	SellerID    string             `json:"seller_id"`
	Tier        string             `json:"tier"`
	Quarter     *string            `json:"quarter"`
	EvaluatedAt *time.Time         `json:"evaluated_at"`
	Benefits    []string           `json:"benefits"`
	Criteria    []health.Criterion `json:"criteria"`
	Next        *health.NextTier   `json:"next"`
	History     []tierHistoryJSON  `json:"history"`
}

type tierHistoryJSON struct {
	Quarter     string    `json:"quarter"`
	Tier        string    `json:"tier"`
	EvaluatedAt time.Time `json:"evaluated_at"`
}

func tierOf(t standing.Tier) tierJSON {
	out := tierJSON{SellerID: t.SellerID, Tier: t.Standing.Tier, EvaluatedAt: t.EvaluatedAt, Benefits: t.Benefits,
		Criteria: t.Standing.Criteria, Next: t.Standing.Next, History: []tierHistoryJSON{}}
	if t.Quarter != "" {
		out.Quarter = &t.Quarter
	}
	if out.Criteria == nil {
		out.Criteria = []health.Criterion{}
	}
	for _, h := range t.History {
		out.History = append(out.History, tierHistoryJSON{Quarter: h.Quarter, Tier: h.Tier, EvaluatedAt: h.EvaluatedAt})
	}
	return out
}

func (s *Server) sellerTier(c echo.Context) error {
	t, err := s.standing.Tier(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tierOf(t))
}

// programJSON is the Program schema of api/openapi.yaml.
type programJSON struct {
	Program    string             `json:"program"`
	Title      string             `json:"title"`
	Status     string             `json:"status"`
	WindowDays int                `json:"window_days"`
	MinOrders  int64              `json:"min_orders"`
	Criteria   []health.Criterion `json:"criteria"`
	InvitedAt  *time.Time         `json:"invited_at"`
	AnsweredAt *time.Time         `json:"answered_at"`
	RevokedAt  *time.Time         `json:"revoked_at"`
}

func programOf(p standing.Program) programJSON {
	return programJSON{Program: p.Policy.Name, Title: p.Policy.Title, Status: p.Status, WindowDays: p.Policy.WindowDays,
		MinOrders: p.Policy.MinOrders, Criteria: p.Criteria, InvitedAt: p.Row.InvitedAt, AnsweredAt: p.Row.AnsweredAt, RevokedAt: p.Row.RevokedAt}
}

func (s *Server) sellerPrograms(c echo.Context) error {
	ps, err := s.standing.Programs(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := make([]programJSON, len(ps))
	for i, p := range ps {
		out[i] = programOf(p)
	}
	return c.JSON(http.StatusOK, map[string]any{"programs": out})
}

func (s *Server) answerProgram(accept bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.standing.Answer(c.Request().Context(), principal(c), c.Param("id"), c.Param("program"), accept)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, programOf(p))
	}
}
