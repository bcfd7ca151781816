package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/api"
	"github.com/accounthealth/accounthealth/store"
	"github.com/accounthealth/accounthealth/store/storetest"
)

func getJSON(t *testing.T, u string, into any) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK && into != nil {
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
	return resp
}

// TestCasesArePaged: limit and cursor read every case exactly once over HTTP,
// next_cursor is null at the end, and a bad limit or cursor is a 400 naming it.
func TestCasesArePaged(t *testing.T) {
	st := storetest.NewSQLite(t)
	ctx := context.Background()
	if _, err := st.CreateSeller(ctx, store.Seller{ID: "s1", Name: "One", Email: "one@example.com"}, "h1"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const n = 7
	for i := range n {
		id := fmt.Sprintf("C-%d", i)
		err := st.RecordCase(ctx, store.CaseRecord{
			Case: store.CaseRow{ID: id, WorkflowID: "case/s1/v" + id, RunID: "r" + id, SellerID: "s1", Kind: "policy_violation",
				Action: "suspend", State: "warned", Enforcement: "none", OpenedAt: at.Add(time.Duration(i/2) * time.Hour), MaxAppeals: 3, Evidence: `{}`},
			Event: store.CaseEvent{CaseID: id, Seq: 1, At: at, Type: "opened", Actor: "system", ToState: "warned", Detail: `{}`},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	srv := testServer(t, api.Config{Store: st})

	seen := map[string]int{}
	u := srv.URL + "/v1/cases?limit=3"
	for pages := 1; ; pages++ {
		var page struct {
			Cases []struct {
				ID string `json:"id"`
			} `json:"cases"`
			Next *string `json:"next_cursor"`
		}
		if resp := getJSON(t, u, &page); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", u, resp.StatusCode)
		}
		for _, c := range page.Cases {
			seen[c.ID]++
		}
		if page.Next == nil {
			if pages != 3 {
				t.Errorf("%d pages of 3 for %d cases, want 3", pages, n)
			}
			break
		}
		u = srv.URL + "/v1/cases?limit=3&cursor=" + url.QueryEscape(*page.Next)
	}
	if len(seen) != n {
		t.Errorf("saw %d cases, want %d: %v", len(seen), n, seen)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("case %s seen %d times", id, k)
		}
	}

	for _, c := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=1001", "limit"}, {"limit=ten", "limit"},
		{"cursor=not-a-cursor", "cursor"}, {"cursor=e30", "cursor"}, // e30 is {} in base64: no id
	} {
		for _, list := range []string{"/v1/cases", "/v1/appeals"} {
			resp := getJSON(t, srv.URL+list+"?"+c.query, nil)
			var e struct {
				Error struct {
					Code   string            `json:"code"`
					Fields map[string]string `json:"fields"`
				} `json:"error"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || e.Error.Fields[c.field] == "" {
				t.Errorf("%s?%s: %d %+v, want 400 naming %s", list, c.query, resp.StatusCode, e.Error, c.field)
			}
		}
	}
}
