package ingest_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/app/ingest"
	"github.com/accounthealth/accounthealth/health"
)

// validEvents holds one valid event of every type, with the fields it requires.
func validEvents() map[health.EventType]map[string]any {
	return map[health.EventType]map[string]any{
		health.OrderPlaced: {"id": "e1", "type": "order_placed", "at": "2026-03-01T12:00:00Z",
			"seller_id": "s1", "order_id": "o1", "ship_by": "2026-03-03T12:00:00Z", "deliver_by": "2026-03-08T12:00:00Z"},
		health.OrderShipped: {"id": "e2", "type": "order_shipped", "at": "2026-03-02T12:00:00Z",
			"order_id": "o1", "tracking_number": "1Z999", "carrier": "UPS"},
		health.TrackingScanned: {"id": "e3", "type": "tracking_scanned", "at": "2026-03-02T13:00:00Z", "order_id": "o1"},
		health.OrderDelivered:  {"id": "e4", "type": "order_delivered", "at": "2026-03-05T09:00:00Z", "order_id": "o1"},
		health.OrderCancelled:  {"id": "e5", "type": "order_cancelled", "at": "2026-03-01T13:00:00Z", "order_id": "o1", "by": "seller"},
		health.AToZClaim:       {"id": "e6", "type": "a_to_z_claim", "at": "2026-03-10T12:00:00Z", "order_id": "o1", "outcome": "granted"},
		health.Chargeback:      {"id": "e7", "type": "chargeback", "at": "2026-03-11T12:00:00Z", "order_id": "o1"},
		health.Feedback:        {"id": "e8", "type": "feedback", "at": "2026-03-12T12:00:00Z", "order_id": "o1", "rating": 2},
		health.BuyerMessage: {"id": "e9", "type": "buyer_message", "at": "2026-03-13T12:00:00Z",
			"seller_id": "s1", "message_id": "m1", "needs_response": true},
		health.MessageResponse: {"id": "e10", "type": "message_response", "at": "2026-03-13T15:00:00Z", "message_id": "m1"},
		health.OrderReturned:   {"id": "e11", "type": "order_returned", "at": "2026-03-14T12:00:00Z", "order_id": "o1"},
		health.RefundIssued:    {"id": "e12", "type": "refund_issued", "at": "2026-03-15T12:00:00Z", "order_id": "o1", "by": "seller"},
	}
}

// requiredFields lists, per type, the fields whose absence must be named.
var requiredFields = map[health.EventType][]string{
	health.OrderPlaced:     {"id", "type", "at", "seller_id", "order_id", "ship_by", "deliver_by"},
	health.OrderShipped:    {"id", "type", "at", "order_id"},
	health.TrackingScanned: {"id", "type", "at", "order_id"},
	health.OrderDelivered:  {"id", "type", "at", "order_id"},
	health.OrderCancelled:  {"id", "type", "at", "order_id", "by"},
	health.AToZClaim:       {"id", "type", "at", "order_id", "outcome"},
	health.Chargeback:      {"id", "type", "at", "order_id"},
	health.Feedback:        {"id", "type", "at", "order_id", "rating"},
	health.BuyerMessage:    {"id", "type", "at", "seller_id", "message_id", "needs_response"},
	health.MessageResponse: {"id", "type", "at", "message_id"},
	health.OrderReturned:   {"id", "type", "at", "order_id"},
	health.RefundIssued:    {"id", "type", "at", "order_id", "by"},
}

func encode(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func with(base map[string]any, changes map[string]any) map[string]any {
	m := maps.Clone(base)
	for k, v := range changes {
		m[k] = v
	}
	return m
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestDecodeEventValid(t *testing.T) {
	want := map[health.EventType]health.Event{
		health.OrderPlaced: {ID: "e1", Type: health.OrderPlaced, At: ts("2026-03-01T12:00:00Z"), SellerID: "s1", OrderID: "o1",
			ShipBy: ts("2026-03-03T12:00:00Z"), DeliverBy: ts("2026-03-08T12:00:00Z")},
		health.OrderShipped:    {ID: "e2", Type: health.OrderShipped, At: ts("2026-03-02T12:00:00Z"), OrderID: "o1", TrackingNumber: "1Z999", Carrier: "UPS"},
		health.TrackingScanned: {ID: "e3", Type: health.TrackingScanned, At: ts("2026-03-02T13:00:00Z"), OrderID: "o1"},
		health.OrderDelivered:  {ID: "e4", Type: health.OrderDelivered, At: ts("2026-03-05T09:00:00Z"), OrderID: "o1"},
		health.OrderCancelled:  {ID: "e5", Type: health.OrderCancelled, At: ts("2026-03-01T13:00:00Z"), OrderID: "o1", By: "seller"},
		health.AToZClaim:       {ID: "e6", Type: health.AToZClaim, At: ts("2026-03-10T12:00:00Z"), OrderID: "o1", Outcome: "granted"},
		health.Chargeback:      {ID: "e7", Type: health.Chargeback, At: ts("2026-03-11T12:00:00Z"), OrderID: "o1"},
		health.Feedback:        {ID: "e8", Type: health.Feedback, At: ts("2026-03-12T12:00:00Z"), OrderID: "o1", Rating: 2},
		health.BuyerMessage: {ID: "e9", Type: health.BuyerMessage, At: ts("2026-03-13T12:00:00Z"), SellerID: "s1", MessageID: "m1",
			NeedsResponse: true},
		health.MessageResponse: {ID: "e10", Type: health.MessageResponse, At: ts("2026-03-13T15:00:00Z"), MessageID: "m1"},
		health.OrderReturned:   {ID: "e11", Type: health.OrderReturned, At: ts("2026-03-14T12:00:00Z"), OrderID: "o1"},
		health.RefundIssued:    {ID: "e12", Type: health.RefundIssued, At: ts("2026-03-15T12:00:00Z"), OrderID: "o1", By: "seller"},
	}
	events := validEvents()
	if len(events) != 12 || len(want) != 12 {
		t.Fatalf("want all twelve event types, have %d and %d", len(events), len(want))
	}
	for typ, obj := range events {
		got, problems := ingest.DecodeEvent(encode(t, obj))
		if problems != nil {
			t.Errorf("%s: DecodeEvent(%v) problems %v, want none", typ, obj, problems)
			continue
		}
		if !reflect.DeepEqual(got, want[typ]) {
			t.Errorf("%s: DecodeEvent\n got %+v\nwant %+v", typ, got, want[typ])
		}
	}
}

func TestDecodeEventValidVariants(t *testing.T) {
	ev := validEvents()
	tests := []struct {
		name  string
		obj   map[string]any
		check func(health.Event) bool
	}{
		{"time with offset is kept as UTC", with(ev[health.Chargeback], map[string]any{"at": "2026-03-11T14:30:00+02:00"}),
			func(e health.Event) bool {
				return e.At.Equal(ts("2026-03-11T12:30:00Z")) && e.At.Location() == time.UTC
			}},
		{"fractional seconds", with(ev[health.Chargeback], map[string]any{"at": "2026-03-11T12:00:00.123456789Z"}),
			func(e health.Event) bool { return e.At.Nanosecond() == 123456789 }},
		{"empty tracking number allowed", with(ev[health.OrderShipped], map[string]any{"tracking_number": ""}),
			func(e health.Event) bool { return e.TrackingNumber == "" && e.Carrier == "UPS" }},
		{"tracking number absent", func() map[string]any {
			m := maps.Clone(ev[health.OrderShipped])
			delete(m, "tracking_number")
			return m
		}(),
			func(e health.Event) bool { return e.TrackingNumber == "" }},
		{"cancelled by buyer", with(ev[health.OrderCancelled], map[string]any{"by": "buyer"}),
			func(e health.Event) bool { return e.By == health.CancelledByBuyer }},
		{"cancelled as expired", with(ev[health.OrderCancelled], map[string]any{"by": "expired"}),
			func(e health.Event) bool { return e.By == health.CancelledExpired }},
		{"refunded by the marketplace", with(ev[health.RefundIssued], map[string]any{"by": "marketplace"}),
			func(e health.Event) bool { return e.By == health.RefundedByMarketplace }},
		{"claim open", with(ev[health.AToZClaim], map[string]any{"outcome": "open"}),
			func(e health.Event) bool { return e.Outcome == health.ClaimOpen }},
		{"claim denied", with(ev[health.AToZClaim], map[string]any{"outcome": "denied"}),
			func(e health.Event) bool { return e.Outcome == health.ClaimDenied }},
		{"rating 1", with(ev[health.Feedback], map[string]any{"rating": 1}), func(e health.Event) bool { return e.Rating == 1 }},
		{"rating 5", with(ev[health.Feedback], map[string]any{"rating": 5}), func(e health.Event) bool { return e.Rating == 5 }},
		{"needs_response false", with(ev[health.BuyerMessage], map[string]any{"needs_response": false}),
			func(e health.Event) bool { return !e.NeedsResponse }},
		{"ship_by equal to at", with(ev[health.OrderPlaced], map[string]any{"ship_by": "2026-03-01T12:00:00Z"}),
			func(e health.Event) bool { return e.ShipBy.Equal(e.At) }},
		{"deliver_by equal to ship_by", with(ev[health.OrderPlaced], map[string]any{"deliver_by": "2026-03-03T12:00:00Z"}),
			func(e health.Event) bool { return e.DeliverBy.Equal(e.ShipBy) }},
		{"ids of exactly 128 characters", with(ev[health.OrderPlaced], map[string]any{
			"id": strings.Repeat("i", 128), "seller_id": strings.Repeat("s", 128), "order_id": strings.Repeat("o", 128)}),
			func(e health.Event) bool { return len(e.ID) == 128 && len(e.SellerID) == 128 && len(e.OrderID) == 128 }},
		{"unknown fields ignored", with(ev[health.OrderPlaced], map[string]any{"foo": 1, "extra": map[string]any{"a": []int{1}}}),
			func(e health.Event) bool { return e.OrderID == "o1" }},
		{"fields of other types ignored, even malformed", with(ev[health.TrackingScanned], map[string]any{
			"rating": "five", "needs_response": "yes", "ship_by": "tomorrow", "seller_id": 3}),
			func(e health.Event) bool { return e.Rating == 0 && e.SellerID == "" && e.ShipBy.IsZero() }},
	}
	for _, tt := range tests {
		got, problems := ingest.DecodeEvent(encode(t, tt.obj))
		if problems != nil {
			t.Errorf("%s: problems %v, want none", tt.name, problems)
			continue
		}
		if !tt.check(got) {
			t.Errorf("%s: DecodeEvent = %+v", tt.name, got)
		}
	}
}

func TestDecodeEventMissingField(t *testing.T) {
	events := validEvents()
	n := 0
	for typ, fields := range requiredFields {
		for _, f := range fields {
			for _, how := range []string{"absent", "null"} {
				obj := maps.Clone(events[typ])
				if how == "absent" {
					delete(obj, f)
				} else {
					obj[f] = nil
				}
				_, problems := ingest.DecodeEvent(encode(t, obj))
				n++
				if got := problems[f]; got != "is required" {
					t.Errorf("%s without %s (%s): problems[%q] = %q, want \"is required\" (all: %v)", typ, f, how, f, got, problems)
				}
				if len(problems) != 1 {
					t.Errorf("%s without %s (%s): problems %v, want only %q", typ, f, how, problems, f)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no cases ran")
	}
}

func TestDecodeEventEmptyStrings(t *testing.T) {
	events := validEvents()
	for typ, fields := range requiredFields {
		for _, f := range fields {
			if f == "rating" || f == "needs_response" {
				continue // not strings
			}
			obj := with(events[typ], map[string]any{f: ""})
			_, problems := ingest.DecodeEvent(encode(t, obj))
			if problems[f] == "" {
				t.Errorf("%s with %s = \"\": no problem named for %s (all: %v)", typ, f, f, problems)
			}
		}
	}
}

func TestDecodeEventProblems(t *testing.T) {
	ev := validEvents()
	long := strings.Repeat("x", 129)
	tests := []struct {
		name    string
		obj     map[string]any
		field   string
		problem string // a fragment the problem must contain
	}{
		{"rating as a string", with(ev[health.Feedback], map[string]any{"rating": "5"}), "rating", "whole number from 1 to 5"},
		{"rating 0", with(ev[health.Feedback], map[string]any{"rating": 0}), "rating", "whole number from 1 to 5"},
		{"rating 6", with(ev[health.Feedback], map[string]any{"rating": 6}), "rating", "whole number from 1 to 5"},
		{"rating -1", with(ev[health.Feedback], map[string]any{"rating": -1}), "rating", "whole number from 1 to 5"},
		{"rating 4.5", with(ev[health.Feedback], map[string]any{"rating": 4.5}), "rating", "whole number from 1 to 5"},
		{"rating true", with(ev[health.Feedback], map[string]any{"rating": true}), "rating", "whole number from 1 to 5"},
		{"needs_response as a string", with(ev[health.BuyerMessage], map[string]any{"needs_response": "yes"}), "needs_response", "true or false"},
		{"needs_response 1", with(ev[health.BuyerMessage], map[string]any{"needs_response": 1}), "needs_response", "true or false"},
		{"at as a number", with(ev[health.Chargeback], map[string]any{"at": 123}), "at", "must be a string"},
		{"id as a number", with(ev[health.Chargeback], map[string]any{"id": 7}), "id", "must be a string"},
		{"order_id as an object", with(ev[health.Chargeback], map[string]any{"order_id": map[string]any{}}), "order_id", "must be a string"},
		{"type as a number", with(ev[health.Chargeback], map[string]any{"type": 5}), "type", "must be a string"},
		{"tracking_number as a number", with(ev[health.OrderShipped], map[string]any{"tracking_number": 123}), "tracking_number", "must be a string"},
		{"by unknown", with(ev[health.OrderCancelled], map[string]any{"by": "marketplace"}), "by", `"marketplace" must be one of`},
		{"refund by expired", with(ev[health.RefundIssued], map[string]any{"by": "expired"}), "by", `"expired" must be one of [seller marketplace]`},
		{"refund by the buyer", with(ev[health.RefundIssued], map[string]any{"by": "buyer"}), "by", `"buyer" must be one of`},
		{"refund by in capitals", with(ev[health.RefundIssued], map[string]any{"by": "Seller"}), "by", "must be one of"},
		{"return without an order", with(ev[health.OrderReturned], map[string]any{"order_id": ""}), "order_id", "must not be empty"},
		{"outcome unknown", with(ev[health.AToZClaim], map[string]any{"outcome": "refunded"}), "outcome", `"refunded" must be one of`},
		{"outcome in capitals", with(ev[health.AToZClaim], map[string]any{"outcome": "DENIED"}), "outcome", "must be one of"},
		{"unknown type", with(ev[health.Chargeback], map[string]any{"type": "order_refunded"}), "type", `unknown event type "order_refunded"`},
		{"type in capitals", with(ev[health.Chargeback], map[string]any{"type": "Chargeback"}), "type", "unknown event type"},
		{"at with a space", with(ev[health.Chargeback], map[string]any{"at": "2026-01-01 10:00"}), "at", "not an RFC 3339 time"},
		{"at yesterday", with(ev[health.Chargeback], map[string]any{"at": "yesterday"}), "at", "not an RFC 3339 time"},
		{"at without a zone", with(ev[health.Chargeback], map[string]any{"at": "2026-01-01T10:00:00"}), "at", "not an RFC 3339 time"},
		{"at a date only", with(ev[health.Chargeback], map[string]any{"at": "2026-01-01"}), "at", "not an RFC 3339 time"},
		{"at in 1999", with(ev[health.Chargeback], map[string]any{"at": "1999-12-31T23:59:59Z"}), "at", "year between 2000 and 2200"},
		{"at in 2201", with(ev[health.Chargeback], map[string]any{"at": "2201-01-01T00:00:00Z"}), "at", "year between 2000 and 2200"},
		{"ship_by not a time", with(ev[health.OrderPlaced], map[string]any{"ship_by": "soon"}), "ship_by", "not an RFC 3339 time"},
		{"ship_by before at", with(ev[health.OrderPlaced], map[string]any{"ship_by": "2026-03-01T11:59:59Z"}), "ship_by", "must not be before"},
		{"deliver_by before ship_by", with(ev[health.OrderPlaced], map[string]any{"deliver_by": "2026-03-02T12:00:00Z"}), "deliver_by", "must not be before ship_by"},
		{"id over 128", with(ev[health.Chargeback], map[string]any{"id": long}), "id", "at most 128 characters"},
		{"order_id over 128", with(ev[health.Chargeback], map[string]any{"order_id": long}), "order_id", "at most 128 characters"},
		{"seller_id over 128 (order_placed)", with(ev[health.OrderPlaced], map[string]any{"seller_id": long}), "seller_id", "at most 128 characters"},
		{"seller_id over 128 (buyer_message)", with(ev[health.BuyerMessage], map[string]any{"seller_id": long}), "seller_id", "at most 128 characters"},
		{"message_id over 128", with(ev[health.MessageResponse], map[string]any{"message_id": long}), "message_id", "at most 128 characters"},
		{"tracking_number over 128", with(ev[health.OrderShipped], map[string]any{"tracking_number": long}), "tracking_number", "at most 128 characters"},
		{"carrier over 128", with(ev[health.OrderShipped], map[string]any{"carrier": long}), "carrier", "at most 128 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := ingest.DecodeEvent(encode(t, tt.obj))
			if !strings.Contains(problems[tt.field], tt.problem) || problems[tt.field] == "" {
				t.Errorf("problems[%q] = %q, want it to say %q (all: %v)", tt.field, problems[tt.field], tt.problem, problems)
			}
			if len(problems) != 1 {
				t.Errorf("problems %v, want only %q", problems, tt.field)
			}
		})
	}
}

func TestDecodeEventNamesEveryProblem(t *testing.T) {
	// A client fixes a batch in one go: every problem of an event is named at once.
	raw := json.RawMessage(`{"type":"order_placed","at":"yesterday","order_id":"o1","ship_by":3,"seller_id":""}`)
	_, problems := ingest.DecodeEvent(raw)
	want := []string{"at", "deliver_by", "id", "seller_id", "ship_by"}
	if got := slices.Sorted(maps.Keys(problems)); !slices.Equal(got, want) {
		t.Errorf("problems for %s = %v, want keys %v", raw, problems, want)
	}
	_, problems = ingest.DecodeEvent(json.RawMessage(`{}`))
	if got := slices.Sorted(maps.Keys(problems)); !slices.Equal(got, []string{"at", "id", "type"}) {
		t.Errorf("problems for {} = %v, want id, type and at", problems)
	}
}

func TestDecodeEventNotAnObject(t *testing.T) {
	for _, raw := range []string{"[]", "3", `"order_placed"`, "null", "true", "", "{", `[{"id":"e1"}]`} {
		_, problems := ingest.DecodeEvent(json.RawMessage(raw))
		if got := problems[""]; got != "must be a JSON object" {
			t.Errorf("DecodeEvent(%q) problems = %v, want {\"\": \"must be a JSON object\"}", raw, problems)
		}
		if len(problems) != 1 {
			t.Errorf("DecodeEvent(%q) problems = %v, want exactly one", raw, problems)
		}
	}
}

// Strings with escapes read exactly as encoding/json reads them; plain ones take
// the fast path. Strings that are not text (control characters, escaped or not,
// and bytes that are not UTF-8, which encoding/json would quietly replace) are
// refused, naming the field: PostgreSQL would refuse NUL, SQLite would store it.
func TestEventStringsReadLikeEncodingJSON(t *testing.T) {
	event := func(orderID string) json.RawMessage {
		return json.RawMessage(`{"id":"e1","type":"order_shipped","at":"2026-03-01T12:00:00Z","order_id":` + orderID + `}`)
	}
	for _, raw := range []string{`"plain-id"`, `"with \"quotes\""`, `"\u0041BC"`, `"é-ünïcode"`, `"\u00e9"`} {
		var want string
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatal(err)
		}
		e, p := ingest.DecodeEvent(event(raw))
		if p != nil || e.OrderID != want {
			t.Errorf("%s read as %q (%v), want %q", raw, e.OrderID, p, want)
		}
	}
	for _, raw := range []string{`"tab\there"`, `"nul\u0000"`, `"bell\u0007"`, `"line\nbreak"`, `"del\u007f"`, "\"bad \xff utf8\"", `"\ud800"`} {
		if _, p := ingest.DecodeEvent(event(raw)); p["order_id"] == "" {
			t.Errorf("order_id %s accepted: %v", raw, p)
		}
	}
	if _, p := ingest.DecodeEvent(json.RawMessage(`{"id":"e1","type":"order_shipped","at":"2026-03-01T12:00:00Z","order_id":"a","carrier":12}`)); p["carrier"] != "must be a string" {
		t.Errorf("a number as carrier: %v", p)
	}
}

func TestDecodeEventRatingWrittenAsFloat(t *testing.T) {
	e, p := ingest.DecodeEvent([]byte(`{"id":"f","type":"feedback","at":"2026-01-01T00:00:00Z","order_id":"o","rating":5.0}`))
	if p != nil || e.Rating != 5 {
		t.Errorf("rating 5.0: %v %v, want 5", e.Rating, p)
	}
	if _, p := ingest.DecodeEvent([]byte(`{"id":"f","type":"feedback","at":"2026-01-01T00:00:00Z","order_id":"o","rating":4.5}`)); p["rating"] == "" {
		t.Error("rating 4.5 accepted")
	}
	long := strings.Repeat("é", 128)
	if _, p := ingest.DecodeEvent([]byte(`{"id":"` + long + `","type":"chargeback","at":"2026-01-01T00:00:00Z","order_id":"o"}`)); p != nil {
		t.Errorf("an id of 128 characters (256 bytes) rejected: %v", p)
	}
}

// TestDecodeEventRatingAsWritten: a rating is judged as written, not as the
// float64 it parses to (4.9999999999999999 is 5.0 as a float64).
func TestDecodeEventRatingAsWritten(t *testing.T) {
	for _, c := range []struct {
		rating string
		want   int // 0: refused
	}{
		{"4", 4}, {"5.0", 5}, {"1.000", 1}, {" 3 ", 3},
		{"4.9999999999999999", 0}, {"5.0000000000000001", 0}, {"5e0", 0}, {"0.5e1", 0},
		{"45", 0}, {"-5", 0}, {"0", 0}, {`"5"`, 0},
	} {
		raw := `{"id":"e1","type":"feedback","at":"2026-03-12T12:00:00Z","order_id":"o1","rating":` + c.rating + `}`
		e, problems := ingest.DecodeEvent(json.RawMessage(raw))
		if c.want == 0 {
			if !strings.Contains(problems["rating"], "whole number from 1 to 5") {
				t.Errorf("rating %s: %v (rating %d), want refused", c.rating, problems, e.Rating)
			}
			continue
		}
		if len(problems) > 0 || e.Rating != c.want {
			t.Errorf("rating %s: %d %v, want %d", c.rating, e.Rating, problems, c.want)
		}
	}
}
