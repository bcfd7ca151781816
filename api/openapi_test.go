package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/accounthealth/accounthealth/activities/mail/capture"
	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/api/apitest"
	"github.com/accounthealth/accounthealth/health"
	"github.com/accounthealth/accounthealth/store/storetest"
	"github.com/accounthealth/accounthealth/telemetry"
	"github.com/accounthealth/accounthealth/workflows/flow"
)

// idleWorkflows answers the two calls the route check reaches; the rest are
// never reached because the requests fail validation or lookup first.
type idleWorkflows struct{ api.Workflows }

func (idleWorkflows) StartEvaluation(context.Context, flow.EvaluationInput) error { return nil }
func (idleWorkflows) Ping(context.Context) error                                  { return nil }
func (idleWorkflows) StartWebhook(context.Context, string) error                  { return nil }
func (idleWorkflows) StopWebhook(context.Context, string) error                   { return nil }

const adminKey = "admin-key-for-the-openapi-test"

func newServer(t *testing.T) *api.Server {
	mailbox, err := capture.Start("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mailbox.Close() })
	return api.New(api.Config{Store: storetest.NewSQLite(t), Workflows: idleWorkflows{}, Policy: health.DefaultPolicy(),
		AdminKeyHash: api.HashKey(adminKey), Mailbox: mailbox, Metrics: telemetry.New()})
}

// documented reads the method and path of every operation in openapi.yaml.
func documented(t *testing.T) []api.Route {
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	var out []api.Route
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "post", "put", "patch", "delete":
				out = append(out, api.Route{Method: strings.ToUpper(method), Path: path})
			}
		}
	}
	return out
}

var param = regexp.MustCompile(`:([a-z_]+)`)

func TestOpenAPIMatchesRoutes(t *testing.T) {
	srv := newServer(t)
	key := func(r api.Route) string { return r.Method + " " + r.Path }
	var registered, docs []string
	for _, r := range srv.Routes() {
		r.Path = param.ReplaceAllString(r.Path, "{$1}")
		registered = append(registered, key(r))
	}
	for _, r := range documented(t) {
		docs = append(docs, key(r))
	}
	sort.Strings(registered)
	sort.Strings(docs)
	if strings.Join(registered, "\n") != strings.Join(docs, "\n") {
		t.Errorf("routes and openapi.yaml differ\nregistered:\n  %s\ndocumented:\n  %s",
			strings.Join(registered, "\n  "), strings.Join(docs, "\n  "))
	}
	if len(docs) < 9 {
		t.Errorf("only %d documented operations", len(docs))
	}
}

func TestEveryDocumentedRouteAnswers(t *testing.T) {
	srv := newServer(t)
	v, err := apitest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range documented(t) {
		path := strings.NewReplacer("{id}", "nobody").Replace(r.Path)
		req := httptest.NewRequest(r.Method, path, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		// A route that exists answers with its own outcome: anything but "no such route".
		if rec.Code == http.StatusMethodNotAllowed || (rec.Code == http.StatusNotFound && !strings.Contains(r.Path, "{id}")) {
			t.Errorf("%s %s: %d %s", r.Method, path, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); rec.Code >= 400 && !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: error answered as %q", r.Method, path, ct)
		}
		if err := v.Check(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Error(err)
		}
	}
	// And an undocumented route is really absent, in the API's error shape.
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/v1/nothing-here", nil))
	if rec.Code != http.StatusNotFound && rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("GET /v1/nothing-here: %d %s", rec.Code, rec.Body)
	}
}

// TestOpenAPIIsValid: the document passes a real OpenAPI validator.
func TestOpenAPIIsValid(t *testing.T) {
	if _, err := apitest.NewValidator(); err != nil {
		t.Fatal(err)
	}
}
