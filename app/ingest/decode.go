package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/accounthealth/accounthealth/health"
)

// DecodeEvent reads one event from its JSON object. It returns every problem it
// finds, keyed by field name, so a client can fix a batch in one go. Fields that the
// type does not use are ignored.
func DecodeEvent(raw json.RawMessage) (health.Event, health.Problems) {
	obj, ok := scanFlatObject(raw)
	if !ok {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil || m == nil {
			return health.Event{}, health.Problems{"": "must be a JSON object"}
		}
		obj = obj[:0]
		for k, v := range m {
			obj = append(obj, member{k, v})
		}
	}
	r := fieldReader{obj: obj, problems: health.Problems{}}
	e := health.Event{
		ID:   r.id("id"),
		Type: health.EventType(r.str("type", true)),
		At:   r.time("at"),
	}
	switch e.Type {
	case health.OrderPlaced:
		e.SellerID = r.id("seller_id")
		e.OrderID = r.id("order_id")
		e.ShipBy = r.time("ship_by")
		e.DeliverBy = r.time("deliver_by")
		if !e.ShipBy.IsZero() && !e.At.IsZero() && e.ShipBy.Before(e.At) {
			r.problems["ship_by"] = "must not be before the order was placed (at)"
		}
		if !e.DeliverBy.IsZero() && !e.ShipBy.IsZero() && e.DeliverBy.Before(e.ShipBy) {
			r.problems["deliver_by"] = "must not be before ship_by"
		}
	case health.OrderShipped:
		e.OrderID = r.id("order_id")
		e.TrackingNumber = r.str("tracking_number", false)
		e.Carrier = r.str("carrier", false)
		if utf8.RuneCountInString(e.TrackingNumber) > health.MaxIDLength {
			r.problems["tracking_number"] = fmt.Sprintf("must be at most %d characters", health.MaxIDLength)
		}
		if utf8.RuneCountInString(e.Carrier) > health.MaxIDLength {
			r.problems["carrier"] = fmt.Sprintf("must be at most %d characters", health.MaxIDLength)
		}
	case health.TrackingScanned, health.OrderDelivered, health.Chargeback, health.OrderReturned:
		e.OrderID = r.id("order_id")
	case health.OrderCancelled:
		e.OrderID = r.id("order_id")
		e.By = r.oneOf("by", health.CancelledBySeller, health.CancelledByBuyer, health.CancelledExpired)
	case health.RefundIssued:
		e.OrderID = r.id("order_id")
		e.By = r.oneOf("by", health.RefundedBySeller, health.RefundedByMarketplace)
	case health.AToZClaim:
		e.OrderID = r.id("order_id")
		e.Outcome = r.oneOf("outcome", health.ClaimOpen, health.ClaimGranted, health.ClaimDenied)
	case health.Feedback:
		e.OrderID = r.id("order_id")
		e.Rating = r.rating("rating")
	case health.BuyerMessage:
		e.SellerID = r.id("seller_id")
		e.MessageID = r.id("message_id")
		e.NeedsResponse = r.boolean("needs_response")
	case health.MessageResponse:
		e.MessageID = r.id("message_id")
	case "":
		// already reported as missing
	default:
		r.problems["type"] = fmt.Sprintf("unknown event type %q", e.Type)
	}
	if len(r.problems) == 0 {
		return e, nil
	}
	return e, r.problems
}

type fieldReader struct {
	obj      object
	problems health.Problems
}

func (r fieldReader) raw(name string) (json.RawMessage, bool) {
	v, ok := r.obj.get(name)
	if !ok || string(v) == "null" {
		return nil, false
	}
	return v, true
}

func (r fieldReader) str(name string, required bool) string {
	v, ok := r.raw(name)
	if !ok {
		if required {
			r.problems[name] = "is required"
		}
		return ""
	}
	s, ok := plainString(v)
	if !ok {
		if err := json.Unmarshal(v, &s); err != nil {
			r.problems[name] = "must be a string"
			return ""
		}
		if problem := health.JSONTextProblem(v, s, false); problem != "" {
			r.problems[name] = problem
			return ""
		}
	}
	if required && s == "" {
		r.problems[name] = "must not be empty"
	}
	return s
}

// plainString reads a JSON string without escapes, the usual case, without the
// reflection of json.Unmarshal (a large batch spends much of its time here).
// Anything else is left to json.Unmarshal.
func plainString(v json.RawMessage) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	body := v[1 : len(v)-1]
	for _, c := range body {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	if !utf8.Valid(body) {
		return "", false
	}
	return string(body), true
}

func (r fieldReader) id(name string) string {
	s := r.str(name, true)
	if utf8.RuneCountInString(s) > health.MaxIDLength {
		r.problems[name] = fmt.Sprintf("must be at most %d characters", health.MaxIDLength)
	}
	return s
}

func (r fieldReader) time(name string) time.Time {
	s := r.str(name, true)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.problems[name] = fmt.Sprintf("%q is not an RFC 3339 time such as 2026-03-01T12:00:00Z", s)
		return time.Time{}
	}
	if t.Year() < 2000 || t.Year() > 2200 {
		r.problems[name] = "must be a year between 2000 and 2200"
		return time.Time{}
	}
	return t.UTC()
}

func (r fieldReader) oneOf(name string, allowed ...string) string {
	s := r.str(name, true)
	if s == "" {
		return ""
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	r.problems[name] = fmt.Sprintf("%q must be one of %v", s, allowed)
	return ""
}

// rating reads a whole number from 1 to 5 from the number as written, not as a
// float64: 4.9999999999999999 parses to 5.0 but is no whole number. A zero
// fraction (5.0) is allowed, as some encoders write whole numbers so.
func (r fieldReader) rating(name string) int {
	v, ok := r.raw(name)
	if !ok {
		r.problems[name] = "is required"
		return 0
	}
	n := bytes.TrimSpace(v)
	if i := bytes.IndexByte(n, '.'); i >= 0 && i+1 < len(n) && len(bytes.TrimRight(n[i+1:], "0")) == 0 {
		n = n[:i]
	}
	if len(n) != 1 || n[0] < '1' || n[0] > '5' {
		r.problems[name] = "must be a whole number from 1 to 5"
		return 0
	}
	return int(n[0] - '0')
}

func (r fieldReader) boolean(name string) bool {
	v, ok := r.raw(name)
	if !ok {
		r.problems[name] = "is required"
		return false
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		r.problems[name] = "must be true or false"
	}
	return b
}
