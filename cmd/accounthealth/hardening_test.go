package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accounthealth/accounthealth/store/storetest"
)

// poisonAppeals makes the database refuse any appeal whose root cause holds
// "POISON": a permanent error, as a constraint violated or data refused is.
var poisonAppeals = map[string]string{
	"postgres": `ALTER TABLE appeals ADD CONSTRAINT no_poison CHECK (root_cause NOT LIKE '%POISON%')`,
	"sqlite": `CREATE TRIGGER no_poison BEFORE INSERT ON appeals WHEN NEW.root_cause LIKE '%POISON%'
		BEGIN SELECT RAISE(ABORT, 'no poison'); END`,
}

// TestAPermanentStoreErrorDoesNotWedgeACase: the database refuses a transition's
// record for good (on PostgreSQL and SQLite alike). The appeal that caused it is
// answered at once with an error, not retried for ever; the case is still
// enforced, in the database and in its workflow, with the failure on its
// timeline; a clean appeal then goes through.
func TestAPermanentStoreErrorDoesNotWedgeACase(t *testing.T) {
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) {
			dbURL, driver, dsn := "", "pgx", ""
			if dialect == "postgres" {
				dbURL = storetest.NewPostgresURL(t)
				dsn = dbURL
			} else {
				path := filepath.Join(t.TempDir(), "ah.db")
				dbURL, driver, dsn = "sqlite://"+path, "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)"
			}
			d := startDev(t, map[string]string{"AH_DATABASE_URL": dbURL, "AH_POLICY_FILE": writePolicy(t, "3s")})
			key := provisionSeller(t, d.base, d.adminKey, "pia")
			c := openCase(t, d, "pia", key)
			waitState(t, d.base, key, c.ID, "enforced")

			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(poisonAppeals[dialect]); err != nil {
				t.Fatal(err)
			}

			poisoned := map[string]string{}
			for k, v := range goodPOA {
				poisoned[k] = v
			}
			poisoned["root_cause"] = "POISON: " + goodPOA["root_cause"]
			var e apiError
			start := time.Now()
			code := call(t, "POST", d.base+"/v1/cases/"+c.ID+"/appeals", key, poisoned, &e)
			if code != http.StatusInternalServerError || e.Error.Code != "not_recorded" {
				t.Fatalf("the refused appeal: %d %+v, want 500 not_recorded", code, e.Error)
			}
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("the refused appeal took %s to answer", took)
			}
			var got caseResp
			call(t, "GET", d.base+"/v1/cases/"+c.ID, key, nil, &got)
			last := got.Timeline[len(got.Timeline)-1]
			if got.State != "enforced" || len(got.Appeals) != 0 || last.Type != "record_failed" {
				t.Fatalf("after the refusal: state %s, %d appeals, last entry %s; want enforced, none, record_failed", got.State, len(got.Appeals), last.Type)
			}
			// The workflow agrees with the database: a clean appeal is taken.
			var out struct {
				Appeal appealResp `json:"appeal"`
			}
			if code := call(t, "POST", d.base+"/v1/cases/"+c.ID+"/appeals", key, goodPOA, &out); code != http.StatusCreated {
				t.Fatalf("a clean appeal after the refused one: %d", code)
			}
			got = waitState(t, d.base, key, c.ID, "under_review")
			if len(got.Appeals) != 1 || got.Appeals[0].ID != out.Appeal.ID {
				t.Errorf("appeals %+v, want the clean one", got.Appeals)
			}
			if dialect == "postgres" {
				saveHistory(t, d, "case/pia/odr", "case_record_failed.json")
			}
			for i, ev := range got.Timeline {
				if i > 0 && !ev.At.After(got.Timeline[i-1].At) && ev.At != got.Timeline[i-1].At {
					t.Errorf("timeline out of order at %d", i)
				}
			}
		})
	}
}

// TestIdempotencyKeysAreClaimedOnce: ten requests with one Idempotency-Key and
// ten different plans, sent at once, make one appeal: one 201 and 409s naming the
// mismatch; the key then still means the first plan. The same key on another
// case is refused, also when both are sent at once.
func TestIdempotencyKeysAreClaimedOnce(t *testing.T) {
	d := startDev(t, map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t), "AH_POLICY_FILE": writePolicy(t, "3s")})
	key := provisionSeller(t, d.base, d.adminKey, "ida")
	var rev struct {
		APIKey string `json:"api_key"`
	}
	call(t, "POST", d.base+"/v1/reviewers", d.adminKey, map[string]string{"name": "Ravi", "email": "ravi@example.com"}, &rev)
	c := openCase(t, d, "ida", key)
	waitState(t, d.base, key, c.ID, "enforced")

	plan := func(i int) map[string]string {
		return map[string]string{"root_cause": fmt.Sprintf("Plan %d: ", i) + goodPOA["root_cause"],
			"corrective_actions": goodPOA["corrective_actions"], "preventive_measures": goodPOA["preventive_measures"]}
	}
	appeal := func(caseID, idem string, body any) (int, string) {
		req, _ := http.NewRequest("POST", d.base+"/v1/cases/"+caseID+"/appeals", strings.NewReader(mustJSON(body)))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", idem)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	var wg sync.WaitGroup
	codes := make([]int, 10)
	bodies := make([]string, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], bodies[i] = appeal(c.ID, "one-key", plan(i))
		}()
	}
	wg.Wait()
	won, winner := 0, -1
	for i, code := range codes {
		switch {
		case code == http.StatusCreated:
			won, winner = won+1, i
		case code == http.StatusConflict && strings.Contains(bodies[i], "different Plan of Action"):
		default:
			t.Errorf("request %d: %d %s", i, code, bodies[i])
		}
	}
	if won != 1 {
		t.Fatalf("%d requests with one key made an appeal, want 1: %v", won, codes)
	}
	got := waitState(t, d.base, key, c.ID, "under_review")
	if len(got.Appeals) != 1 {
		t.Fatalf("%d appeals, want 1", len(got.Appeals))
	}
	// The key stays bound to the plan that won.
	if code, body := appeal(c.ID, "one-key", plan(winner)); code != http.StatusCreated || !strings.Contains(body, got.Appeals[0].ID) {
		t.Errorf("the winner's retry: %d %s, want its first answer", code, body)
	}
	if code, body := appeal(c.ID, "one-key", plan((winner+1)%10)); code != http.StatusConflict {
		t.Errorf("another plan with the used key: %d %s, want 409", code, body)
	}

	// The same key on another case: a policy case of the same seller.
	var policy caseResp
	if code := call(t, "POST", d.base+"/v1/cases", rev.APIKey, map[string]string{"seller_id": "ida", "listing_id": "L-1",
		"violation": "ip_complaint", "note": "The listing copies a registered design."}, &policy); code != http.StatusCreated {
		t.Fatalf("policy case: %d", code)
	}
	saveHistory(t, d, "case/ida/L-1/ip_complaint", "policy_case_opened.json")
	if code, body := appeal(policy.ID, "one-key", plan(winner)); code != http.StatusConflict || !strings.Contains(body, c.ID) {
		t.Errorf("the key on another case: %d %s, want 409 naming %s", code, body, c.ID)
	}
	// A fresh key sent to two cases at once: one of them takes it.
	wg = sync.WaitGroup{}
	var two [2]int
	for i, id := range []string{policy.ID, c.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			two[i], _ = appeal(id, "second-key", plan(42))
		}()
	}
	wg.Wait()
	if n := count(two[:], http.StatusCreated); n > 1 || count(two[:], http.StatusConflict) < 1 {
		t.Errorf("one key on two cases at once: %v, want at most one 201 and a 409", two)
	}
}

func count(codes []int, want int) int {
	n := 0
	for _, c := range codes {
		if c == want {
			n++
		}
	}
	return n
}
