package health_test

import (
	"testing"

	"github.com/accounthealth/accounthealth/health"
)

func TestStatusOf(t *testing.T) {
	c := func(s health.CaseState, e health.Enforcement) health.CaseStanding {
		return health.CaseStanding{State: s, Enforcement: e}
	}
	tests := []struct {
		name  string
		cases []health.CaseStanding
		want  health.SellerStatus
	}{
		{"no cases", nil, health.Active},
		{"empty list", []health.CaseStanding{}, health.Active},
		{"warned restriction", []health.CaseStanding{c(health.Warned, health.OfferRestriction)}, health.AtRiskStatus},
		{"warned suspension is still only at risk", []health.CaseStanding{c(health.Warned, health.AccountSuspension)}, health.AtRiskStatus},
		{"warned notice", []health.CaseStanding{c(health.Warned, health.NoEnforcement)}, health.AtRiskStatus},
		{"enforced suspension beats warned restriction",
			[]health.CaseStanding{c(health.Warned, health.OfferRestriction), c(health.Enforced, health.AccountSuspension)}, health.Suspended},
		{"enforced suspension beats warned restriction, other order",
			[]health.CaseStanding{c(health.Enforced, health.AccountSuspension), c(health.Warned, health.OfferRestriction)}, health.Suspended},
		{"enforced restriction", []health.CaseStanding{c(health.Enforced, health.OfferRestriction)}, health.Restricted},
		{"enforced listing deactivation", []health.CaseStanding{c(health.Enforced, health.ListingDeactivation)}, health.Restricted},
		{"enforced notice-only case", []health.CaseStanding{c(health.Enforced, health.NoEnforcement)}, health.Active},
		{"restriction beats warned", []health.CaseStanding{c(health.Warned, health.AccountSuspension), c(health.Enforced, health.OfferRestriction)}, health.Restricted},
		{"under review suspension", []health.CaseStanding{c(health.UnderReview, health.AccountSuspension)}, health.Suspended},
		{"info_requested restriction", []health.CaseStanding{c(health.InfoRequested, health.OfferRestriction)}, health.Restricted},
		{"info_requested suspension", []health.CaseStanding{c(health.InfoRequested, health.AccountSuspension)}, health.Suspended},
		{"deactivated suspension", []health.CaseStanding{c(health.Deactivated, health.AccountSuspension)}, health.DeactivatedSeller},
		{"deactivated suspension beats everything",
			[]health.CaseStanding{c(health.Deactivated, health.AccountSuspension), c(health.Enforced, health.AccountSuspension), c(health.Warned, health.OfferRestriction)},
			health.DeactivatedSeller},
		{"deactivated suspension after a reinstated one",
			[]health.CaseStanding{c(health.Reinstated, health.AccountSuspension), c(health.Deactivated, health.AccountSuspension)}, health.DeactivatedSeller},
		{"deactivated restriction leaves the restriction", []health.CaseStanding{c(health.Deactivated, health.OfferRestriction)}, health.Restricted},
		{"deactivated listing case leaves a restriction", []health.CaseStanding{c(health.Deactivated, health.ListingDeactivation)}, health.Restricted},
		{"resolved case", []health.CaseStanding{c(health.Resolved, health.AccountSuspension)}, health.Active},
		{"reinstated case", []health.CaseStanding{c(health.Reinstated, health.AccountSuspension)}, health.Active},
		{"reinstated restriction", []health.CaseStanding{c(health.Reinstated, health.OfferRestriction)}, health.Active},
		{"resolved and reinstated", []health.CaseStanding{c(health.Resolved, health.OfferRestriction), c(health.Reinstated, health.AccountSuspension)}, health.Active},
		{"closed cases do not hide an open warning",
			[]health.CaseStanding{c(health.Reinstated, health.AccountSuspension), c(health.Warned, health.OfferRestriction), c(health.Resolved, health.OfferRestriction)},
			health.AtRiskStatus},
		{"unknown state counts for nothing", []health.CaseStanding{c("archived", health.AccountSuspension)}, health.Active},
	}
	for _, tt := range tests {
		if got := health.StatusOf(tt.cases); got != tt.want {
			t.Errorf("%s: StatusOf(%v) = %q, want %q", tt.name, tt.cases, got, tt.want)
		}
	}
}

func TestCaseStateOpen(t *testing.T) {
	tests := map[health.CaseState]bool{
		health.Warned: true, health.Enforced: true, health.UnderReview: true, health.InfoRequested: true,
		health.Resolved: false, health.Reinstated: false, health.Deactivated: false, "": false,
	}
	for s, want := range tests {
		if got := s.Open(); got != want {
			t.Errorf("CaseState(%q).Open() = %v, want %v", s, got, want)
		}
	}
}
