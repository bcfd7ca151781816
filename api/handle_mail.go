package api

import (
	"net/http"
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

func (s *Server) listMail(c echo.Context) error {
	page, err := pageOf(c, 100)
	if err != nil {
		return err
	}
	rows, next, err := s.mails.List(c.Request().Context(), c.QueryParam("status"), page)
	if err != nil {
		return err
	}
	out := make([]MailJSON, len(rows))
	for i, m := range rows {
		out[i] = mailJSON(m)
	}
	return c.JSON(http.StatusOK, map[string]any{"mail": out, "next_cursor": nextCursor(next)})
}

func (s *Server) resendMail(c echo.Context) error {
	m, err := s.mails.Resend(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	m.FailedAt = nil // as it now stands: pending again
	return c.JSON(http.StatusAccepted, map[string]any{"mail": mailJSON(m)})
}
