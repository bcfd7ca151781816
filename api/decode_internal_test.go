package api

import (
	"errors"
	"strings"
	"testing"
)

// TestDecodeErrorsInJSONWords: a wrongly typed value is named by its JSON path
// and what JSON it must be, never by a Go type.
func TestDecodeErrorsInJSONWords(t *testing.T) {
	type item struct {
		N    int     `json:"n"`
		F    float64 `json:"f"`
		B    *bool   `json:"b"`
		Tags []string
	}
	type body struct {
		Name  string          `json:"name"`
		IDs   []string        `json:"ids"`
		Items []item          `json:"items"`
		One   item            `json:"one"`
		Map   map[string]bool `json:"map"`
	}
	for _, c := range []struct{ in, field, want string }{
		{`[]`, "", ""},
		{`"x"`, "", ""},
		{`{"name":1}`, "name", "must be a string"},
		{`{"ids":"x"}`, "ids", "must be an array"},
		{`{"ids":["a",2]}`, "ids[1]", "must be a string"},
		{`{"items":[{"n":1},{"n":"2"}]}`, "items[1].n", "must be an integer"},
		{`{"items":[{"n":1.5}]}`, "items[0].n", "must be an integer"},
		{`{"one":{"f":"x"}}`, "one.f", "must be a number"},
		{`{"one":{"b":1}}`, "one.b", "must be true or false"},
		{`{"one":[]}`, "one", "must be a JSON object"},
		{`{"name":"a","one":{"Tags":[[]]}}`, "one.Tags[0]", "must be a string"},
		{`{"map":{"k":"v"}}`, "map.k", "must be true or false"},
		{`{"items":[{"n":1,"f":2,"b":true,"Tags":["x"]},{"f":{}}]}`, "items[1].f", "must be a number"},
	} {
		err := decodeStrict(strings.NewReader(c.in), &body{})
		var e *Error
		if !errors.As(err, &e) || e.Code != "validation_failed" {
			t.Errorf("%s: %v, want validation_failed", c.in, err)
			continue
		}
		if strings.Contains(e.Message, "api.") || strings.Contains(e.Message, "int") && !strings.Contains(e.Message, "integer") {
			t.Errorf("%s: message %q names a Go type", c.in, e.Message)
		}
		if c.field == "" {
			if e.Message != "the body must be a JSON object" || len(e.Fields) != 0 {
				t.Errorf("%s: %q %v, want the body must be a JSON object", c.in, e.Message, e.Fields)
			}
			continue
		}
		if got := e.Fields[c.field]; got != c.want || len(e.Fields) != 1 {
			t.Errorf("%s: fields %v, want %s: %s", c.in, e.Fields, c.field, c.want)
		}
	}
}
