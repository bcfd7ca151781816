package health

import (
	"fmt"
	"strings"
	"time"
)

// Rating settings of the built-in policy.
const (
	RatingStart         = 200
	RatingMax           = 1000
	RatingLookback      = 180 * 24 * time.Hour
	RatingOrdersPerStep = 200 // defect-free shipped orders earning one step
	RatingStep          = 4
	RatingMaxBonus      = 800
)

// Band is the reading of a score.
type Band string

const (
	Healthy   Band = "healthy"
	AtRisk    Band = "at_risk"
	Unhealthy Band = "unhealthy"
)

// BandOf places a score in its band.
func BandOf(score int) Band {
	switch {
	case score >= 200:
		return Healthy
	case score >= 100:
		return AtRisk
	default:
		return Unhealthy
	}
}

// Severity is the points a case takes from the rating, by its enforcement.
func Severity(e Enforcement) int {
	switch e {
	case AccountSuspension:
		return 200
	case OfferRestriction:
		return 100
	case ListingDeactivation:
		return 50
	default: // a notice
		return 20
	}
}

// Bonus is what defect-free shipped orders of the last 180 days add to the score.
func Bonus(defectFreeShipped int64) int {
	b := int(defectFreeShipped/RatingOrdersPerStep) * RatingStep
	if b > RatingMaxBonus {
		return RatingMaxBonus
	}
	return b
}

// Score adds the bonus and takes the case penalties, clamped to 0..1000.
func Score(defectFreeShipped int64, penalties int) int {
	s := RatingStart + Bonus(defectFreeShipped) - penalties
	switch {
	case s < 0:
		return 0
	case s > RatingMax:
		return RatingMax
	}
	return s
}

// Penalties is what the cases opened since `since` take from the score: each by
// the severity of its enforcement (a warning that never led to one counts as a
// notice), given back in full when an appeal reinstated the seller.
func Penalties(cases []CaseStanding, since time.Time) int {
	p := 0
	for _, c := range cases {
		if c.OpenedAt.Before(since) || c.State == Reinstated || c.State == Withdrawn {
			continue
		}
		p += Severity(c.Enforcement)
	}
	return p
}

// RatingChange is one change of a seller's score with its cause: a ledger entry.
type RatingChange struct {
	Key   string // unique for the seller, so a change recorded again is recorded once
	Delta int
	Cause string
}

// CaseRatingChange is the change of score a case's transition from `from` to its
// present state causes: a case takes a notice's points when it opens, the rest of
// its enforcement's when enforced, and gives all back on reinstatement.
func CaseRatingChange(c Case, from CaseState) (RatingChange, bool) {
	notice := Severity(NoEnforcement)
	key := "case/" + c.ID + "/"
	enforcement := strings.ReplaceAll(string(c.Enforcement), "_", " ")
	switch {
	case from == "" && c.State == Enforced: // a policy case, enforced at once
		return RatingChange{key + "opened", -Severity(c.Enforcement), fmt.Sprintf("case %s opened: %s", c.ID, enforcement)}, true
	case from == "":
		what := string(c.Metric)
		if what == "" {
			what = c.Violation
		}
		return RatingChange{key + "opened", -notice, fmt.Sprintf("case %s opened: %s missed its target", c.ID, what)}, true
	case (from == Warned || from == PendingConfirmation) && c.State == Enforced:
		return RatingChange{key + "enforced", notice - Severity(c.Enforcement), fmt.Sprintf("case %s enforced: %s", c.ID, enforcement)}, true
	case from != Withdrawn && c.State == Withdrawn:
		// What the case took so far: a notice's points while warned, its
		// enforcement's once enforced (Lifted is none for a warning).
		return RatingChange{key + "withdrawn", Severity(c.Lifted), fmt.Sprintf("case %s withdrawn by a reviewer, points given back", c.ID)}, true
	case from != Reinstated && c.State == Reinstated:
		return RatingChange{key + "reinstated", Severity(c.Enforcement), fmt.Sprintf("case %s: appeal approved, points given back", c.ID)}, true
	}
	return RatingChange{}, false
}

// BonusCause says why an evaluation moved a seller's rating bonus.
func BonusCause(defectFreeShipped int64, bonus int) string {
	return fmt.Sprintf("%d orders shipped without a defect in the last 180 days: +%d for every %d, now +%d",
		defectFreeShipped, RatingStep, RatingOrdersPerStep, bonus)
}

// ExpiredPenaltyCause says why a case's points came back: it was opened before
// the rating's lookback, so it no longer counts.
func ExpiredPenaltyCause(caseID string, points int) string {
	return fmt.Sprintf("case %s opened more than %d days ago: its %d points no longer count", caseID, int(RatingLookback.Hours()/24), points)
}
