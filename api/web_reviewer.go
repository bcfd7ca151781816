package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

type queueData struct {
	Items    []store.QueueItem
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
	if f.Metric != "" && !health.MetricID(f.Metric).Valid() {
		return invalid("unknown metric", map[string]string{"metric": "unknown metric"})
	}
	if f.Status != "" && !appealStatuses[f.Status] {
		return invalid("unknown state", map[string]string{"status": "unknown state"})
	}
	items, err := s.store.ReviewQueue(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "queue", "Review queue", queueData{Items: items, Metric: f.Metric, Status: f.Status,
		Metrics: health.Metrics, Statuses: []string{store.AppealSubmitted, store.AppealInfoRequested, store.AppealRejected, store.AppealApproved, ""}}, "", "")
}

type reasonOption struct{ Code, Text string }

type decisionOption struct{ Value, Label string }

type reviewData struct {
	Appeal       store.AppealRow
	ClaimantName string
	Case         CaseJSON
	Evidence     evidenceView
	Metrics      []metricJSON
	History      []store.CaseRow
	Reasons      []reasonOption
	Decisions    []decisionOption
	Form         map[string]string
	Errors       map[string]string
}

func (s *Server) reviewData(c echo.Context, appealID string) (reviewData, error) {
	ctx := c.Request().Context()
	ap, err := s.store.Appeal(ctx, appealID)
	if errors.Is(err, store.ErrNotFound) {
		return reviewData{}, notFound("appeal")
	}
	if err != nil {
		return reviewData{}, err
	}
	row, err := s.store.Case(ctx, ap.CaseID)
	if err != nil {
		return reviewData{}, err
	}
	cd, err := s.caseData(c, row)
	if err != nil {
		return reviewData{}, err
	}
	h, err := s.health(ctx, row.SellerID)
	if err != nil {
		return reviewData{}, err
	}
	history, err := s.store.Cases(ctx, store.CaseFilter{SellerID: row.SellerID, Limit: 50})
	if err != nil {
		return reviewData{}, err
	}
	metrics, err := h.metrics()
	if err != nil {
		return reviewData{}, err
	}
	d := reviewData{Appeal: ap, Case: cd.Case, Evidence: cd.Evidence, Metrics: metrics, History: history,
		Form: map[string]string{}, Errors: map[string]string{},
		Decisions: []decisionOption{{"approve", "Approve: reinstate the seller"}, {"reject", "Reject: the plan is not enough"},
			{"request_info", "Request information"}}}
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
	err := s.store.ClaimAppeal(c.Request().Context(), id, principal(c).ReviewerID)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("appeal")
	}
	if errors.Is(err, store.ErrConflict) {
		return conflict("another reviewer has already claimed this appeal")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/review/appeals/"+id)
}

func (s *Server) reviewDecision(c echo.Context) error {
	id := c.Param("id")
	req := decisionBody{Decision: health.Decision(c.FormValue("decision")), ReasonCode: c.FormValue("reason_code"), Message: c.FormValue("message")}
	_, _, err := s.decide(c, id, req)
	var e *Error
	if errors.As(err, &e) && (e.Status == http.StatusBadRequest || e.Status == http.StatusConflict) {
		d, derr := s.reviewData(c, id)
		if derr != nil {
			return derr
		}
		raw, _ := json.Marshal(req)
		_ = json.Unmarshal(raw, &d.Form)
		if e.Fields != nil {
			d.Errors = e.Fields
		}
		return s.page(c, e.Status, "review", "Appeal "+id, d, "", "The decision was not recorded: "+e.Message+".")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/review/appeals/"+id+"?decided=1")
}
