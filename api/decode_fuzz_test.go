package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/accounthealth/accounthealth/app/ingest"
	"github.com/accounthealth/accounthealth/health"
)

// Seeds: the shapes of each body, and the bad input the edge must refuse.
var fuzzSeeds = []string{
	`{}`, `null`, `[]`, `"x"`, `{"a":1}`, `{"events":[]}`,
	`{"id":"s1","name":"Acme","email":"ops@acme.example"}`,
	`{"id":"s\u0000","name":"A\u0007","email":"a@b.c"}`, "{\"name\":\"\xff\"}", `{"name":"\ud800"}`,
	`{"root_cause":"line one\nline two\ttab","corrective_actions":"x","preventive_measures":"y"}`,
	`{"root_cause":"nul\u0000here"}`, `{"decision":"reject","reason_code":"other","message":"a\u0000"}`,
	`{"seller_id":"s1","listing_id":"L1","violation":"ip_complaint","note":"\u0085"}`,
	`{"seller_ids":["s1","s\u0000"]}`, `{"quarter":"2026-Q3"}`, `{"quarter":"2026-Q\u0000"}`, `{"seller_ids":[1]}`, `{"seller_ids":"s1"}`, `{"name":12}`,
	`{"events":[{"id":"e1","type":"feedback","at":"2026-03-01T12:00:00Z","order_id":"o1","rating":4.9999999999999999}]}`,
	`{"events":[{"id":"e\u0000","type":"chargeback","at":"2026-03-01T12:00:00Z","order_id":"o1"}]}`,
	`{"events":[{"id":"e1","type":"refund_issued","at":"2026-03-01T12:00:00Z","order_id":"o\u0000","by":"seller"}]}`,
	`{"events":[{"id":"e1","type":"order_returned","at":"2026-03-01T12:00:00Z","order_id":"o1"},{"id":"e2","type":"order_cancelled","at":"2026-03-01T12:00:00Z","order_id":"o1","by":"expired"}]}`,
	"{\"events\":[{\"id\":\"\xff\"}]}", `{"name":"a"} {"name":"b"}`, `{"name":"a",}`, `{"unknown":1}`,
}

// fuzzDecode holds a request type's decoder to its promise: it either refuses
// with the API's 400 (or 413), or every string it decoded is text that
// can be stored (newlines and tabs only in free-text fields).
func fuzzDecode[T any](f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var dst T
		err := decodeRequest(b, &dst)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Status != http.StatusBadRequest && e.Status != http.StatusRequestEntityTooLarge) {
				t.Fatalf("%q: %v, want a 400 or 413 in the API's error shape", b, err)
			}
			return
		}
		free := freeTextFields(&dst)
		eachString(reflect.ValueOf(dst), "", func(field, s string) {
			if p := health.TextProblem(s, free[field]); p != "" {
				t.Fatalf("%q: %s decoded as %q: %s", b, field, s, p)
			}
		})
	})
}

// eachString calls fn for every string in v, with the JSON name of its top field.
func eachString(v reflect.Value, field string, fn func(field, s string)) {
	switch v.Kind() {
	case reflect.String:
		fn(field, v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			eachString(v.Elem(), field, fn)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 { // json.RawMessage: decoded on its own (events)
			return
		}
		for i := range v.Len() {
			eachString(v.Index(i), field, fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			name := field
			if name == "" {
				name = v.Type().Field(i).Tag.Get("json")
				if j := len(name); j > 0 {
					for k := range name {
						if name[k] == ',' {
							name = name[:k]
							break
						}
					}
				}
			}
			eachString(v.Field(i), name, fn)
		}
	}
}

func FuzzDecodePerson(f *testing.F)         { fuzzDecode[personRequest](f) }
func FuzzDecodeAppeal(f *testing.F)         { fuzzDecode[appealBody](f) }
func FuzzDecodeDecision(f *testing.F)       { fuzzDecode[decisionBody](f) }
func FuzzDecodePolicyCase(f *testing.F)     { fuzzDecode[policyCaseBody](f) }
func FuzzDecodeTierEvaluation(f *testing.F) { fuzzDecode[tierEvaluationBody](f) }
func FuzzDecodeEvaluation(f *testing.F) {
	fuzzDecode[struct {
		SellerIDs *[]string `json:"seller_ids"`
	}](f)
}

// The events' body is decoded in two steps: the batch, then each event by the
// ingest decoder, which must refuse (naming fields) or yield text.
func FuzzDecodeEvents(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req struct {
			Events *[]json.RawMessage `json:"events"`
		}
		if err := bindBytes(b, &req); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("%q: %v, want a 400", b, err)
			}
			return
		}
		if req.Events == nil {
			return
		}
		for _, raw := range *req.Events {
			e, problems := ingest.DecodeEvent(raw)
			if problems != nil {
				continue
			}
			eachString(reflect.ValueOf(e), "", func(field, s string) {
				if p := health.TextProblem(s, false); p != "" {
					t.Fatalf("%q: event field %s decoded as %q: %s", raw, field, s, p)
				}
			})
		}
	})
}
