package main

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// TestCasesAreFoundBySearchAttributes: the case workflows keep SellerId,
// CaseState and the rest up to date, so an operator's visibility query (the
// Temporal Web UI, `temporal workflow list --query`) finds a seller's enforced
// cases, and follows a case as it moves.
func TestCasesAreFoundBySearchAttributes(t *testing.T) {
	d := startDev(t, map[string]string{"AH_POLICY_FILE": writePolicy(t, "2s")})
	acme := provisionSeller(t, d.base, d.adminKey, "acme")
	provisionSeller(t, d.base, d.adminKey, "zeta")
	var rev struct {
		APIKey string `json:"api_key"`
	}
	call(t, "POST", d.base+"/v1/reviewers", d.adminKey, map[string]string{"name": "Ravi", "email": "ravi@example.com"}, &rev)

	metric := openCase(t, d, "acme", acme) // warned, enforced once the 2s grace ends
	var policy caseResp
	if code := call(t, "POST", d.base+"/v1/cases", rev.APIKey, map[string]string{"seller_id": "zeta", "listing_id": "L-9",
		"violation": "ip_complaint", "note": "The listing copies a registered design."}, &policy); code != http.StatusCreated {
		t.Fatalf("policy case: %d", code)
	}
	waitState(t, d.base, acme, metric.ID, "enforced")

	c, err := client.Dial(client.Options{HostPort: d.temporal})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Visibility lags the workflows a little: ask until the answer is the one wanted.
	find := func(query string, want ...string) {
		t.Helper()
		slices.Sort(want)
		var got []string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
			resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
			if err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			got = got[:0]
			for _, e := range resp.Executions {
				got = append(got, e.Execution.WorkflowId)
			}
			slices.Sort(got)
			if slices.Equal(got, want) {
				return
			}
		}
		t.Errorf("%s found %v, want %v", query, got, want)
	}
	find(`SellerId="acme" AND CaseState="enforced"`, "case/acme/odr")
	find(`CaseState="enforced"`, "case/acme/odr", "case/zeta/L-9/ip_complaint")
	find(`CaseKind="policy_violation" AND CaseMetric="ip_complaint"`, "case/zeta/L-9/ip_complaint")
	find(`CaseId="`+metric.ID+`"`, "case/acme/odr")

	// A transition is seen too: the appeal puts the case under review.
	if code := call(t, "POST", d.base+"/v1/cases/"+metric.ID+"/appeals", acme, goodPOA, nil); code != http.StatusCreated {
		t.Fatalf("appeal: %d", code)
	}
	find(`SellerId="acme" AND CaseState="under_review"`, "case/acme/odr")
	find(`SellerId="acme" AND CaseState="enforced"`)
}
