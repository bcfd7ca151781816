package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
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
	events, problems := decodeEvents(raw)
	fields := map[string]string{}
	for i, p := range problems {
		addProblems(fields, i, p)
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

// decodeEvents decodes a batch on every core: a 10,000-event batch otherwise
// spends as long in decoding as the database spends storing it.
func decodeEvents(raw []json.RawMessage) ([]health.Event, []health.Problems) {
	events := make([]health.Event, len(raw))
	problems := make([]health.Problems, len(raw))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(raw)/500))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(raw); i += workers {
				events[i], problems[i] = health.DecodeEvent(raw[i])
			}
		}()
	}
	wg.Wait()
	return events, problems
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
