package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/app/cases"
	"github.com/accounthealth/accounthealth/app/disputes"
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
	Parts           *store.DefectParts // odr only
	Evidence        []string           // the first ids behind a breach
	MoreEvidence    int                // how many more there are
}

// dashboardEvidence is how many ids a breach lists on the dashboard; the case page has them all.
const dashboardEvidence = 10

type dashboard struct {
	SellerName  string
	Status      health.SellerStatus
	Score       int
	Band        health.Band
	OpenCases   int
	EvaluatedAt *time.Time
	Metrics     []dashboardMetric
	Changes     []ledgerJSON
	Tier        tierJSON
	Programs    []programJSON
	Advice      []health.Recommendation // the seller's own recommendations, the furthest-reaching first
	// ExpiredOrders: orders of the last 30 days cancelled because they were never confirmed.
	ExpiredOrders int64
}

func (s *Server) home(c echo.Context) error {
	p := principal(c)
	if p.Role != store.RoleSeller {
		return c.Redirect(http.StatusSeeOther, "/review")
	}
	ctx := c.Request().Context()
	h, err := s.sellers.Health(ctx, p, p.SellerID)
	if err != nil {
		return err
	}
	sel, err := s.sellers.Seller(ctx, p, p.SellerID)
	if err != nil {
		return err
	}
	trend, err := s.sellers.Trend(ctx, p, p.SellerID, trendLength)
	if err != nil {
		return err
	}
	d := dashboard{SellerName: sel.Name, Status: h.Status, Score: h.Score, Band: h.Band, OpenCases: h.OpenCases,
		EvaluatedAt: h.EvaluatedAt, Changes: ledgerOf(h.Changes), ExpiredOrders: h.ExpiredOrders}
	metrics, err := h.Metrics()
	if err != nil {
		return err
	}
	tier, err := s.standing.Tier(ctx, p, p.SellerID)
	if err != nil {
		return err
	}
	programs, err := s.standing.Programs(ctx, p, p.SellerID)
	if err != nil {
		return err
	}
	d.Tier = tierOf(tier)
	for _, pr := range programs {
		d.Programs = append(d.Programs, programOf(pr))
	}
	var breaches []health.Breach
	for _, m := range metrics {
		if m.Status == health.Bad {
			breaches = append(breaches, health.Breach{Metric: m.Metric, Target: m.Target, Numerator: m.Numerator,
				Denominator: m.Denominator, Action: s.policy.Metrics[m.Metric].OnBreach})
		}
	}
	d.Advice = health.Recommend(breaches, tier.Standing.Next)
	for _, m := range metrics {
		def := health.Define(m.Metric)
		dm := dashboardMetric{ID: m.Metric, Title: def.Title, Rule: def.Numerator + ", of " + def.Denominator, Value: m.Value,
			TargetOp: string(m.Target.Op), TargetValue: m.Target.Value, Numerator: m.Numerator, Denominator: m.Denominator,
			WindowDays: m.WindowDays, Status: m.Status, Recommendations: def.Recommendations, Parts: m.Parts}
		if ev := m.Evidence; ev != nil {
			ids := ev.OrderIDs
			if len(ev.MessageIDs) > 0 {
				ids = ev.MessageIDs
			}
			dm.Evidence = ids[:min(len(ids), dashboardEvidence)]
			dm.MoreEvidence = len(ids) - len(dm.Evidence)
		}
		for _, tp := range trend[m.Metric] {
			dm.Trend = append(dm.Trend, templates.Point{Value: tp.Value, Bad: tp.Status == health.Bad})
		}
		d.Metrics = append(d.Metrics, dm)
	}
	flash := ""
	if prog := c.QueryParam("program"); prog != "" {
		for _, pr := range d.Programs {
			if pr.Program == prog && (pr.Status == "accepted" || pr.Status == "declined") {
				flash = "You have " + pr.Status + " the invitation to the " + pr.Title + "."
			}
		}
	}
	return s.page(c, http.StatusOK, "dashboard", "Account health", d, flash, "")
}

// casesData is one page of a seller's cases and the link to the next.
type casesData struct {
	Cases []store.CaseRow
	Next  *string
}

func (s *Server) casesPage(c echo.Context) error {
	page, err := pageOf(c, 100)
	if err != nil {
		return err
	}
	views, next, err := s.cases.List(c.Request().Context(), principal(c), cases.Filter{Page: page})
	if err != nil {
		return err
	}
	d := casesData{Cases: make([]store.CaseRow, len(views)), Next: nextCursor(next)}
	for i, v := range views {
		d.Cases[i] = v.CaseRow
	}
	return s.page(c, http.StatusOK, "cases", "Cases", d, "", "")
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
	// Reviewers: the case takes a withdrawal now; Confirming: it waits for
	// confirmation of its suspension.
	CanWithdraw bool
	Confirming  bool
	Form        map[string]string
	Errors      map[string]string
	// FileNames names the case's files by id, for the appeals that list them.
	FileNames map[string]string
	// Disputes of the orders behind the case; OrderDisputes the same by order.
	Disputes      []DisputeJSON
	OrderDisputes map[string][]DisputeJSON
	// CanDispute: the seller sees a dispute form beside each order behind the
	// case, offering the defects its metric counts and the usual reasons.
	CanDispute     bool
	Defects        []health.Defect
	DisputeReasons []health.DisputeReason
	// DisputeOrder is the order whose dispute form failed: Form and Errors are its.
	DisputeOrder string
}

func caseData(p Principal, v cases.View) casePageData {
	ev := v.Evidence
	ids := ev.OrderIDs
	if len(ev.MessageIDs) > 0 {
		ids = ev.MessageIDs
	}
	d := casePageData{
		Case: caseJSON(v),
		Evidence: evidenceView{Value: ev.Value, Numerator: ev.Numerator, Denominator: ev.Denominator, TargetOp: string(ev.Target.Op),
			TargetValue: ev.Target.Value, WindowDays: ev.WindowDays, WindowStart: ev.WindowStart, WindowEnd: ev.WindowEnd, IDs: ids, Note: ev.Note},
		CanAppeal:   p.Role == store.RoleSeller && v.CanAppeal,
		CanWithdraw: p.Role == store.RoleReviewer && health.CaseState(v.State).Open(),
		Confirming:  p.Role == store.RoleReviewer && health.CaseState(v.State) == health.PendingConfirmation,
		Form:        map[string]string{}, Errors: map[string]string{},
		FileNames: map[string]string{}, OrderDisputes: map[string][]DisputeJSON{},
		DisputeReasons: health.DisputeReasons,
	}
	for _, f := range v.Files {
		d.FileNames[f.ID] = f.Name
	}
	for _, r := range v.Disputes {
		dj := disputeJSON(r)
		d.Disputes = append(d.Disputes, dj)
		d.OrderDisputes[r.OrderID] = append(d.OrderDisputes[r.OrderID], dj)
	}
	if v.Metric != nil {
		d.Defects = health.MetricDefects[health.MetricID(*v.Metric)]
	}
	d.CanDispute = p.Role == store.RoleSeller && len(ev.MessageIDs) == 0 && len(ev.OrderIDs) > 0 && len(d.Defects) > 0
	return d
}

func (s *Server) casePage(c echo.Context) error {
	v, err := s.cases.Case(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	d := caseData(principal(c), v)
	flash := ""
	for _, a := range d.Case.Appeals { // only a real appeal of this case earns the confirmation
		if id := c.QueryParam("submitted"); id != "" && a.ID == id {
			flash = "Your Plan of Action " + id + " was submitted. A reviewer will answer, with a reason, by the deadline shown; we will email you."
		}
	}
	if id := c.QueryParam("disputed"); id != "" {
		if dj, err := s.disputes.Get(c.Request().Context(), principal(c), id); err == nil { // only the seller's own dispute
			flash = "Your dispute " + dj.ID + " of order " + dj.OrderID + " is with a reviewer. You will see the decision here and by email."
		}
	}
	return s.page(c, http.StatusOK, "case", "Case "+v.ID, d, flash, "")
}

// casePlan takes the Plan of Action form, with a file when one is chosen.
// Problems are shown beside their field with what was typed kept; with a bad
// file nothing is stored.
func (s *Server) casePlan(c echo.Context) error {
	ctx, p, id := c.Request().Context(), principal(c), c.Param("id")
	req := appealBody{RootCause: c.FormValue("root_cause"), CorrectiveActions: c.FormValue("corrective_actions"),
		PreventiveMeasures: c.FormValue("preventive_measures")}
	file, hasFile, err := formFile(c)
	tooLarge := errors.Is(err, cases.ErrTooLarge)
	var ap store.AppealRow
	switch {
	case tooLarge:
		err = &app.Error{Kind: app.KindInvalid, Message: "the file is too large", Fields: map[string]string{"file": "is too large: " + err.Error()}}
	case err != nil:
		return err
	case hasFile:
		ap, err = s.cases.SubmitAppealWithFile(ctx, p, id, req.plan(), file)
	default:
		ap, err = s.cases.SubmitAppeal(ctx, p, id, "", req.plan())
	}
	var e *app.Error
	if errors.As(err, &e) && (e.Kind == app.KindInvalid || e.Kind == app.KindConflict) {
		v, verr := s.cases.Case(ctx, p, id)
		if verr != nil {
			return verr
		}
		d := caseData(p, v)
		d.Form = map[string]string{"root_cause": req.RootCause, "corrective_actions": req.CorrectiveActions, "preventive_measures": req.PreventiveMeasures}
		if e.Fields != nil {
			d.Errors = e.Fields
		}
		msg, status := "Your Plan of Action was not submitted: please complete the fields marked below.", http.StatusBadRequest
		switch {
		case e.Kind == app.KindConflict:
			msg, status = "Your Plan of Action was not submitted: "+e.Message, http.StatusConflict
		case tooLarge:
			msg, status = msg+" Choose the file again: a browser does not keep it.", http.StatusRequestEntityTooLarge
		case hasFile:
			msg += " Choose the file again: a browser does not keep it."
		}
		return s.page(c, status, "case", "Case "+v.ID, d, "", msg)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/cases/"+id+"?submitted="+url.QueryEscape(ap.ID))
}

// caseDispute takes the dispute form beside an order of the case page. The use
// case is the API's; a refusal is shown beside the order's form with what was
// typed kept.
func (s *Server) caseDispute(c echo.Context) error {
	ctx, p, id := c.Request().Context(), principal(c), c.Param("id")
	v, err := s.cases.Case(ctx, p, id)
	if err != nil {
		return err
	}
	orderID := c.FormValue("order_id")
	r := disputes.Request{Defect: health.Defect(c.FormValue("defect")), Reason: c.FormValue("reason"), Message: c.FormValue("message")}
	dj, err := s.disputes.Open(ctx, p, orderID, r)
	var e *app.Error
	if errors.As(err, &e) && (e.Kind == app.KindInvalid || e.Kind == app.KindConflict) {
		d := caseData(p, v) // a refused dispute changed nothing: the case as read
		d.DisputeOrder = orderID
		d.Form = map[string]string{"defect": string(r.Defect), "reason": r.Reason, "message": r.Message}
		if e.Fields != nil {
			d.Errors = e.Fields
		}
		status := http.StatusBadRequest
		if e.Kind == app.KindConflict {
			status = http.StatusConflict
		}
		return s.page(c, status, "case", "Case "+v.ID, d, "", "Your dispute of order "+orderID+" was not sent: "+e.Message+".")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/cases/"+v.ID+"?disputed="+url.QueryEscape(dj.ID)+"#disputes")
}

// myDisputesShown is how many of a seller's disputes their page shows.
const myDisputesShown = 200

type myDisputesData struct {
	Disputes []DisputeJSON
	More     bool
}

// myDisputesPage lists the seller's disputes, oldest first, with their status
// and the reviewer's answer.
func (s *Server) myDisputesPage(c echo.Context) error {
	rows, next, err := s.disputes.List(c.Request().Context(), principal(c), "", store.Page{Limit: myDisputesShown})
	if err != nil {
		return err
	}
	d := myDisputesData{More: next != nil}
	for _, r := range rows {
		d.Disputes = append(d.Disputes, disputeJSON(r))
	}
	return s.page(c, http.StatusOK, "my-disputes", "Your disputes", d, "", "")
}

// programAnswer takes the accept or decline button of an invitation.
func (s *Server) programAnswer(c echo.Context) error {
	p := principal(c)
	accept := strings.HasSuffix(c.Path(), "/accept")
	program := c.Param("program")
	if _, err := s.standing.Answer(c.Request().Context(), p, p.SellerID, program, accept); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/?program="+url.QueryEscape(program))
}

// caseMessage takes the message form of the case page, from its seller or a reviewer.
func (s *Server) caseMessage(c echo.Context) error {
	ctx, p, id := c.Request().Context(), principal(c), c.Param("id")
	body := c.FormValue("body")
	_, err := s.cases.PostMessage(ctx, p, id, cases.Message{Body: body})
	var e *app.Error
	if errors.As(err, &e) && e.Kind == app.KindInvalid {
		v, verr := s.cases.Case(ctx, p, id)
		if verr != nil {
			return verr
		}
		d := caseData(p, v)
		d.Form = map[string]string{"body": body}
		d.Errors = e.Fields
		return s.page(c, http.StatusBadRequest, "case", "Case "+v.ID, d, "", "Your message was not sent: "+e.Message+".")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/cases/"+id+"#conversation")
}
