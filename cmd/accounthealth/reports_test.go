package main

import (
	"net/http"
	"testing"

	"github.com/accounthealth/accounthealth/store/storetest"
)

type reportResp struct {
	ID        string  `json:"id"`
	SellerID  string  `json:"seller_id"`
	ListingID *string `json:"listing_id"`
	Status    string  `json:"status"`
	CaseID    *string `json:"case_id"`
	Message   *string `json:"message"`
}

// TestReportsAreTriagedIntoCasesOrDismissed: the marketplace forwards buyers'
// reports; a reviewer dismisses one with a message and turns another into a
// policy case, which the seller sees (and never the report itself); bad input
// and a second decision are refused.
func TestReportsAreTriagedIntoCasesOrDismissed(t *testing.T) {
	d := startDev(t, map[string]string{"AH_DATABASE_URL": storetest.NewPostgresURL(t)})
	sellerKey := provisionSeller(t, d.base, d.adminKey, "rosa")
	var rev struct {
		APIKey string `json:"api_key"`
	}
	call(t, "POST", d.base+"/v1/reviewers", d.adminKey, map[string]string{"name": "Rita Reviewer", "email": "rita@example.com"}, &rev)

	var e apiError
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"seller_id": "nobody", "category": "counterfeit", "description": "fake"}, "seller_id"},
		{map[string]any{"seller_id": "rosa", "category": "Counter Feit", "description": "fake"}, "category"},
		{map[string]any{"seller_id": "rosa", "category": "counterfeit", "description": "  "}, "description"},
		{map[string]any{"seller_id": "rosa", "listing_id": "no spaces please", "category": "counterfeit", "description": "fake"}, "listing_id"},
	} {
		if code := call(t, "POST", d.base+"/v1/reports", d.adminKey, bad.body, &e); code != http.StatusBadRequest || e.Error.Fields[bad.field] == "" {
			t.Errorf("%v: %d %+v, want 400 naming %s", bad.body, code, e.Error, bad.field)
		}
	}
	var list struct {
		Reports []reportResp `json:"reports"`
	}
	if call(t, "GET", d.base+"/v1/reports", rev.APIKey, nil, &list); len(list.Reports) != 0 {
		t.Fatalf("refused reports stored: %+v", list.Reports)
	}
	report := func(listing string) reportResp {
		var out struct {
			Report reportResp `json:"report"`
		}
		body := map[string]any{"seller_id": "rosa", "category": "counterfeit", "description": "The watch I received is not the brand shown."}
		if listing != "" {
			body["listing_id"] = listing
		}
		if code := call(t, "POST", d.base+"/v1/reports", d.adminKey, body, &out); code != http.StatusCreated || out.Report.Status != "open" {
			t.Fatalf("report: %d %+v", code, out)
		}
		return out.Report
	}
	r1, r2 := report(""), report("L-42")
	if code := call(t, "GET", d.base+"/v1/reports?status=open", sellerKey, nil, &e); code != http.StatusForbidden {
		t.Errorf("a seller listing reports: %d, want 403", code)
	}
	if call(t, "GET", d.base+"/v1/reports?status=open", rev.APIKey, nil, &list); len(list.Reports) != 2 || list.Reports[0].ID != r1.ID {
		t.Errorf("open reports: %+v", list.Reports)
	}

	var decided struct {
		Report reportResp `json:"report"`
		Case   *caseResp  `json:"case"`
	}
	if code := call(t, "POST", d.base+"/v1/reports/"+r1.ID+"/decision", rev.APIKey, map[string]string{"decision": "dismiss"}, &e); code != http.StatusBadRequest || e.Error.Fields["message"] == "" {
		t.Errorf("dismissal without a message: %d %+v", code, e.Error)
	}
	if code := call(t, "POST", d.base+"/v1/reports/"+r1.ID+"/decision", rev.APIKey, map[string]string{"decision": "open_case", "violation": "counterfeit",
		"message": "The photos show a counterfeit logo on the dial."}, &e); code != http.StatusBadRequest || e.Error.Fields["listing_id"] == "" {
		t.Errorf("a case without a listing: %d %+v", code, e.Error)
	}
	if code := call(t, "POST", d.base+"/v1/reports/"+r1.ID+"/decision", rev.APIKey, map[string]string{"decision": "dismiss", "message": "Authentic: the serial checks out."}, &decided); code != http.StatusOK ||
		decided.Report.Status != "dismissed" || decided.Case != nil {
		t.Errorf("dismiss: %d %+v", code, decided)
	}
	if code := call(t, "POST", d.base+"/v1/reports/"+r1.ID+"/decision", rev.APIKey, map[string]string{"decision": "dismiss", "message": "again"}, &e); code != http.StatusConflict {
		t.Errorf("a decided report decided again: %d, want 409", code)
	}
	if code := call(t, "POST", d.base+"/v1/reports/rep_nothing/decision", rev.APIKey, map[string]string{"decision": "dismiss", "message": "x"}, &e); code != http.StatusNotFound {
		t.Errorf("a decision on nothing: %d, want 404", code)
	}
	if code := call(t, "POST", d.base+"/v1/reports/"+r2.ID+"/decision", rev.APIKey, map[string]string{"decision": "open_case", "violation": "counterfeit",
		"message": "The photos show a counterfeit logo on the dial."}, &decided); code != http.StatusOK ||
		decided.Report.Status != "case_opened" || decided.Case == nil || decided.Report.CaseID == nil || *decided.Report.CaseID != decided.Case.ID {
		t.Fatalf("open a case: %d %+v", code, decided)
	}
	var c caseResp
	if code := call(t, "GET", d.base+"/v1/cases/"+decided.Case.ID, sellerKey, nil, &c); code != http.StatusOK || c.Kind != "policy_violation" || c.SellerID != "rosa" {
		t.Errorf("the seller's case: %d %+v", code, c)
	}
	if call(t, "GET", d.base+"/v1/reports?status=open", rev.APIKey, nil, &list); len(list.Reports) != 0 {
		t.Errorf("open reports after triage: %+v", list.Reports)
	}
}
