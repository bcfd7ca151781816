package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/api/apitest"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// textProbes are strings no database should be asked to store, as JSON text:
// PostgreSQL refuses NUL and bytes that are not UTF-8 (a 500 if they get that
// far), SQLite stores them.
var textProbes = map[string]string{
	"NUL":            `"a\u0000b"`,
	"control":        `"bell\u0007"`,
	"not UTF-8":      "\"\xff\xfe\"",
	"lone surrogate": `"\ud800"`,
}

// pathProbes are path segments that cannot name anything.
var pathProbes = []string{"%00", "%FF", "a%01b", "%C3%28"}

// TestEveryEndpointRefusesWhatItCannotStore sends every probe to every endpoint
// and form the server registers (so endpoints added later are covered), as every
// role, on both databases: a body string, a path id, a query value and the
// Idempotency-Key holding NUL, control characters, bytes that are not UTF-8 or a
// lone surrogate; a wrong method; a string field given a number. Every answer
// is a 4xx (405 for the wrong method), a probed body field or query value is
// named by at least one role, and nothing is stored.
func TestEveryEndpointRefusesWhatItCannotStore(t *testing.T) {
	doc, err := apitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		srv := api.New(api.Config{Store: st, Workflows: idleWorkflows{}, Policy: health.DefaultPolicy(),
			AdminKeyHash: api.HashKey(adminKey), Mailer: &outbox{}, PublicURL: "http://health.example"})
		if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "Seller", Email: "s1@example.com"}, api.HashKey("seller-key-0123456789")); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateReviewer(ctx, store.Reviewer{Name: "Rev", Email: "r1@example.com"}, api.HashKey("reviewer-key-0123456789")); err != nil {
			t.Fatal(err)
		}
		keys := map[string]string{"admin": adminKey, "seller": "seller-key-0123456789", "reviewer": "reviewer-key-0123456789", "nobody": ""}
		before := rowCounts(t, st)

		// send answers the status and the fields named: the error's fields, or for a
		// page the whole page (a field is named when the page says its name).
		send := func(method, target, body, contentType, idemKey, key string) (int, map[string]string) {
			req := httptest.NewRequest(method, "http://x", strings.NewReader(body))
			req.URL, _ = url.Parse(target)
			req.RequestURI = target
			req.Header.Set("Content-Type", contentType)
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			if idemKey != "" {
				req.Header["Idempotency-Key"] = []string{idemKey}
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			var e struct {
				Error struct {
					Fields map[string]string `json:"fields"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				page := map[string]string{}
				for _, w := range regexp.MustCompile(`[A-Za-z_-]+`).FindAllString(rec.Body.String(), -1) {
					page[w] = "on the page"
				}
				return rec.Code, page
			}
			return rec.Code, e.Error.Fields
		}
		// expect sends a request as every role: all answers 4xx, and (when named is
		// not "") at least one a 400 naming it among its fields.
		expect := func(what, method, target, body, contentType, idemKey, named string) {
			t.Helper()
			namedBy := []string{}
			var codes []string
			for _, role := range []string{"admin", "seller", "reviewer", "nobody"} {
				code, fields := send(method, target, body, contentType, idemKey, keys[role])
				codes = append(codes, fmt.Sprintf("%s %d", role, code))
				if code < 400 || code >= 500 {
					t.Errorf("%s: %s %s as %s answered %d, want 4xx", what, method, target, role, code)
				}
				if _, ok := fields[named]; ok && code == http.StatusBadRequest {
					namedBy = append(namedBy, role)
				}
			}
			if named != "" && len(namedBy) == 0 {
				t.Errorf("%s: %s %s: no role was told %q was wrong (%s)", what, method, target, named, strings.Join(codes, ", "))
			}
		}

		routes := append(srv.Routes(), srv.FormRoutes()...)
		if len(routes) < 15 {
			t.Fatalf("only %d routes registered", len(routes))
		}
		for _, r := range routes {
			path := param.ReplaceAllString(r.Path, "{$1}")
			concrete := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(path, "nobody")
			isForm := !strings.HasPrefix(r.Path, "/v1/") && !strings.HasPrefix(r.Path, "/dev/") && r.Method == http.MethodPost
			// Path ids that cannot exist.
			if strings.Contains(path, "{") {
				for _, p := range pathProbes {
					target := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(path, p)
					expect("path "+p, r.Method, target, "{}", "application/json", "", "")
				}
			}
			// Query values, the documented ones and any other.
			queryNames := []string{"q"}
			if op := operation(doc, path, r.Method); op != nil {
				for _, prm := range op.Parameters {
					if prm.Value.In == "query" {
						queryNames = append(queryNames, prm.Value.Name)
					}
				}
			}
			for _, name := range queryNames {
				for _, raw := range []string{"%00", "%FF", "%07"} {
					expect("query "+name+"="+raw, r.Method, concrete+"?"+name+"="+raw, "{}", "application/json", "", name)
				}
			}
			// The Idempotency-Key header.
			if r.Method == http.MethodPost {
				for probe, raw := range map[string]string{"not UTF-8": "k\xff", "control": "k\x01"} {
					expect("Idempotency-Key "+probe, r.Method, concrete, "{}", "application/json", raw, "Idempotency-Key")
				}
			}
			// A wrong method.
			wrong := http.MethodPut
			if code, _ := send(wrong, concrete, "{}", "application/json", "", adminKey); code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", wrong, concrete, code)
			}
			// Form fields.
			if isForm {
				for probe, raw := range map[string]string{"NUL": "%00", "not UTF-8": "%FF", "control": "%07"} {
					expect("form field "+probe, r.Method, concrete, "email=a"+raw+"b&root_cause=x"+raw, "application/x-www-form-urlencoded", "", "email")
				}
			}
			// Body strings.
			op := operation(doc, path, r.Method)
			if op == nil || op.RequestBody == nil {
				continue
			}
			media := op.RequestBody.Value.Content.Get("application/json")
			if media == nil {
				continue
			}
			for _, leaf := range stringLeaves(media.Schema, "") {
				for probe, raw := range textProbes {
					body := sampleJSON(media.Schema, leaf, raw)
					expect("body "+leaf.path+" "+probe, r.Method, concrete, body, "application/json", "", leaf.path)
				}
				body := sampleJSON(media.Schema, leaf, "12")
				expect("body "+leaf.path+" as a number", r.Method, concrete, body, "application/json", "", leaf.path)
			}
		}
		if after := rowCounts(t, st); !equalCounts(before, after) {
			t.Errorf("rows before the probes %v, after %v: something was stored", before, after)
		}
	})
}

func operation(doc *openapi3.T, path, method string) *openapi3.Operation {
	item := doc.Paths.Find(path)
	if item == nil {
		return nil
	}
	return item.GetOperation(method)
}

// leaf is a string field somewhere in a request schema: its path as the API
// names it ("events[0].order_id") and the schema variant it belongs to.
type leaf struct {
	path    string
	variant map[*openapi3.Schema]*openapi3.Schema // for oneOf: the branch chosen at each oneOf on the way
}

// stringLeaves lists the string fields of a schema, each oneOf branch apart.
func stringLeaves(ref *openapi3.SchemaRef, prefix string) []leaf {
	s := ref.Value
	var out []leaf
	switch {
	case len(s.OneOf) > 0:
		for _, branch := range s.OneOf {
			for _, l := range stringLeaves(branch, prefix) {
				if l.variant == nil {
					l.variant = map[*openapi3.Schema]*openapi3.Schema{}
				}
				l.variant[s] = branch.Value
				out = append(out, l)
			}
		}
	case s.Type.Is("object") || len(s.Properties) > 0:
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			p := n
			if prefix != "" {
				p = prefix + "." + n
			}
			out = append(out, stringLeaves(s.Properties[n], p)...)
		}
	case s.Type.Is("array") && s.Items != nil:
		out = append(out, stringLeaves(s.Items, prefix+"[0]")...)
	case s.Type.Is("string"):
		out = append(out, leaf{path: prefix})
	}
	return out
}

// sampleJSON is a body of the schema's shape with plausible values, and raw (JSON
// text) at the leaf's place.
func sampleJSON(ref *openapi3.SchemaRef, l leaf, raw string) string {
	const mark = "\x00PROBE\x00"
	v := sample(ref, "", l, mark)
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return strings.Replace(string(b), `"\u0000PROBE\u0000"`, raw, 1)
}

func sample(ref *openapi3.SchemaRef, path string, l leaf, mark string) any {
	s := ref.Value
	if path == l.path && s.Type.Is("string") {
		return mark
	}
	switch {
	case len(s.OneOf) > 0:
		if b, ok := l.variant[s]; ok {
			return sample(&openapi3.SchemaRef{Value: b}, path, l, mark)
		}
		return sample(s.OneOf[0], path, l, mark)
	case s.Type.Is("object") || len(s.Properties) > 0:
		obj := map[string]any{}
		for n, p := range s.Properties {
			child := n
			if path != "" {
				child = path + "." + n
			}
			obj[n] = sample(p, child, l, mark)
		}
		return obj
	case s.Type.Is("array"):
		if s.Items == nil {
			return []any{}
		}
		return []any{sample(s.Items, path+"[0]", l, mark)}
	case s.Type.Is("string"):
		switch {
		case len(s.Enum) > 0:
			return s.Enum[0]
		case s.Format == "date-time":
			return "2026-03-01T12:00:00Z"
		case s.Format == "email":
			return "someone@example.com"
		}
		return "x1"
	case s.Type.Is("integer"), s.Type.Is("number"):
		return 1
	case s.Type.Is("boolean"):
		return true
	}
	return nil
}

// rowCounts counts the rows of every table.
func rowCounts(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	q := "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
	if st.Dialect() == store.SQLite {
		q = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	}
	rows, err := st.DB().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string]int{}
	for _, tbl := range tables {
		var n int
		if err := st.DB().QueryRow("SELECT COUNT(*) FROM " + tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[tbl] = n
	}
	return out
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
