package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// devMail shows what the dev SMTP capture received: the latest messages it
// holds in memory, and how many there are in all (every one is in the data dir).
func (s *Server) devMail(c echo.Context) error {
	msgs := s.mailbox.Messages()
	return c.JSON(http.StatusOK, map[string]any{"messages": msgs, "total": s.mailbox.Total(), "held": len(msgs)})
}
