package apitest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/accounthealth/accounthealth/api/apitest"
)

// TestCheckRefusesWhatTheDocumentDoesNotSay: the check is not vacuous: a body
// missing a required field, a status the operation does not list, a wrong
// type and an unknown route are each refused, naming the problem.
func TestCheckRefusesWhatTheDocumentDoesNotSay(t *testing.T) {
	v, err := apitest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	healthz := httptest.NewRequest("GET", "http://127.0.0.1:41234/healthz", nil)
	if err := v.Check(healthz, 200, jsonHeader, []byte(`{"status":"ok","checks":{"database":"ok","temporal":"ok"}}`)); err != nil {
		t.Errorf("a documented answer: %v", err)
	}
	for _, c := range []struct {
		req    *http.Request
		status int
		body   string
		want   string
	}{
		{healthz, 200, `{"checks":{}}`, "status"},
		{healthz, 200, `{"status":7}`, "status"},
		{healthz, 418, `{"status":"ok"}`, "status is not supported"},
		{httptest.NewRequest("GET", "http://127.0.0.1/v1/nowhere", nil), 200, `{}`, "not in openapi.yaml"},
		{httptest.NewRequest("GET", "http://127.0.0.1/v1/cases/C-1", nil), 404, `{"error":{"message":"x"}}`, "code"},
	} {
		err := v.Check(c.req, c.status, jsonHeader, []byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s %d %s: %v, want an error naming %q", c.req.Method, c.req.URL.Path, c.status, c.body, err, c.want)
		}
	}
}
