package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/app/cases"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// queueShown is how many appeals the queue page shows; past it the page says
// so and asks for a narrower filter rather than hiding the rest.
const queueShown = 500

type queueData struct {
	Pending  []CaseJSON // suspensions waiting for a reviewer's confirmation: first, as nothing is enforced until then
	Items    []store.QueueItem
	More     bool // more matched than are shown
	Metric   string
	Status   string
	Metrics  []health.MetricID
	Statuses []string
}

func (s *Server) queuePage(c echo.Context) error {
	f := store.QueueFilter{Metric: c.QueryParam("metric"), Status: c.QueryParam("status")}
	if _, set := c.QueryParams()["status"]; !set {
		f.Status = store.AppealSubmitted // the work to do, by default
	}
	f.Limit = queueShown + 1
	items, err := s.cases.Queue(c.Request().Context(), f)
	if err != nil {
		return err
	}
	more := len(items) > queueShown
	if more {
		items = items[:queueShown]
	}
	pending, _, err := s.cases.List(c.Request().Context(), principal(c), cases.Filter{State: string(health.PendingConfirmation), Page: store.Page{Limit: 200}})
	if err != nil {
		return err
	}
	var pendingJSON []CaseJSON
	for i := len(pending) - 1; i >= 0; i-- { // oldest first
		pendingJSON = append(pendingJSON, caseJSON(pending[i]))
	}
	return s.page(c, http.StatusOK, "queue", "Review queue", queueData{Pending: pendingJSON, Items: items, More: more, Metric: f.Metric, Status: f.Status,
		Metrics: health.Metrics, Statuses: append(cases.AppealStatuses(), "")}, "", "")
}

type reasonOption struct{ Code, Text string }

type decisionOption struct{ Value, Label string }

type reviewData struct {
	Appeal        store.AppealRow
	ClaimantName  string
	Case          CaseJSON
	Evidence      evidenceView
	Metrics       []metricJSON
	ExpiredOrders int64
	History       []store.CaseRow
	Reasons       []reasonOption
	Decisions     []decisionOption
	Form          map[string]string
	Errors        map[string]string
	Tier          tierJSON
	Programs      []programJSON
}

func (s *Server) reviewData(c echo.Context, appealID string) (reviewData, error) {
	ctx, p := c.Request().Context(), principal(c)
	ap, err := s.store.Appeal(ctx, appealID)
	if errors.Is(err, store.ErrNotFound) {
		return reviewData{}, notFound("appeal")
	}
	if err != nil {
		return reviewData{}, err
	}
	v, err := s.cases.Case(ctx, p, ap.CaseID)
	if err != nil {
		return reviewData{}, err
	}
	cd := caseData(p, v)
	h, err := s.sellers.Health(ctx, p, v.SellerID)
	if err != nil {
		return reviewData{}, err
	}
	history, _, err := s.cases.List(ctx, p, cases.Filter{SellerID: v.SellerID, Page: store.Page{Limit: 50}})
	if err != nil {
		return reviewData{}, err
	}
	metrics, err := h.Metrics()
	if err != nil {
		return reviewData{}, err
	}
	d := reviewData{Appeal: ap, Case: cd.Case, Evidence: cd.Evidence, Metrics: metrics, ExpiredOrders: h.ExpiredOrders,
		Form: map[string]string{}, Errors: map[string]string{},
		Decisions: []decisionOption{{"approve", "Approve: reinstate the seller"}, {"reject", "Reject: the plan is not enough"},
			{"request_info", "Request information"}}}
	for _, hv := range history {
		d.History = append(d.History, hv.CaseRow)
	}
	tier, err := s.standing.Tier(ctx, p, v.SellerID)
	if err != nil {
		return reviewData{}, err
	}
	d.Tier = tierOf(tier)
	programs, err := s.standing.Programs(ctx, p, v.SellerID)
	if err != nil {
		return reviewData{}, err
	}
	for _, pr := range programs {
		d.Programs = append(d.Programs, programOf(pr))
	}
	if ap.ClaimedBy != nil {
		if r, err := s.store.Reviewer(ctx, *ap.ClaimedBy); err == nil {
			d.ClaimantName = r.Name
		}
	}
	for code, text := range health.ReasonCodes {
		d.Reasons = append(d.Reasons, reasonOption{code, text})
	}
	sort.Slice(d.Reasons, func(i, j int) bool { return d.Reasons[i].Code < d.Reasons[j].Code })
	return d, nil
}

func (s *Server) reviewPage(c echo.Context) error {
	d, err := s.reviewData(c, c.Param("id"))
	if err != nil {
		return err
	}
	flash := ""
	if c.QueryParam("decided") != "" {
		flash = "Your decision is recorded; the seller has been told, with your reason."
	}
	return s.page(c, http.StatusOK, "review", "Appeal "+d.Appeal.ID, d, flash, "")
}

func (s *Server) claimAppeal(c echo.Context) error {
	id := c.Param("id")
	if err := s.cases.Claim(c.Request().Context(), principal(c), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/review/appeals/"+id)
}

func (s *Server) reviewDecision(c echo.Context) error {
	id := c.Param("id")
	req := decisionBody{Decision: health.Decision(c.FormValue("decision")), ReasonCode: c.FormValue("reason_code"), Message: c.FormValue("message")}
	_, _, err := s.cases.Decide(c.Request().Context(), principal(c), id, req.decision())
	var e *app.Error
	if errors.As(err, &e) && (e.Kind == app.KindInvalid || e.Kind == app.KindConflict) {
		d, derr := s.reviewData(c, id)
		if derr != nil {
			return derr
		}
		raw, _ := json.Marshal(req)
		_ = json.Unmarshal(raw, &d.Form)
		if e.Fields != nil {
			d.Errors = e.Fields
		}
		status := http.StatusBadRequest
		if e.Kind == app.KindConflict {
			status = http.StatusConflict
		}
		return s.page(c, status, "review", "Appeal "+id, d, "", "The decision was not recorded: "+e.Message+".")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/review/appeals/"+id+"?decided=1")
}

// failedMailShown is how many failed mails the page shows at once.
const failedMailShown = 200

type failedMailData struct {
	Mail []MailJSON
	More bool
}

// failedMailPage lists the mail given up on, each with a button to send it again.
func (s *Server) failedMailPage(c echo.Context) error {
	rows, next, err := s.mails.List(c.Request().Context(), store.MailFailed, store.Page{Limit: failedMailShown})
	if err != nil {
		return err
	}
	d := failedMailData{Mail: make([]MailJSON, len(rows)), More: next != nil}
	for i, m := range rows {
		d.Mail[i] = mailJSON(m)
	}
	flash := ""
	if id := c.QueryParam("resent"); id != "" {
		flash = "Mail " + id + " is being sent again."
	}
	return s.page(c, http.StatusOK, "failed_mail", "Failed mail", d, flash, "")
}

func (s *Server) resendMailForm(c echo.Context) error {
	m, err := s.mails.Resend(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/review/mail?resent="+url.QueryEscape(m.ID))
}

// caseAction takes a reviewer's form on the case page: confirm or withdraw a
// suspension waiting for confirmation, or withdraw an open case.
func (s *Server) caseAction(c echo.Context) error {
	ctx, p, id := c.Request().Context(), principal(c), c.Param("id")
	decision := health.ConfirmDecision(c.FormValue("decision"))
	r := cases.Reason{ReasonCode: strings.TrimSpace(c.FormValue("reason_code")), Message: c.FormValue("message")}
	v, err := s.cases.Case(ctx, p, id)
	if err != nil {
		return err
	}
	if health.CaseState(v.State) == health.PendingConfirmation {
		_, err = s.cases.Confirm(ctx, p, id, decision, r)
	} else if decision == health.WithdrawIt {
		_, err = s.cases.Withdraw(ctx, p, id, r)
	} else {
		err = app.Conflict("the case is %s; no suspension is waiting for confirmation", v.State)
	}
	var e *app.Error
	if errors.As(err, &e) && (e.Kind == app.KindInvalid || e.Kind == app.KindConflict) {
		if v, err = s.cases.Case(ctx, p, id); err != nil {
			return err
		}
		d := caseData(p, v)
		d.Form = map[string]string{"reason_code": r.ReasonCode, "message": r.Message, "decision": string(decision)}
		if e.Fields != nil {
			d.Errors = e.Fields
		}
		status := http.StatusBadRequest
		if e.Kind == app.KindConflict {
			status = http.StatusConflict
		}
		return s.page(c, status, "case", "Case "+v.ID, d, "", "Nothing was changed: "+e.Message)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/cases/"+id)
}
