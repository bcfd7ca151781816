package health

import "time"

// CaseKind says what opened a case.
type CaseKind string

const (
	MetricBreach    CaseKind = "metric_breach"
	PolicyViolation CaseKind = "policy_violation"
)

// CaseState is where a case stands in its lifecycle.
type CaseState string

const (
	Warned        CaseState = "warned"
	Resolved      CaseState = "resolved"
	Enforced      CaseState = "enforced"
	UnderReview   CaseState = "under_review"
	InfoRequested CaseState = "info_requested"
	Reinstated    CaseState = "reinstated"
	Deactivated   CaseState = "deactivated"
	// Withdrawn: a reviewer took the case back (a mistake, a bad measurement):
	// nothing it did stands, and its points are given back.
	Withdrawn CaseState = "withdrawn"
	// PendingConfirmation: the grace period ended in breach of a suspending
	// metric and the policy asks a reviewer to confirm before anything is enforced.
	PendingConfirmation CaseState = "pending_confirmation"
)

// CaseStates lists every state a case can be in.
var CaseStates = []CaseState{Warned, Resolved, Enforced, UnderReview, InfoRequested, PendingConfirmation, Reinstated, Deactivated, Withdrawn}

// Open reports whether the case still weighs on the seller.
func (s CaseState) Open() bool {
	switch s {
	case Warned, Enforced, UnderReview, InfoRequested, PendingConfirmation:
		return true
	}
	return false
}

// Enforcement is what a case does to the seller.
type Enforcement string

const (
	NoEnforcement       Enforcement = "none"
	AccountSuspension   Enforcement = "account_suspension"
	OfferRestriction    Enforcement = "offer_restriction"
	ListingDeactivation Enforcement = "listing_deactivation"
)

// EnforcementFor is the enforcement a breach of a metric with action a leads to.
func EnforcementFor(a Action) Enforcement {
	switch a {
	case Suspend:
		return AccountSuspension
	case Restrict:
		return OfferRestriction
	}
	return NoEnforcement
}

// SellerStatus is the seller's standing, which follows from their cases.
type SellerStatus string

const (
	Active            SellerStatus = "active"
	AtRiskStatus      SellerStatus = "at_risk"
	Restricted        SellerStatus = "restricted"
	Suspended         SellerStatus = "suspended"
	DeactivatedSeller SellerStatus = "deactivated"
)

// CaseStanding is what the seller status needs to know of one case.
type CaseStanding struct {
	State       CaseState
	Enforcement Enforcement
	OpenedAt    time.Time
}

// StatusOf derives the seller status from their cases: the worst one wins.
// A deactivated account-suspension case ends the account; a deactivated
// restriction or listing case leaves the restriction in force.
func StatusOf(cases []CaseStanding) SellerStatus {
	rank := map[SellerStatus]int{Active: 0, AtRiskStatus: 1, Restricted: 2, Suspended: 3, DeactivatedSeller: 4}
	worst := Active
	for _, c := range cases {
		s := Active
		switch {
		case c.State == Deactivated && c.Enforcement == AccountSuspension:
			s = DeactivatedSeller
		case c.State == Warned || c.State == PendingConfirmation: // nothing enforced until a reviewer confirms
			s = AtRiskStatus
		case c.State == Deactivated || c.State.Open():
			switch c.Enforcement {
			case AccountSuspension:
				s = Suspended
			case OfferRestriction, ListingDeactivation:
				s = Restricted
			}
		}
		if rank[s] > rank[worst] {
			worst = s
		}
	}
	return worst
}
