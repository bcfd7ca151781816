package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
)

// postEvents takes a batch all or nothing: every event is checked first, and one
// bad event rejects the batch with the problems of each bad one by index.
func (s *Server) postEvents(c echo.Context) error {
	var req struct {
		Events *[]json.RawMessage `json:"events"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Events == nil {
		return invalid("the body must be {\"events\":[…]}", map[string]string{"events": "is required"})
	}
	raw := *req.Events
	if len(raw) > MaxEventsInBody {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
			Message: fmt.Sprintf("at most %d events in one batch; split it", MaxEventsInBody)}
	}
	events := make([]health.Event, len(raw))
	fields := map[string]string{}
	for i, r := range raw {
		e, problems := health.DecodeEvent(r)
		events[i] = e
		addProblems(fields, i, problems)
	}
	if len(fields) > 0 {
		return invalid(fmt.Sprintf("the batch was rejected: %s; nothing was stored", countBad(fields)), fields)
	}
	res, err := s.store.Ingest(c.Request().Context(), events, time.Now())
	var be *store.BatchError
	if errors.As(err, &be) {
		for i, p := range be.Problems {
			addProblems(fields, i, p)
		}
		return invalid(fmt.Sprintf("the batch was rejected: %s; nothing was stored", countBad(fields)), fields)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func addProblems(fields map[string]string, i int, p health.Problems) {
	for f, msg := range p {
		key := fmt.Sprintf("events[%d]", i)
		if f != "" {
			key += "." + f
		}
		fields[key] = msg
	}
}

func countBad(fields map[string]string) string {
	seen := map[string]bool{}
	for k := range fields {
		var i int
		if _, err := fmt.Sscanf(k, "events[%d]", &i); err == nil {
			seen[fmt.Sprint(i)] = true
		}
	}
	if len(seen) == 1 {
		return "1 event has problems"
	}
	return fmt.Sprintf("%d events have problems", len(seen))
}
