package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"

	"github.com/accounthealth/accounthealth/app"
	"github.com/accounthealth/accounthealth/store"
)

// Error is the API's error (the Error schema of api/openapi.yaml): {"error":{"code","message","fields"}}.
type Error struct {
	Status  int               `json:"-"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func invalid(message string, fields map[string]string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "validation_failed", Message: message, Fields: fields}
}

func notFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

func conflict(message string) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Message: message}
}

var (
	errUnauthorized = &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid API key is required: Authorization: Bearer <key>"}
	errForbidden    = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "this key's role may not do this"}
)

// retryAfter is the Retry-After (seconds) of a 503: long enough for a database
// fail-over or a restart to show, short enough that a client does not give up.
const retryAfter = "5"

// unavailable reports whether err is a dependency being away rather than a
// failure of the request: the database down or out of reach, Temporal's
// frontend not answering.
func unavailable(err error) bool {
	var tu *serviceerror.Unavailable
	return store.Unavailable(err) || errors.As(err, &tu)
}

// errorHandler is the one place where errors become answers.
func errorHandler(log *slog.Logger, page func(echo.Context, *Error)) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var e *Error
		var ae *app.Error
		var he *echo.HTTPError
		switch {
		case errors.As(err, &e):
		case errors.As(err, &ae):
			e = fromApp(ae)
		case errors.As(err, &he):
			e = fromEcho(he)
		case unavailable(err):
			// The database or Temporal is away: the client may ask again shortly.
			log.Warn("request failed: a dependency is unavailable", "method", c.Request().Method, "path", c.Path(), "err", err)
			c.Response().Header().Set("Retry-After", retryAfter)
			e = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
				Message: "the service cannot reach its database or workflow engine just now; try again in a few seconds"}
		default:
			log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
			e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; it has been logged"}
		}
		if e.Status == http.StatusUnauthorized {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, "Bearer")
		}
		if !isAPI(c.Request().URL.Path) {
			page(c, e)
			return
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(e.Status)
			return
		}
		_ = c.JSON(e.Status, map[string]*Error{"error": e})
	}
}

// fromApp maps a use case's refusal to its answer.
func fromApp(ae *app.Error) *Error {
	switch ae.Kind {
	case app.KindInvalid:
		return invalid(ae.Message, ae.Fields)
	case app.KindNotFound:
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: ae.Message}
	case app.KindConflict:
		return conflict(ae.Message)
	case app.KindForbidden:
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: ae.Message}
	case app.KindFailed:
		return &Error{Status: http.StatusInternalServerError, Code: "not_recorded", Message: ae.Message}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: ae.Message}
}

func fromEcho(he *echo.HTTPError) *Error {
	msg := http.StatusText(he.Code)
	if m, ok := he.Message.(string); ok && m != "" {
		msg = m
	}
	code := map[int]string{
		http.StatusNotFound:              "not_found",
		http.StatusMethodNotAllowed:      "method_not_allowed",
		http.StatusRequestEntityTooLarge: "too_large",
		http.StatusTooManyRequests:       "rate_limited",
		http.StatusUnauthorized:          "unauthorized",
		http.StatusForbidden:             "forbidden",
		http.StatusBadRequest:            "validation_failed",
		http.StatusUnsupportedMediaType:  "validation_failed",
	}[he.Code]
	if code == "" {
		code = "error"
	}
	if he.Code == http.StatusUnsupportedMediaType {
		he.Code = http.StatusBadRequest
	}
	return &Error{Status: he.Code, Code: code, Message: msg}
}
