package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/templates"
)

// trendLength is how many past evaluations a dashboard chart shows.
const trendLength = 30

type dashboardMetric struct {
	ID              health.MetricID
	Title, Rule     string
	Value           *float64
	TargetOp        string
	TargetValue     float64
	Numerator       int64
	Denominator     int64
	WindowDays      int
	Status          health.Status
	Trend           []templates.Point
	Recommendations []string
}

type dashboard struct {
	SellerName  string
	Status      health.SellerStatus
	Score       int
	Band        health.Band
	OpenCases   int
	EvaluatedAt *time.Time
	Metrics     []dashboardMetric
	Changes     []ledgerJSON
}

func (s *Server) home(c echo.Context) error {
	p := principal(c)
	if p.Role != store.RoleSeller {
		return c.Redirect(http.StatusSeeOther, "/review")
	}
	ctx := c.Request().Context()
	h, err := s.health(ctx, p.SellerID)
	if err != nil {
		return err
	}
	sel, err := s.store.Seller(ctx, p.SellerID)
	if err != nil {
		return err
	}
	trend, err := s.store.MetricTrend(ctx, p.SellerID, trendLength)
	if err != nil {
		return err
	}
	d := dashboard{SellerName: sel.Name, Status: h.Status, Score: h.Rating.Score, Band: h.Rating.Band, OpenCases: h.openCases,
		EvaluatedAt: h.EvaluatedAt, Changes: h.Rating.Changes}
	metrics, err := h.metrics()
	if err != nil {
		return err
	}
	for _, m := range metrics {
		def := health.Define(m.Metric)
		dm := dashboardMetric{ID: m.Metric, Title: def.Title, Rule: def.Numerator + ", of " + def.Denominator, Value: m.Value,
			TargetOp: string(m.Target.Op), TargetValue: m.Target.Value, Numerator: m.Numerator, Denominator: m.Denominator,
			WindowDays: m.WindowDays, Status: m.Status, Recommendations: def.Recommendations}
		for _, tp := range trend[m.Metric] {
			dm.Trend = append(dm.Trend, templates.Point{Value: tp.Value, Bad: tp.Status == health.Bad})
		}
		d.Metrics = append(d.Metrics, dm)
	}
	return s.page(c, http.StatusOK, "dashboard", "Account health", d, "", "")
}

func (s *Server) casesPage(c echo.Context) error {
	rows, err := s.store.Cases(c.Request().Context(), store.CaseFilter{SellerID: principal(c).SellerID, Limit: 500})
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "cases", "Cases", rows, "", "")
}

// evidenceView is the evidence as a page shows it.
type evidenceView struct {
	Value                  *float64
	Numerator, Denominator int64
	TargetOp               string
	TargetValue            float64
	WindowDays             int
	WindowStart, WindowEnd time.Time
	IDs                    []string
	Note                   string
}

type casePageData struct {
	Case      CaseJSON
	Evidence  evidenceView
	CanAppeal bool
	Form      map[string]string
	Errors    map[string]string
}

func (s *Server) caseData(c echo.Context, row store.CaseRow) (casePageData, error) {
	cj, err := s.caseJSON(c, row, true)
	if err != nil {
		return casePageData{}, err
	}
	var ev store.Evidence
	if err := json.Unmarshal([]byte(row.Evidence), &ev); err != nil {
		return casePageData{}, err
	}
	ids := ev.OrderIDs
	if len(ev.MessageIDs) > 0 {
		ids = ev.MessageIDs
	}
	state := health.CaseState(row.State)
	return casePageData{
		Case: cj,
		Evidence: evidenceView{Value: ev.Value, Numerator: ev.Numerator, Denominator: ev.Denominator, TargetOp: string(ev.Target.Op),
			TargetValue: ev.Target.Value, WindowDays: ev.WindowDays, WindowStart: ev.WindowStart, WindowEnd: ev.WindowEnd, IDs: ids, Note: ev.Note},
		CanAppeal: principal(c).Role == store.RoleSeller &&
			(state == health.InfoRequested || (state == health.Enforced && row.AppealsUsed < row.MaxAppeals)),
		Form: map[string]string{}, Errors: map[string]string{},
	}, nil
}

func (s *Server) casePage(c echo.Context) error {
	row, err := s.visibleCase(c, c.Param("id"))
	if err != nil {
		return err
	}
	d, err := s.caseData(c, row)
	if err != nil {
		return err
	}
	flash := ""
	for _, a := range d.Case.Appeals { // only a real appeal of this case earns the confirmation
		if id := c.QueryParam("submitted"); id != "" && a.ID == id {
			flash = "Your Plan of Action " + id + " was submitted. A reviewer will answer, with a reason, by the deadline shown; we will email you."
		}
	}
	return s.page(c, http.StatusOK, "case", "Case "+row.ID, d, flash, "")
}

// casePlan takes the Plan of Action form. Problems are shown beside their field
// with what was typed kept.
func (s *Server) casePlan(c echo.Context) error {
	row, err := s.visibleCase(c, c.Param("id"))
	if err != nil {
		return err
	}
	req := appealBody{RootCause: c.FormValue("root_cause"), CorrectiveActions: c.FormValue("corrective_actions"),
		PreventiveMeasures: c.FormValue("preventive_measures")}
	who := "seller:" + principal(c).SellerID
	ap, err := s.submitPlan(c, row, newAppealID(who, ""), "", req)
	var e *Error
	if errors.As(err, &e) && (e.Status == http.StatusBadRequest || e.Status == http.StatusConflict) {
		d, derr := s.caseData(c, row)
		if derr != nil {
			return derr
		}
		d.Form = map[string]string{"root_cause": req.RootCause, "corrective_actions": req.CorrectiveActions, "preventive_measures": req.PreventiveMeasures}
		if e.Fields != nil {
			d.Errors = e.Fields
		}
		msg := "Your Plan of Action was not submitted: please complete the fields marked below."
		if e.Status == http.StatusConflict {
			msg = "Your Plan of Action was not submitted: " + e.Message
		}
		return s.page(c, e.Status, "case", "Case "+row.ID, d, "", msg)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/cases/"+row.ID+"?submitted="+url.QueryEscape(ap.ID))
}
