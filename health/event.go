package health

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// EventType names a marketplace event.
type EventType string

const (
	OrderPlaced     EventType = "order_placed"
	OrderShipped    EventType = "order_shipped"
	TrackingScanned EventType = "tracking_scanned"
	OrderDelivered  EventType = "order_delivered"
	OrderCancelled  EventType = "order_cancelled"
	AToZClaim       EventType = "a_to_z_claim"
	Chargeback      EventType = "chargeback"
	Feedback        EventType = "feedback"
	BuyerMessage    EventType = "buyer_message"
	MessageResponse EventType = "message_response"
)

// Claim outcomes and cancellers.
const (
	ClaimOpen         = "open"
	ClaimGranted      = "granted"
	ClaimDenied       = "denied"
	CancelledBySeller = "seller"
	CancelledByBuyer  = "buyer"
)

// MaxIDLength bounds every identifier an event carries.
const MaxIDLength = 128

// Event is one marketplace event, decoded and checked field by field.
type Event struct {
	ID             string
	Type           EventType
	At             time.Time
	SellerID       string
	OrderID        string
	ShipBy         time.Time
	DeliverBy      time.Time
	TrackingNumber string
	Carrier        string
	By             string
	Outcome        string
	Rating         int
	MessageID      string
	NeedsResponse  bool
}

// RefersToOrder reports whether the event is about an order placed earlier.
func (e Event) RefersToOrder() bool {
	switch e.Type {
	case OrderShipped, TrackingScanned, OrderDelivered, OrderCancelled, AToZClaim, Chargeback, Feedback:
		return true
	}
	return false
}

// Problems maps a field name to what is wrong with it.
type Problems map[string]string

// DecodeEvent reads one event from its JSON object. It returns every problem it
// finds, keyed by field name, so a client can fix a batch in one go. Fields that the
// type does not use are ignored.
func DecodeEvent(raw json.RawMessage) (Event, Problems) {
	obj, ok := scanFlatObject(raw)
	if !ok {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil || m == nil {
			return Event{}, Problems{"": "must be a JSON object"}
		}
		obj = obj[:0]
		for k, v := range m {
			obj = append(obj, member{k, v})
		}
	}
	r := fieldReader{obj: obj, problems: Problems{}}
	e := Event{
		ID:   r.id("id"),
		Type: EventType(r.str("type", true)),
		At:   r.time("at"),
	}
	switch e.Type {
	case OrderPlaced:
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
	case OrderShipped:
		e.OrderID = r.id("order_id")
		e.TrackingNumber = r.str("tracking_number", false)
		e.Carrier = r.str("carrier", false)
		if utf8.RuneCountInString(e.TrackingNumber) > MaxIDLength {
			r.problems["tracking_number"] = fmt.Sprintf("must be at most %d characters", MaxIDLength)
		}
		if utf8.RuneCountInString(e.Carrier) > MaxIDLength {
			r.problems["carrier"] = fmt.Sprintf("must be at most %d characters", MaxIDLength)
		}
	case TrackingScanned, OrderDelivered, Chargeback:
		e.OrderID = r.id("order_id")
	case OrderCancelled:
		e.OrderID = r.id("order_id")
		e.By = r.oneOf("by", CancelledBySeller, CancelledByBuyer)
	case AToZClaim:
		e.OrderID = r.id("order_id")
		e.Outcome = r.oneOf("outcome", ClaimOpen, ClaimGranted, ClaimDenied)
	case Feedback:
		e.OrderID = r.id("order_id")
		e.Rating = r.rating("rating")
	case BuyerMessage:
		e.SellerID = r.id("seller_id")
		e.MessageID = r.id("message_id")
		e.NeedsResponse = r.boolean("needs_response")
	case MessageResponse:
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

// object is a JSON object's members in order; a name given twice means its last
// value, as encoding/json has it.
type object []member

type member struct {
	name  string
	value json.RawMessage
}

func (o object) get(name string) (json.RawMessage, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].name == name {
			return o[i].value, true
		}
	}
	return nil, false
}

// scanFlatObject splits a JSON object whose values are all scalars (every event
// is one) into its members, without reflection or a map: decoding is most of the
// API's own work on a large batch. Anything else (a nested value, an escaped
// name, input that is not well-formed) says ok=false and is left to
// encoding/json, so the two agree on every input.
func scanFlatObject(b []byte) (obj object, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	obj = make(object, 0, 8)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return obj, skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end := stringEnd(b, i)
		if end < 0 || bytes.IndexByte(b[i:end], '\\') >= 0 || !utf8.Valid(b[i+1:end-1]) {
			return nil, false
		}
		name := string(b[i+1 : end-1])
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		start := i
		switch {
		case i >= len(b):
			return nil, false
		case b[i] == '"':
			if i = stringEnd(b, i); i < 0 {
				return nil, false
			}
		case b[i] == '{' || b[i] == '[':
			return nil, false
		default:
			for i < len(b) && b[i] != ',' && b[i] != '}' && !isSpace(b[i]) {
				i++
			}
			if !json.Valid(b[start:i]) {
				return nil, false
			}
		}
		obj = append(obj, member{name, json.RawMessage(b[start:i])})
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, false
		}
		if b[i] == '}' {
			return obj, skipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return nil, false
		}
		i = skipSpace(b, i+1)
	}
}

// stringEnd is the index just past the JSON string starting at b[i], or -1.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '\\':
			j++
			if j >= len(b) {
				return -1
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) {
					return -1
				}
				for _, h := range b[j+1 : j+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return -1
					}
				}
				j += 4
			default:
				return -1
			}
		case c == '"':
			return j + 1
		case c < 0x20:
			return -1
		}
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

type fieldReader struct {
	obj      object
	problems Problems
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
	if utf8.RuneCountInString(s) > MaxIDLength {
		r.problems[name] = fmt.Sprintf("must be at most %d characters", MaxIDLength)
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
