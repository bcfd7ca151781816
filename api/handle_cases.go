package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/workflows"
)

// AppealJSON is APPEAL of the contract.
type AppealJSON struct {
	ID                 string     `json:"id"`
	CaseID             string     `json:"case_id"`
	SellerID           string     `json:"seller_id"`
	Status             string     `json:"status"`
	RootCause          string     `json:"root_cause"`
	CorrectiveActions  string     `json:"corrective_actions"`
	PreventiveMeasures string     `json:"preventive_measures"`
	SubmittedAt        time.Time  `json:"submitted_at"`
	ReviewDue          *time.Time `json:"review_due"`
	DecidedAt          *time.Time `json:"decided_at"`
	DecidedBy          *string    `json:"decided_by"`
	ReasonCode         *string    `json:"reason_code"`
	ReasonText         string     `json:"reason_text,omitempty"`
	Message            *string    `json:"message"`
}

func appealJSON(a store.AppealRow) AppealJSON {
	out := AppealJSON{ID: a.ID, CaseID: a.CaseID, SellerID: a.SellerID, Status: a.Status, RootCause: a.RootCause,
		CorrectiveActions: a.CorrectiveActions, PreventiveMeasures: a.PreventiveMeasures, SubmittedAt: a.SubmittedAt,
		ReviewDue: a.ReviewDue, DecidedAt: a.DecidedAt, DecidedBy: a.DecidedBy, ReasonCode: a.ReasonCode, Message: a.Message}
	if a.ReasonCode != nil {
		out.ReasonText = health.ReasonCodes[*a.ReasonCode]
	}
	return out
}

// TimelineEntry is one entry of a case's timeline.
type TimelineEntry struct {
	At     time.Time      `json:"at"`
	Type   string         `json:"type"`
	Actor  string         `json:"actor"`
	From   *string        `json:"from_state"`
	To     string         `json:"to_state"`
	Detail map[string]any `json:"detail"`
}

// CaseJSON is CASE of the contract, with the statement of reasons spelled out.
type CaseJSON struct {
	ID          string          `json:"id"`
	SellerID    string          `json:"seller_id"`
	Kind        string          `json:"kind"`
	Metric      *string         `json:"metric"`
	ListingID   *string         `json:"listing_id,omitempty"`
	Violation   *string         `json:"violation,omitempty"`
	State       string          `json:"state"`
	Enforcement string          `json:"enforcement"`
	OpenedAt    time.Time       `json:"opened_at"`
	Deadline    *time.Time      `json:"deadline"`
	ClosedAt    *time.Time      `json:"closed_at"`
	AppealsUsed int             `json:"appeals_used"`
	AppealsLeft int             `json:"appeals_left"`
	Escalated   bool            `json:"escalated"`
	Evidence    json.RawMessage `json:"evidence"`
	Reasons     Reasons         `json:"statement_of_reasons"`
	Appeals     []AppealJSON    `json:"appeals"`
	Timeline    []TimelineEntry `json:"timeline"`
}

// Reasons is the statement of reasons in words.
type Reasons struct {
	Rule            string     `json:"rule"`
	Automated       bool       `json:"automated"`
	HowToAppeal     string     `json:"how_to_appeal"`
	AppealBy        *time.Time `json:"appeal_by"`
	Recommendations []string   `json:"recommendations"`
}

func (s *Server) caseJSON(c echo.Context, row store.CaseRow, full bool) (CaseJSON, error) {
	out := CaseJSON{ID: row.ID, SellerID: row.SellerID, Kind: row.Kind, Metric: row.Metric, ListingID: row.ListingID,
		Violation: row.Violation, State: row.State, Enforcement: row.Enforcement, OpenedAt: row.OpenedAt, Deadline: row.Deadline,
		ClosedAt: row.ClosedAt, AppealsUsed: row.AppealsUsed, AppealsLeft: max(0, row.MaxAppeals-row.AppealsUsed),
		Escalated: row.Escalated, Evidence: json.RawMessage(row.Evidence), Appeals: []AppealJSON{}, Timeline: []TimelineEntry{}}
	out.Reasons = reasons(row)
	if !full {
		return out, nil
	}
	ctx := c.Request().Context()
	appeals, err := s.store.AppealsOfCase(ctx, row.ID)
	if err != nil {
		return out, err
	}
	for _, a := range appeals {
		out.Appeals = append(out.Appeals, appealJSON(a))
	}
	events, err := s.store.Timeline(ctx, row.ID)
	if err != nil {
		return out, err
	}
	for _, e := range events {
		var d map[string]any
		_ = json.Unmarshal([]byte(e.Detail), &d)
		out.Timeline = append(out.Timeline, TimelineEntry{At: e.At, Type: e.Type, Actor: e.Actor, From: e.FromState, To: e.ToState, Detail: d})
	}
	return out, nil
}

func reasons(row store.CaseRow) Reasons {
	r := Reasons{Automated: row.Kind == string(health.MetricBreach), Recommendations: []string{}}
	if row.Metric != nil {
		def := health.Define(health.MetricID(*row.Metric))
		var ev store.Evidence
		_ = json.Unmarshal([]byte(row.Evidence), &ev)
		r.Rule = fmt.Sprintf("%s must be %s %g%%; it counts %s, of %s, over %d days.", def.Title, ev.Target.Op,
			ev.Target.Value*100, def.Numerator, def.Denominator, ev.WindowDays)
		r.Recommendations = def.Recommendations
	} else if row.Violation != nil {
		r.Rule = "Policy violation " + strings.ReplaceAll(*row.Violation, "_", " ") + " on listing " + deref(row.ListingID) + "."
	}
	switch health.CaseState(row.State) {
	case health.Warned:
		r.HowToAppeal = "Nothing is enforced yet: bring the metric back on target before the deadline and the case closes by itself."
	case health.Enforced, health.InfoRequested:
		r.HowToAppeal = "POST /v1/cases/" + row.ID + "/appeals with root_cause, corrective_actions and preventive_measures, or use the case page."
		r.AppealBy = row.Deadline
	case health.UnderReview:
		r.HowToAppeal = "Your Plan of Action is under review; the deadline is the review's."
	default:
		r.HowToAppeal = "The case is closed."
	}
	return r
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// visibleCase reads a case the caller may see; anyone else gets 404.
func (s *Server) visibleCase(c echo.Context, id string) (store.CaseRow, error) {
	row, err := s.store.Case(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !canSeeSeller(principal(c), row.SellerID)) {
		return row, notFound("case")
	}
	return row, err
}

var caseStates = map[string]bool{"warned": true, "resolved": true, "enforced": true, "under_review": true, "info_requested": true, "reinstated": true, "deactivated": true}

func (s *Server) listCases(c echo.Context) error {
	p := principal(c)
	f := store.CaseFilter{SellerID: c.QueryParam("seller_id"), State: c.QueryParam("state"), Limit: 500}
	if f.State != "" && !caseStates[f.State] {
		return invalid("unknown state", map[string]string{"state": "must be one of warned, resolved, enforced, under_review, info_requested, reinstated, deactivated"})
	}
	if p.Role == store.RoleSeller {
		if f.SellerID != "" && f.SellerID != p.SellerID {
			return notFound("seller")
		}
		f.SellerID = p.SellerID
	}
	rows, err := s.store.Cases(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]CaseJSON, 0, len(rows))
	for _, r := range rows {
		cj, err := s.caseJSON(c, r, false)
		if err != nil {
			return err
		}
		out = append(out, cj)
	}
	return c.JSON(http.StatusOK, map[string]any{"cases": out})
}

func (s *Server) getCase(c echo.Context) error {
	row, err := s.visibleCase(c, c.Param("id"))
	if err != nil {
		return err
	}
	cj, err := s.caseJSON(c, row, true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cj)
}

type appealBody struct {
	RootCause          string `json:"root_cause"`
	CorrectiveActions  string `json:"corrective_actions"`
	PreventiveMeasures string `json:"preventive_measures"`
}

// submitAppeal takes a seller's Plan of Action. With an Idempotency-Key, a retry
// gets the first answer again: the key fixes both the appeal's id and the
// workflow update's id, and the first success is stored.
func (s *Server) submitAppeal(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	row, err := s.visibleCase(c, c.Param("id"))
	if err != nil {
		return err
	}
	raw, err := readBody(c)
	if err != nil {
		return err
	}
	key := c.Request().Header.Get("Idempotency-Key")
	who := "seller:" + p.SellerID
	hash := sha256.Sum256(append([]byte(row.ID+"\n"), raw...))
	reqHash := hex.EncodeToString(hash[:])
	appealID, updateID := newAppealID(who, ""), ""
	if key != "" {
		if len(key) > 200 {
			return invalid("the Idempotency-Key is too long", map[string]string{"Idempotency-Key": "at most 200 characters"})
		}
		if prev, ok, err := s.store.Idempotent(ctx, who, key); err != nil {
			return err
		} else if ok {
			if prev.RequestHash != reqHash {
				return conflict("this Idempotency-Key was used for a different request")
			}
			return c.Blob(prev.Status, echo.MIMEApplicationJSON, []byte(prev.Body))
		}
		appealID = newAppealID(who, row.ID+"\n"+key)
		updateID = "appeal/" + appealID
	}
	var req appealBody
	if err := bindBytes(raw, &req); err != nil {
		return err
	}
	ap, err := s.submitPlan(c, row, appealID, updateID, req)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"appeal": appealJSON(ap)})
	if err != nil {
		return err
	}
	if key != "" {
		if err := s.store.SaveIdempotent(ctx, store.IdempotentAnswer{Principal: who, Key: key, RequestHash: reqHash, Status: http.StatusCreated, Body: string(body)}); err != nil {
			return err
		}
	}
	return c.Blob(http.StatusCreated, echo.MIMEApplicationJSON, body)
}

// submitPlan sends a Plan of Action to the case, for the API and the portal alike.
func (s *Server) submitPlan(c echo.Context, row store.CaseRow, appealID, updateID string, req appealBody) (store.AppealRow, error) {
	if problems := health.ValidatePOA(req.RootCause, req.CorrectiveActions, req.PreventiveMeasures); problems != nil {
		return store.AppealRow{}, invalid("the Plan of Action is incomplete", problems)
	}
	ap, err := s.workflows.SubmitAppeal(c.Request().Context(), row.WorkflowID, row.RunID, updateID, workflows.AppealRequest{
		AppealID: appealID, RootCause: req.RootCause, CorrectiveActions: req.CorrectiveActions, PreventiveMeasures: req.PreventiveMeasures})
	if err != nil {
		return ap, refusedOr(err)
	}
	return ap, nil
}

// newAppealID makes an appeal id; with an idempotency key it is derived from it,
// so a retry names the same appeal.
func newAppealID(who, key string) string {
	if key == "" {
		return "A-" + strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:12])
	}
	k := sha256.Sum256([]byte(who + "\n" + key))
	return "A-" + strings.ToUpper(hex.EncodeToString(k[:])[:12])
}

// refusedOr maps the case's refusals to 409.
func refusedOr(err error) error {
	var r *workflows.RefusedError
	switch {
	case errors.As(err, &r):
		return conflict(r.Message)
	case errors.Is(err, workflows.ErrCaseClosed):
		return conflict(err.Error())
	}
	return err
}

var appealStatuses = map[string]bool{store.AppealSubmitted: true, store.AppealApproved: true, store.AppealRejected: true, store.AppealInfoRequested: true}

func (s *Server) listAppeals(c echo.Context) error {
	status := c.QueryParam("status")
	if status != "" && !appealStatuses[status] {
		return invalid("unknown status", map[string]string{"status": "must be one of submitted, approved, rejected, info_requested"})
	}
	rows, err := s.store.Appeals(c.Request().Context(), status, 1000)
	if err != nil {
		return err
	}
	out := make([]AppealJSON, len(rows))
	for i, a := range rows {
		out[i] = appealJSON(a)
	}
	return c.JSON(http.StatusOK, map[string]any{"appeals": out})
}

type decisionBody struct {
	Decision   health.Decision `json:"decision"`
	ReasonCode string          `json:"reason_code"`
	Message    string          `json:"message"`
}

func (s *Server) decideAppeal(c echo.Context) error {
	var req decisionBody
	if err := bind(c, &req); err != nil {
		return err
	}
	decided, row, err := s.decide(c, c.Param("id"), req)
	if err != nil {
		return err
	}
	cj, err := s.caseJSON(c, row, true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"appeal": appealJSON(decided), "case": cj})
}

// decide is a reviewer's decision, for the API and the console alike: 404 for an
// unknown appeal, 400 naming the fields, 409 when the case no longer takes it.
func (s *Server) decide(c echo.Context, appealID string, req decisionBody) (store.AppealRow, store.CaseRow, error) {
	ctx := c.Request().Context()
	p := principal(c)
	ap, err := s.store.Appeal(ctx, appealID)
	if errors.Is(err, store.ErrNotFound) {
		return ap, store.CaseRow{}, notFound("appeal")
	}
	if err != nil {
		return ap, store.CaseRow{}, err
	}
	if problems := health.ValidateDecision(req.Decision, req.ReasonCode, req.Message); problems != nil {
		return ap, store.CaseRow{}, invalid("the decision is incomplete", problems)
	}
	if ap.Status != store.AppealSubmitted {
		return ap, store.CaseRow{}, conflict("appeal " + ap.ID + " was already decided: " + ap.Status)
	}
	row, err := s.store.Case(ctx, ap.CaseID)
	if err != nil {
		return ap, row, err
	}
	reviewer, err := s.store.Reviewer(ctx, p.ReviewerID)
	if err != nil {
		return ap, row, err
	}
	decided, err := s.workflows.Decide(ctx, row.WorkflowID, row.RunID, "", workflows.DecisionRequest{
		AppealID: ap.ID, ReviewerID: p.ReviewerID, ReviewerName: reviewer.Name, Decision: req.Decision,
		ReasonCode: req.ReasonCode, Message: strings.TrimSpace(req.Message)})
	if err != nil {
		return ap, row, refusedOr(err)
	}
	row, err = s.store.Case(ctx, ap.CaseID)
	return decided, row, err
}

type policyCaseBody struct {
	SellerID  string `json:"seller_id"`
	ListingID string `json:"listing_id"`
	Violation string `json:"violation"`
	Note      string `json:"note"`
}

// openPolicyCase lets a reviewer open a policy-violation case: the listing is
// deactivated at once, with the reviewer's note as the statement of reasons.
func (s *Server) openPolicyCase(c echo.Context) error {
	ctx := c.Request().Context()
	var req policyCaseBody
	if err := bind(c, &req); err != nil {
		return err
	}
	f := map[string]string{}
	if _, err := s.store.Seller(ctx, req.SellerID); errors.Is(err, store.ErrNotFound) {
		f["seller_id"] = "no such seller"
	} else if err != nil {
		return err
	}
	if !idPattern.MatchString(req.ListingID) {
		f["listing_id"] = "must be 1-128 letters, digits, '.', '_' or '-'"
	}
	if !reasonCodePattern.MatchString(req.Violation) {
		f["violation"] = "must be lower_snake_case, e.g. ip_complaint"
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(req.Note)); n < health.POAMin || n > health.POAMax {
		f["note"] = fmt.Sprintf("must say what was found, %d to %d characters", health.POAMin, health.POAMax)
	}
	if len(f) > 0 {
		return invalid("some fields are not valid", f)
	}
	runID, err := s.workflows.OpenPolicyCase(ctx, workflows.CaseInput{SellerID: req.SellerID, Kind: health.PolicyViolation,
		ListingID: req.ListingID, Violation: req.Violation, Note: strings.TrimSpace(req.Note), Policy: s.policy.Cases,
		OpenedBy: principal(c).ReviewerID})
	if err != nil {
		return refusedOr(err)
	}
	// The case row is written by the workflow's first activity; wait briefly for it.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		row, err := s.store.CaseByRun(ctx, runID)
		if err == nil {
			cj, err := s.caseJSON(c, row, true)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusCreated, cj)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c.JSON(http.StatusAccepted, map[string]string{"run_id": runID, "status": "opening"})
}
