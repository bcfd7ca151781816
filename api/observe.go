package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/telemetry"
)

// HeaderRequestID names a request in logs; a client's own is kept when sane.
const HeaderRequestID = "X-Request-Id"

// observe names every request (X-Request-Id, kept or made, and answered back),
// gives its context a logger that carries the id (and the id itself, which the
// Temporal headers carry on to the workflows it starts), logs one access line,
// and counts it by route pattern (never the raw URL, so ids do not make a metric
// per seller), method and answer. It runs first, so a request refused by any
// other middleware is logged and counted too: the error is answered here, where
// its status becomes known.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		r := c.Request()
		id := r.Header.Get(HeaderRequestID)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		c.Response().Header().Set(HeaderRequestID, id)
		log := s.log.With(telemetry.RequestIDKey, id)
		ctx := telemetry.WithLogger(telemetry.WithRequestID(r.Context(), id), log)
		c.SetRequest(r.WithContext(ctx))
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path() // a pattern; an unmatched request gets a catch-all's ("/v1/*") or none
		if route == "" {
			route = "unmatched"
		}
		status, took := c.Response().Status, time.Since(start)
		s.metrics.ObserveHTTP(route, r.Method, status, took)
		level := slog.LevelInfo
		if probe(route) && status == http.StatusOK {
			level = slog.LevelDebug // probes and scrapes every few seconds would drown the rest
		}
		log.LogAttrs(ctx, level, "request", slog.String("method", r.Method), slog.String("route", route),
			slog.String("path", r.URL.Path), slog.Int("status", status), slog.Int64("bytes", c.Response().Size),
			slog.Float64("ms", float64(took.Microseconds())/1000), slog.String("client", c.RealIP()))
		return nil
	}
}

func probe(route string) bool {
	return route == "/livez" || route == "/healthz" || route == "/metrics"
}

// saneRequestID accepts 1 to 128 characters of letters, digits and ._:- so a
// client's id can stand in a log line and a header as it is.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
