package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// devMail shows what the dev SMTP capture received.
func (s *Server) devMail(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"messages": s.mailbox.Messages()})
}
