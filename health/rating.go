package health

import "time"

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
		if c.OpenedAt.Before(since) || c.State == Reinstated {
			continue
		}
		p += Severity(c.Enforcement)
	}
	return p
}
