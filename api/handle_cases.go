package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/app/cases"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// AppealJSON is the Appeal schema of api/openapi.yaml: the stored appeal, with
// what its reason code says.
type AppealJSON struct {
	store.AppealRow
	ReasonText string     `json:"reason_text,omitempty"`
	ClaimedBy  *string    `json:"claimed_by"` // the reviewer holding it, if any
	ClaimedAt  *time.Time `json:"claimed_at"`
	// AttachmentIDs are the case's files the plan lists.
	AttachmentIDs []string `json:"attachment_ids"`
}

// AttachmentJSON is the Attachment schema of api/openapi.yaml.
type AttachmentJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	UploadedBy  string    `json:"uploaded_by"`
	CreatedAt   time.Time `json:"created_at"`
}

func attachmentJSON(a store.Attachment) AttachmentJSON {
	return AttachmentJSON{ID: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size, UploadedBy: a.UploadedBy, CreatedAt: a.CreatedAt}
}

func appealJSON(a store.AppealRow) AppealJSON {
	out := AppealJSON{AppealRow: a, ClaimedBy: a.ClaimedBy, ClaimedAt: a.ClaimedAt, AttachmentIDs: []string{}}
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

// CaseJSON is the Case schema of api/openapi.yaml, with the statement of reasons spelled out.
type CaseJSON struct {
	ID          string           `json:"id"`
	SellerID    string           `json:"seller_id"`
	Kind        string           `json:"kind"`
	Metric      *string          `json:"metric"`
	ListingID   *string          `json:"listing_id,omitempty"`
	Violation   *string          `json:"violation,omitempty"`
	State       string           `json:"state"`
	Enforcement string           `json:"enforcement"`
	OpenedAt    time.Time        `json:"opened_at"`
	Deadline    *time.Time       `json:"deadline"`
	ClosedAt    *time.Time       `json:"closed_at"`
	AppealsUsed int              `json:"appeals_used"`
	AppealsLeft int              `json:"appeals_left"`
	Escalated   bool             `json:"escalated"`
	Evidence    json.RawMessage  `json:"evidence"`
	Reasons     health.Statement `json:"statement_of_reasons"`
	Appeals     []AppealJSON     `json:"appeals"`
	Timeline    []TimelineEntry  `json:"timeline"`
	ClaimedBy   *string          `json:"claimed_by"` // the reviewer holding its confirmation, if any
	ClaimedAt   *time.Time       `json:"claimed_at"`
	Attachments []AttachmentJSON `json:"attachments"`
}

func caseJSON(v cases.View) CaseJSON {
	out := CaseJSON{ID: v.ID, SellerID: v.SellerID, Kind: v.Kind, Metric: v.Metric, ListingID: v.ListingID,
		Violation: v.Violation, State: v.State, Enforcement: v.Enforcement, OpenedAt: v.OpenedAt, Deadline: v.Deadline,
		ClosedAt: v.ClosedAt, AppealsUsed: v.AppealsUsed, AppealsLeft: v.AppealsLeft(), Escalated: v.Escalated,
		Evidence: json.RawMessage(v.CaseRow.Evidence), Reasons: v.Reasons, Appeals: []AppealJSON{}, Timeline: []TimelineEntry{},
		ClaimedBy: v.ClaimedBy, ClaimedAt: v.ClaimedAt, Attachments: []AttachmentJSON{}}
	for _, a := range v.Appeals {
		aj := appealJSON(a)
		if ids := v.AppealAttachments[a.ID]; ids != nil {
			aj.AttachmentIDs = ids
		}
		out.Appeals = append(out.Appeals, aj)
	}
	for _, f := range v.Files {
		out.Attachments = append(out.Attachments, attachmentJSON(f))
	}
	for _, e := range v.Timeline {
		var d map[string]any
		_ = json.Unmarshal([]byte(e.Detail), &d) // written by the case's own record: always an object
		out.Timeline = append(out.Timeline, TimelineEntry{At: e.At, Type: e.Type, Actor: e.Actor, From: e.FromState, To: e.ToState, Detail: d})
	}
	return out
}

func (s *Server) listCases(c echo.Context) error {
	page, err := pageOf(c, 500)
	if err != nil {
		return err
	}
	views, next, err := s.cases.List(c.Request().Context(), principal(c),
		cases.Filter{SellerID: c.QueryParam("seller_id"), State: c.QueryParam("state"), Page: page})
	if err != nil {
		return err
	}
	out := make([]CaseJSON, len(views))
	for i, v := range views {
		out[i] = caseJSON(v)
	}
	return c.JSON(http.StatusOK, map[string]any{"cases": out, "next_cursor": nextCursor(next)})
}

func (s *Server) getCase(c echo.Context) error {
	v, err := s.cases.Case(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, caseJSON(v))
}

type appealBody struct {
	RootCause          string   `json:"root_cause" text:"free"`
	CorrectiveActions  string   `json:"corrective_actions" text:"free"`
	PreventiveMeasures string   `json:"preventive_measures" text:"free"`
	AttachmentIDs      []string `json:"attachment_ids"`
}

func (b appealBody) plan() cases.Plan {
	return cases.Plan{RootCause: b.RootCause, CorrectiveActions: b.CorrectiveActions, PreventiveMeasures: b.PreventiveMeasures,
		AttachmentIDs: b.AttachmentIDs}
}

// submitAppeal takes a seller's Plan of Action; with an Idempotency-Key, a retry
// gets the first answer again.
func (s *Server) submitAppeal(c echo.Context) error {
	var req appealBody
	if err := bind(c, &req); err != nil {
		return err
	}
	ap, err := s.cases.SubmitAppeal(c.Request().Context(), principal(c), c.Param("id"), c.Request().Header.Get("Idempotency-Key"), req.plan())
	if err != nil {
		return err
	}
	out := appealJSON(ap)
	if req.AttachmentIDs != nil {
		out.AttachmentIDs = req.AttachmentIDs
	}
	return c.JSON(http.StatusCreated, map[string]any{"appeal": out})
}

func (s *Server) listAppeals(c echo.Context) error {
	page, err := pageOf(c, 1000)
	if err != nil {
		return err
	}
	rows, next, err := s.cases.Appeals(c.Request().Context(), c.QueryParam("status"), page)
	if err != nil {
		return err
	}
	out := make([]AppealJSON, len(rows))
	for i, a := range rows {
		out[i] = appealJSON(a)
	}
	return c.JSON(http.StatusOK, map[string]any{"appeals": out, "next_cursor": nextCursor(next)})
}

type decisionBody struct {
	Decision   health.Decision `json:"decision"`
	ReasonCode string          `json:"reason_code"`
	Message    string          `json:"message" text:"free"`
}

func (b decisionBody) decision() cases.Decision {
	return cases.Decision{Decision: b.Decision, ReasonCode: b.ReasonCode, Message: b.Message}
}

func (s *Server) decideAppeal(c echo.Context) error {
	var req decisionBody
	if err := bind(c, &req); err != nil {
		return err
	}
	ap, v, err := s.cases.Decide(c.Request().Context(), principal(c), c.Param("id"), req.decision())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"appeal": appealJSON(ap), "case": caseJSON(v)})
}

type policyCaseBody struct {
	SellerID  string `json:"seller_id"`
	ListingID string `json:"listing_id"`
	Violation string `json:"violation"`
	Note      string `json:"note" text:"free"`
}

// openPolicyCase lets a reviewer open a policy-violation case: the listing is
// deactivated at once, with the reviewer's note as the statement of reasons.
func (s *Server) openPolicyCase(c echo.Context) error {
	var req policyCaseBody
	if err := bind(c, &req); err != nil {
		return err
	}
	v, err := s.cases.OpenPolicyCase(c.Request().Context(), principal(c),
		cases.PolicyCase{SellerID: req.SellerID, ListingID: req.ListingID, Violation: req.Violation, Note: strings.TrimSpace(req.Note)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, caseJSON(v))
}

type reasonBody struct {
	ReasonCode string `json:"reason_code"`
	Message    string `json:"message" text:"free"`
}

// withdrawCase lets a reviewer take back an open case.
func (s *Server) withdrawCase(c echo.Context) error {
	var req reasonBody
	if err := bind(c, &req); err != nil {
		return err
	}
	v, err := s.cases.Withdraw(c.Request().Context(), principal(c), c.Param("id"), cases.Reason{ReasonCode: req.ReasonCode, Message: req.Message})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, caseJSON(v))
}

type confirmationBody struct {
	Decision   health.ConfirmDecision `json:"decision"`
	ReasonCode string                 `json:"reason_code"`
	Message    string                 `json:"message" text:"free"`
}

// confirmCase takes a reviewer's answer to a suspension waiting for confirmation.
func (s *Server) confirmCase(c echo.Context) error {
	var req confirmationBody
	if err := bind(c, &req); err != nil {
		return err
	}
	v, err := s.cases.Confirm(c.Request().Context(), principal(c), c.Param("id"), req.Decision,
		cases.Reason{ReasonCode: req.ReasonCode, Message: req.Message})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, caseJSON(v))
}

type messageBody struct {
	Body          string   `json:"body" text:"free"`
	AttachmentIDs []string `json:"attachment_ids"`
}

// MessageJSON is the CaseMessage schema of api/openapi.yaml.
type MessageJSON struct {
	ID            string    `json:"id"`
	CaseID        string    `json:"case_id"`
	Author        string    `json:"author"`
	AuthorName    string    `json:"author_name"`
	Body          string    `json:"body"`
	AttachmentIDs []string  `json:"attachment_ids"`
	At            time.Time `json:"at"`
}

// postMessage adds a message to a case's conversation, from its seller or a reviewer.
func (s *Server) postMessage(c echo.Context) error {
	var req messageBody
	if err := bind(c, &req); err != nil {
		return err
	}
	m, err := s.cases.PostMessage(c.Request().Context(), principal(c), c.Param("id"), cases.Message{Body: req.Body, AttachmentIDs: req.AttachmentIDs})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"message": MessageJSON{ID: m.ID, CaseID: m.CaseID, Author: m.Author,
		AuthorName: m.AuthorName, Body: m.Body, AttachmentIDs: m.Attachments(), At: m.At}})
}

// claimAppealAPI gives an appeal to the reviewer asking.
func (s *Server) claimAppealAPI(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	if err := s.cases.Claim(ctx, p, c.Param("id")); err != nil {
		return err
	}
	ap, err := s.store.Appeal(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"appeal": appealJSON(ap)})
}

// claimCase gives a suspension waiting for confirmation to the reviewer asking.
func (s *Server) claimCase(c echo.Context) error {
	v, err := s.cases.ClaimConfirmation(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, caseJSON(v))
}

type assignmentBody struct {
	ReviewerID string `json:"reviewer_id"`
}

// reassign lets an admin give an appeal's (or a case's) claim to a reviewer.
func (s *Server) reassign(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req assignmentBody
		if err := bind(c, &req); err != nil {
			return err
		}
		ctx, p, id := c.Request().Context(), principal(c), c.Param("id")
		if err := s.cases.Reassign(ctx, p, kind, id, req.ReviewerID); err != nil {
			return err
		}
		if kind == "appeal" {
			ap, err := s.store.Appeal(ctx, id)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, map[string]any{"appeal": appealJSON(ap)})
		}
		v, err := s.cases.Case(ctx, p, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, caseJSON(v))
	}
}

// uploadAttachment takes a file (multipart field "file") for a case.
func (s *Server) uploadAttachment(c echo.Context) error {
	file, ok, err := formFile(c)
	switch {
	case errors.Is(err, cases.ErrTooLarge):
		return errTooLargeFile
	case err != nil:
		return err
	case !ok:
		return invalid("no file", map[string]string{"file": "is required: send the file as the multipart/form-data field \"file\""})
	}
	a, err := s.cases.Attach(c.Request().Context(), principal(c), c.Param("id"), file.Name, file.Data)
	if errors.Is(err, cases.ErrTooLarge) {
		return errTooLargeFile
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"attachment": attachmentJSON(a)})
}

var errTooLargeFile = &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: cases.ErrTooLarge.Error()}

// formFile reads the multipart field "file" of the API's upload and the web's
// Plan of Action form alike: ok is false when the request has no file (or is no
// multipart form), and cases.ErrTooLarge a file past the limit, refused before
// it is read. What the file is, the use case judges.
func formFile(c echo.Context) (file cases.Upload, ok bool, err error) {
	fh, err := c.FormFile("file")
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return file, false, cases.ErrTooLarge
	case err != nil:
		return file, false, nil
	case fh.Size > cases.MaxAttachment:
		return file, false, cases.ErrTooLarge
	}
	f, err := fh.Open()
	if err != nil {
		return file, false, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, cases.MaxAttachment+1))
	if err != nil {
		return file, false, err
	}
	return cases.Upload{Name: fh.Filename, Data: data}, true, nil
}

// downloadAttachment sends a file to those who may see its case, always as a
// download and never sniffed into something else.
func (s *Server) downloadAttachment(c echo.Context) error {
	a, err := s.cases.Download(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, a.ContentType, a.Data)
}
