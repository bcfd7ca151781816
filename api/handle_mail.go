package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/store"
)

// MailJSON is one mail of the outbox as the API shows it (MAIL in openapi.yaml).
type MailJSON struct {
	ID        string     `json:"id"`
	Template  string     `json:"template"`
	CaseID    *string    `json:"case_id"`
	To        []string   `json:"to"`
	Subject   string     `json:"subject"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	LastError *string    `json:"last_error"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at"`
	FailedAt  *time.Time `json:"failed_at"`
}

func mailJSON(m store.OutboxMail) MailJSON {
	to := m.To()
	if to == nil {
		to = []string{}
	}
	return MailJSON{ID: m.ID, Template: m.Template, CaseID: m.CaseID, To: to, Subject: m.Subject, Status: m.Status(),
		Attempts: m.Attempts, LastError: m.LastError, CreatedAt: m.CreatedAt, SentAt: m.SentAt, FailedAt: m.FailedAt}
}

// defaultMailPage is the size of a page of mail when the request names none.
const defaultMailPage = 100

func (s *Server) listMail(c echo.Context) error {
	f := store.MailFilter{Status: c.QueryParam("status"), Limit: defaultMailPage}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return invalid("bad limit", map[string]string{"limit": "must be a whole number from 1 to 1000"})
		}
		f.Limit = n
	}
	if v := c.QueryParam("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) == 0 {
			return invalid("bad cursor", map[string]string{"cursor": "must be a next_cursor this list answered"})
		}
		f.After = string(b)
	}
	want := f.Limit
	f.Limit++ // one more, to learn whether another page follows
	rows, err := s.mails.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	var next *string
	if len(rows) > want {
		rows = rows[:want]
		cur := base64.RawURLEncoding.EncodeToString([]byte(rows[want-1].ID))
		next = &cur
	}
	out := make([]MailJSON, len(rows))
	for i, m := range rows {
		out[i] = mailJSON(m)
	}
	return c.JSON(http.StatusOK, map[string]any{"mail": out, "next_cursor": next})
}

func (s *Server) resendMail(c echo.Context) error {
	m, err := s.mails.Resend(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	m.FailedAt = nil // as it now stands: pending again
	return c.JSON(http.StatusAccepted, map[string]any{"mail": mailJSON(m)})
}
