package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

// TestEvaluationIdempotencyKey: a retried POST /v1/evaluations with its key
// answers the first evaluation; the key for other sellers is a 409.
func TestEvaluationIdempotencyKey(t *testing.T) {
	st := storetest.NewSQLite(t)
	if _, err := st.CreateSeller(context.Background(), store.Seller{ID: "s1", Name: "Sam's Shop", Email: "sam@example.com"}, "h1"); err != nil {
		t.Fatal(err)
	}
	srv := testServer(t, api.Config{Store: st})
	post := func(key, body string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/evaluations", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ ID string }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.ID
	}
	code1, first := post("nightly-1", "{}")
	code2, again := post("nightly-1", "{}")
	if code1 != http.StatusAccepted || code2 != http.StatusAccepted || first == "" || again != first {
		t.Errorf("a retry with the key: %d %q then %d %q, want 202 and the same id", code1, first, code2, again)
	}
	if code, other := post("", "{}"); code != http.StatusAccepted || other == first {
		t.Errorf("without a key: %d %q, want a new evaluation", code, other)
	}
	if code, _ := post("nightly-1", `{"seller_ids":["nobody"]}`); code != http.StatusBadRequest {
		t.Errorf("the key with an unknown seller: %d, want 400", code)
	}
	if code, _ := post("nightly-1", `{"seller_ids":["s1"]}`); code != http.StatusConflict {
		t.Errorf("the key for other sellers: %d, want 409", code)
	}
	if code, _ := post(strings.Repeat("k", 201), "{}"); code != http.StatusBadRequest {
		t.Errorf("a key too long: %d, want 400", code)
	}
}
