package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accounthealth/accounthealth/activities/killpoint"
	"github.com/accounthealth/accounthealth/app/ingest"
)

// postEvents takes a batch all or nothing: one bad event rejects the batch with
// the problems of each bad one by index.
func (s *Server) postEvents(c echo.Context) error {
	var req struct {
		Events *[]json.RawMessage `json:"events"`
	}
	// The events' fields are checked one by one as they are decoded (app/ingest),
	// so the batch skips bind's walk over every string of a body of up to 64 MiB.
	b, err := readBody(c)
	if err != nil {
		return err
	}
	if err := bindBytes(b, &req); err != nil {
		return err
	}
	if req.Events == nil {
		return invalid("the body must be {\"events\":[…]}", map[string]string{"events": "is required"})
	}
	if len(*req.Events) > MaxEventsInBody {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
			Message: fmt.Sprintf("at most %d events in one batch; split it", MaxEventsInBody)}
	}
	res, problems, err := s.ingest.Batch(c.Request().Context(), *req.Events, time.Now())
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		fields := map[string]string{}
		for _, p := range problems {
			key := fmt.Sprintf("events[%d]", p.Index)
			if p.Field != "" {
				key += "." + p.Field
			}
			fields[key] = p.Problem
		}
		what := "1 event has problems"
		if n := ingest.Events(problems); n != 1 {
			what = fmt.Sprintf("%d events have problems", n)
		}
		return invalid("the batch was rejected: "+what+"; nothing was stored", fields)
	}
	killpoint.Hit(killpoint.EventsAfterCommit)
	return c.JSON(http.StatusOK, res)
}
