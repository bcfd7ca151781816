package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/app/cases"
)

type reportBody struct {
	SellerID    string `json:"seller_id"`
	ListingID   string `json:"listing_id"`
	Category    string `json:"category"`
	Description string `json:"description" text:"free"`
}

type reportDecisionBody struct {
	Decision  string `json:"decision"`
	Violation string `json:"violation"`
	ListingID string `json:"listing_id"`
	Message   string `json:"message" text:"free"`
}

func (s *Server) createReport(c echo.Context) error {
	var req reportBody
	if err := bind(c, &req); err != nil {
		return err
	}
	r, err := s.cases.Report(c.Request().Context(), cases.NewReport{SellerID: req.SellerID, ListingID: req.ListingID,
		Category: req.Category, Description: req.Description})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"report": r})
}

func (s *Server) listReports(c echo.Context) error {
	page, err := pageOf(c, 100)
	if err != nil {
		return err
	}
	rs, next, err := s.cases.ListReports(c.Request().Context(), c.QueryParam("status"), page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"reports": rs, "next_cursor": nextCursor(next)})
}

func (s *Server) decideReport(c echo.Context) error {
	var req reportDecisionBody
	if err := bind(c, &req); err != nil {
		return err
	}
	r, v, err := s.cases.DecideReport(c.Request().Context(), principal(c), c.Param("id"),
		cases.ReportDecision{Decision: req.Decision, Violation: req.Violation, ListingID: req.ListingID, Message: req.Message})
	if err != nil {
		return err
	}
	out := map[string]any{"report": r, "case": nil}
	if v != nil {
		out["case"] = caseJSON(*v)
	}
	return c.JSON(http.StatusOK, out)
}
