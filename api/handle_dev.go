package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/activities/mail/capture"
)

// devMail shows what the dev SMTP capture received: the latest capture.Keep
// messages, and how many there are in all (every one is in the data dir).
func (s *Server) devMail(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"messages": s.mailbox.Messages(), "total": s.mailbox.Total(), "held": capture.Keep})
}
