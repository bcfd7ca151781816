package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// livez answers that the process serves HTTP, whatever its dependencies: a
// liveness probe that failed on a database outage would restart healthy pods.
func livez(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readiness checks the dependencies: the database and Temporal must answer
// (503 otherwise); the mail relay is reported but does not make the service
// unready, since mail waits in the outbox and is retried.
type readiness struct {
	database, temporal func(context.Context) error
	smtp               *smtpHealth
	log                *slog.Logger
}

func (s *Server) healthz(c echo.Context) error { return s.ready.healthz(c) }

func (r *readiness) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "temporal": "ok"}
	status := http.StatusOK
	// Anyone may ask, so the answer names no hosts or users; the log has the cause.
	if err := r.database(ctx); err != nil {
		checks["database"], status = "unavailable", http.StatusServiceUnavailable
		r.log.Error("health check: database", "err", err)
	}
	if err := r.temporal(ctx); err != nil {
		checks["temporal"], status = "unavailable", http.StatusServiceUnavailable
		r.log.Error("health check: temporal", "err", err)
	}
	if r.smtp.probe != nil {
		checks["smtp"] = r.smtp.check(ctx, r.log.Warn)
	}
	body := map[string]any{"status": "ok", "checks": checks}
	if status != http.StatusOK {
		body["status"] = "unavailable"
	}
	return c.JSON(status, body)
}

// OpsConfig is what the worker's own listener needs.
type OpsConfig struct {
	Database, Temporal func(context.Context) error
	SMTPProbe          func(context.Context) error
	Metrics            http.Handler // served at /metrics when set
	Logger             *slog.Logger
}

// OpsHandler serves /livez, /healthz and /metrics for a process without the
// API (the worker), with the API's meaning for each.
func OpsHandler(cfg OpsConfig) http.Handler {
	r := &readiness{database: cfg.Database, temporal: cfg.Temporal, smtp: &smtpHealth{probe: cfg.SMTPProbe}, log: cfg.Logger}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/livez", livez)
	e.GET("/healthz", r.healthz)
	if cfg.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(cfg.Metrics))
	}
	return e
}

// smtpTTL is how long a probe of the relay is believed: health checks come
// every few seconds from every prober, and need not each open an SMTP session.
const smtpTTL = 10 * time.Second

// smtpHealth probes the relay at most once per smtpTTL.
type smtpHealth struct {
	probe func(context.Context) error
	mu    sync.Mutex
	at    time.Time
	last  string
}

func (h *smtpHealth) check(ctx context.Context, warn func(string, ...any)) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && time.Since(h.at) < smtpTTL {
		return h.last
	}
	h.last = "ok"
	if err := h.probe(ctx); err != nil {
		h.last = "degraded: " + smtpProblem(err)
		warn("health check: smtp", "err", err)
	}
	h.at = time.Now()
	return h.last
}

// smtpProblem says what is wrong with the relay without naming it.
func smtpProblem(err error) string {
	var te *textproto.Error
	var op *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return "no answer in time"
	case errors.As(err, &te):
		return "the relay refuses connections"
	case errors.As(err, &op):
		return "unreachable"
	}
	return "the relay does not answer as expected"
}
