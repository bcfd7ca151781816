package api

import (
	"time"

	"github.com/labstack/echo/v4"
)

// observe counts every request by its route pattern (never the raw URL, so ids
// do not make a metric per seller), method and answer. It runs first, so a
// request refused by any other middleware is counted too: the error is answered
// here, where its status becomes known.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path() // a pattern; an unmatched request gets a catch-all's ("/v1/*") or none
		if route == "" {
			route = "unmatched"
		}
		s.metrics.ObserveHTTP(route, c.Request().Method, c.Response().Status, time.Since(start))
		return nil
	}
}
