package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/app/cases"
	"github.com/accounthealth/accounthealth/store"
)

type reportsData struct {
	Reports []store.Report
	Failed  string            // the report whose decision was refused
	Form    map[string]string // what was typed for it
	Errors  map[string]string
}

// reportsPage is the console's triage of buyers' reports: each open report with
// a form to dismiss it or open the policy case it shows.
func (s *Server) reportsPage(c echo.Context) error {
	return s.renderReports(c, http.StatusOK, reportsData{}, flashIf(c.QueryParam("decided") != "", "The report is decided."), "")
}

func flashIf(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}

func (s *Server) renderReports(c echo.Context, status int, d reportsData, flash, errMsg string) error {
	rs, _, err := s.cases.ListReports(c.Request().Context(), store.ReportOpen, store.Page{Limit: 200})
	if err != nil {
		return err
	}
	d.Reports = rs
	if d.Form == nil {
		d.Form, d.Errors = map[string]string{}, map[string]string{}
	}
	return s.page(c, status, "reports", "Reports", d, flash, errMsg)
}

func (s *Server) reportDecisionForm(c echo.Context) error {
	id := c.Param("id")
	req := cases.ReportDecision{Decision: c.FormValue("decision"), Violation: c.FormValue("violation"),
		ListingID: c.FormValue("listing_id"), Message: c.FormValue("message")}
	_, v, err := s.cases.DecideReport(c.Request().Context(), principal(c), id, req)
	var e *app.Error
	if errors.As(err, &e) && (e.Kind == app.KindInvalid || e.Kind == app.KindConflict) {
		d := reportsData{Failed: id, Errors: map[string]string{}, Form: map[string]string{"decision": req.Decision,
			"violation": req.Violation, "listing_id": req.ListingID, "message": req.Message}}
		if e.Fields != nil {
			d.Errors = e.Fields
		}
		status := http.StatusBadRequest
		if e.Kind == app.KindConflict {
			status = http.StatusConflict
		}
		return s.renderReports(c, status, d, "", "The decision on "+id+" was not recorded: "+e.Message+".")
	}
	if err != nil {
		return err
	}
	if v != nil {
		return c.Redirect(http.StatusSeeOther, "/cases/"+v.ID)
	}
	return c.Redirect(http.StatusSeeOther, "/review/reports?decided=1")
}
